// The next instants of a schedule, computed in the browser by core's cron code (the loop the
// scheduler runs), in the schedule's zone and the browser's, with DST changes marked and explained.
import { cronPreview, isValidTimeZone, validateCron, zoneOffsetMs, type CronPreviewInstant } from "@opsconductor/core/schema";
import { useEffect, useId, useMemo, useState } from "react";
import { CONTROL, MUTED } from "../ui/styles.ts";

const MARK_LABEL = { skipped: "DST: time skipped", repeated: "DST: time repeated", gap: "DST: hour skipped", "change-day": "DST change day" } as const;

function inZone(at: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" }).format(at);
}

/** Up to `count` instants from `from`, or null when the expression or zone is not valid. */
function compute(cron: string, timezone: string, from: Date, count: number): CronPreviewInstant[] | null {
  if (validateCron(cron, timezone)) return null;
  try {
    return cronPreview(cron, timezone, from, count);
  } catch {
    return null;
  }
}

/** The preview table; `now` comes from the loader so server and browser draw the same rows. */
export function CronPreview({ cron, timezone, now, count = 10 }: { cron: string; timezone: string; now: string; count?: number }) {
  const id = useId();
  const [from, setFrom] = useState(now.slice(0, 10));
  const [browserZone, setBrowserZone] = useState<string | null>(null);
  useEffect(() => setBrowserZone(Intl.DateTimeFormat().resolvedOptions().timeZone), []);
  const start = useMemo(() => {
    const today = now.slice(0, 10);
    // Today: from now; another day: from the start of that day in the schedule's zone.
    if (from === today || !/^\d{4}-\d{2}-\d{2}$/.test(from) || !isValidTimeZone(timezone.trim())) return new Date(now);
    const midnight = Date.parse(`${from}T00:00:00Z`);
    return new Date(midnight - zoneOffsetMs(timezone.trim(), midnight) - 1);
  }, [from, now, timezone]);
  const rows = useMemo(() => compute(cron.trim(), timezone.trim(), start, count), [cron, timezone, start, count]);
  const marked = rows?.filter((r) => r.dst) ?? [];
  return (
    <section aria-labelledby={`${id}-title`} className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h2 id={`${id}-title`} className="text-base font-semibold">
            Next {count} runs
          </h2>
          <p className={`text-sm ${MUTED}`}>Computed with the scheduler&apos;s own cron rules, daylight-saving changes included.</p>
        </div>
        <div>
          <label htmlFor={`${id}-from`} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
            Preview from
          </label>
          <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} className={`mt-1 ${CONTROL}`} />
        </div>
      </div>
      {rows === null ? (
        <p className={`text-sm ${MUTED}`}>Fix the expression or time zone to see a preview.</p>
      ) : (
        // On a phone the table scrolls sideways inside this frame, which keyboard users can focus to scroll.
        <div className="overflow-x-auto rounded focus-visible:outline-2 focus-visible:outline-sky-500" tabIndex={0} role="region" aria-labelledby={`${id}-title`}>
          <table className="w-full text-left text-sm" data-testid="cron-preview">
            <caption className="sr-only">Next runs in the schedule&apos;s zone and yours</caption>
            <thead>
              <tr className="border-b border-slate-200 dark:border-slate-700">
                <th scope="col" className="py-2 pr-3 font-medium">
                  In {timezone}
                </th>
                <th scope="col" className="py-2 pr-3 font-medium">
                  In your zone{browserZone ? ` (${browserZone})` : ""}
                </th>
                <th scope="col" className="py-2 font-medium">
                  Daylight saving
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.at.toISOString()} className="border-b border-slate-100 align-top dark:border-slate-800" data-dst={row.dst ?? undefined}>
                  <td className="py-2 pr-3 whitespace-nowrap tabular-nums">{inZone(row.at, timezone)}</td>
                  <td className="py-2 pr-3 whitespace-nowrap tabular-nums">{browserZone ? inZone(row.at, browserZone) : row.at.toISOString()}</td>
                  <td className="py-2">
                    {row.dst ? (
                      <>
                        <span className="rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-900/40 dark:text-amber-200">{MARK_LABEL[row.dst]}</span>
                        <p className={`mt-1 text-xs ${MUTED}`}>{row.note}</p>
                      </>
                    ) : (
                      <span className={MUTED}>—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows !== null && marked.length === 0 && <p className={`text-sm ${MUTED}`}>No daylight-saving change among these runs.</p>}
    </section>
  );
}
