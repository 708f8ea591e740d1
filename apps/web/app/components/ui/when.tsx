/**
 * `at` in UTC to the minute ("2026-12-02 04:05 UTC"), or to the second: the server and the browser
 * write it the same way in any time zone, so hydration never disagrees.
 */
export function formatWhen(at: Date | string, seconds = false): string {
  return `${new Date(at).toISOString().slice(0, seconds ? 19 : 16).replace("T", " ")} UTC`;
}

/** A point in time as a <time> element (UTC; the exact instant in `dateTime` and the tooltip). */
export function When({ at, seconds = false }: { at: Date | string; seconds?: boolean }) {
  const iso = new Date(at).toISOString();
  return (
    <time dateTime={iso} title={iso} className="whitespace-nowrap">
      {formatWhen(at, seconds)}
    </time>
  );
}
