// An instant in a named zone, and in the browser's own zone (drawn after hydration, UTC before, so
// the server's render matches).
import { useEffect, useState } from "react";
import { MUTED } from "../ui/styles.ts";

/** `at` formatted in `zone`, with the zone's abbreviation. */
export function formatInZone(at: Date | string, zone: string): string {
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" }).format(new Date(at));
  } catch {
    return new Date(at).toISOString();
  }
}

/** The instant in the schedule's zone and, on a second line, in the browser's. */
export function DualTime({ at, zone }: { at: Date | string | null; zone: string }) {
  const [browser, setBrowser] = useState<string | null>(null);
  useEffect(() => setBrowser(Intl.DateTimeFormat().resolvedOptions().timeZone), []);
  if (!at) return <span className={MUTED}>—</span>;
  return (
    <span className="block whitespace-nowrap tabular-nums">
      <time dateTime={new Date(at).toISOString()}>{formatInZone(at, zone)}</time>
      {browser && browser !== zone && <span className={`block text-xs ${MUTED}`}>{formatInZone(at, browser)} (yours)</span>}
    </span>
  );
}
