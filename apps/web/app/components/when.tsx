/** The minute of `at` in UTC, as "2026-12-02 04:05 UTC": the server and the browser write it the same way in any time zone. */
export function formatWhen(at: Date | string): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A point in time as a <time> element (UTC to the minute; the exact instant in `dateTime` and the tooltip). */
export function When({ at }: { at: Date | string }) {
  const iso = new Date(at).toISOString();
  return (
    <time dateTime={iso} title={iso} className="whitespace-nowrap">
      {formatWhen(at)}
    </time>
  );
}
