// The timing of a schedule: a cron expression and an IANA zone checked together, and the next
// instants they give (the worker's own rules, DST included).
import { nextInstants } from "@opsconductor/core";
import { validationFailed, type ErrorDetail } from "../errors.server.ts";

/** How many upcoming instants every schedule response previews. */
export const NEXT_RUNS = 5;

/** The zone as the user wrote it (letter case fixed where possible), or undefined when the runtime does not know it. */
function knownZone(timezone: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
  // ICU answers with legacy links (Asia/Kolkata becomes Asia/Calcutta): keep the user's name then.
  return resolved.toLowerCase() === timezone.toLowerCase() ? resolved : timezone;
}

function fieldCountProblem(cron: string): string | undefined {
  if (cron.startsWith("@")) return undefined;
  const count = cron.split(/\s+/).length;
  if (count === 5 || count === 6) return undefined;
  return `must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; got ${count}`;
}

/** The next `count` instants of a cron expression in an IANA zone, after `from` (the worker's own rules, DST included). */
function upcoming(cron: string, timezone: string, from: Date, count: number): Date[] {
  return nextInstants(cron, timezone, from, count);
}

/**
 * Validates a cron expression and an IANA zone together, naming `body.cron` and `body.timezone`
 * with the reason, and returns the zone with the next instants.
 */
export function planSchedule(cron: string, timezone: string, from = new Date()): { timezone: string; nextRuns: Date[] } {
  const details: ErrorDetail[] = [];
  const zone = knownZone(timezone);
  if (!zone) details.push({ path: "body.timezone", message: `body.timezone "${timezone}" is not an IANA time zone such as Europe/London or America/New_York` });
  let nextRuns: Date[] = [];
  const fieldProblem = fieldCountProblem(cron);
  if (fieldProblem) details.push({ path: "body.cron", message: `body.cron ${fieldProblem}` });
  else {
    try {
      nextRuns = upcoming(cron, zone ?? "UTC", from, NEXT_RUNS);
      if (nextRuns.length === 0) details.push({ path: "body.cron", message: "body.cron never fires" });
    } catch (error) {
      details.push({ path: "body.cron", message: `body.cron is not a valid cron expression: ${(error as Error).message}` });
    }
  }
  if (details.length > 0) throw validationFailed(details);
  return { timezone: zone!, nextRuns };
}

// A stored schedule was valid when written; a zone the runtime forgot since must not break listing.
export function previewRuns(cron: string, timezone: string, from: Date): string[] {
  try {
    return upcoming(cron, timezone, from, NEXT_RUNS).map((d) => d.toISOString());
  } catch {
    return [];
  }
}
