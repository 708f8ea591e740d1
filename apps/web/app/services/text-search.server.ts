// The `q` filter of lists: a case-insensitive substring of any of a few text columns.

type ContainsAny<F extends string> = { OR: { [K in F]: { contains: string; mode: "insensitive" } }[] } | Record<string, never>;

/** Rows where any of `fields` contains `q`, ignoring case; no condition when there is no `q`. */
export function containsAny<F extends string>(q: string | undefined, fields: readonly F[]): ContainsAny<F> {
  if (!q) return {};
  return { OR: fields.map((field) => ({ [field]: { contains: q, mode: "insensitive" } })) } as ContainsAny<F>;
}
