// Cron expressions in IANA time zones. cron-parser only matches fields against wall-clock time
// (evaluated as UTC, where no clock ever jumps); turning wall-clock times into instants is done
// here, so daylight-saving transitions follow cronie's rules:
// - a schedule that names its hours (`30 1 * * *`) fires once per matching wall-clock time: a time
//   skipped by spring-forward fires at the first instant after the gap, and a time repeated by
//   fall-back fires at its first occurrence only;
// - a schedule that runs every hour (`0 * * * *`, `*/5 * * * *`, seconds-level ones) follows
//   elapsed time: it fires in both passes of a repeated hour and not at all in a skipped one, so an
//   hourly job still runs once per real hour.
// cron-parser's own `tz` option shifts a skipped time by the length of the gap (01:30 becomes 02:30)
// instead, which is why it is not used.
import { CronExpressionParser, type CronExpression } from "cron-parser";

/** Aliases cron-parser understands, accepted in place of the fields. */
const ALIASES: ReadonlySet<string> = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly", "@minutely", "@secondly", "@weekdays", "@weekends"]);
const DAY_MS = 24 * 3600 * 1000;

/** Why a cron expression or time zone was refused; `path` names the offending input. */
export interface CronProblem {
  path: "cron" | "timezone";
  message: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timezone, format);
  }
  return format;
}

/** True when `timezone` is a time zone this runtime knows (IANA names such as Europe/London). */
export function isValidTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timezone` from UTC at instant `t` (ms since the epoch), in ms, east positive. */
export function zoneOffsetMs(timezone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(new Date(t))) if (part.type !== "literal") parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

/** First instant in (lo, hi] whose offset differs from `lo`'s; the caller knows hi's differs. */
function transitionBetween(timezone: string, lo: number, hi: number): number {
  const before = zoneOffsetMs(timezone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffsetMs(timezone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instant a wall-clock time (given as if it were UTC) means in `timezone`; see the rules above. */
function firstInstantOfWallTime(timezone: string, wall: number): number {
  const before = zoneOffsetMs(timezone, wall - DAY_MS);
  const after = zoneOffsetMs(timezone, wall + DAY_MS);
  const offsets = [...new Set([before, after, zoneOffsetMs(timezone, wall)])].sort((a, b) => b - a);
  for (const offset of offsets) {
    if (zoneOffsetMs(timezone, wall - offset) === offset) return wall - offset;
  }
  // Inside a spring-forward gap: the clock resumes at the transition.
  if (after > before) return transitionBetween(timezone, wall - after, wall - before);
  return wall - zoneOffsetMs(timezone, wall);
}

function splitFields(cron: string): string[] {
  return cron.trim().split(/\s+/);
}

function parseFields(cron: string): CronExpression {
  const fields = splitFields(cron);
  const alias = fields.length === 1 && ALIASES.has(fields[0]!.toLowerCase());
  // cron-parser quietly reads 4 fields as if a leading field were missing; refuse that.
  if (!alias && fields.length !== 5 && fields.length !== 6) {
    throw new Error(`has ${fields.length} field${fields.length === 1 ? "" : "s"}; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`);
  }
  return CronExpressionParser.parse(fields.join(" "), { tz: "UTC", currentDate: new Date(0) });
}

/**
 * Instants at which `cron` fires in `timezone`, strictly after `after`, in ascending order. The
 * sequence is endless (stop consuming it); it throws on an invalid expression or time zone.
 * @example for (const at of cronInstants("0 9 * * 1-5", "Europe/London", new Date())) { ...; break; }
 */
export function* cronInstants(cron: string, timezone: string, after: Date): Generator<Date, never, undefined> {
  if (!isValidTimeZone(timezone)) throw new Error(`unknown time zone "${timezone}"`);
  const expression = parseFields(cron);
  const start = after.getTime();
  if (expression.fields.hour.values.length === 24) {
    // Elapsed-time mode: walk instants, one offset at a time.
    let last = start;
    let offset = zoneOffsetMs(timezone, start);
    expression.reset(new Date(start + offset));
    for (;;) {
      const candidate = expression.next().getTime() - offset;
      if (zoneOffsetMs(timezone, candidate) === offset) {
        last = candidate;
        yield new Date(candidate);
        continue;
      }
      const transition = transitionBetween(timezone, last, candidate);
      offset = zoneOffsetMs(timezone, transition);
      last = transition;
      // Resume just before the wall time the transition lands on (next() is strictly after).
      expression.reset(new Date(transition + offset - 1));
    }
  }
  let last = start;
  expression.reset(new Date(start + zoneOffsetMs(timezone, start)));
  for (;;) {
    const instant = firstInstantOfWallTime(timezone, expression.next().getTime());
    // Later passes over a repeated hour map to instants already given, and a whole skipped hour
    // maps to one instant: keep each instant once.
    if (instant > last) {
      last = instant;
      yield new Date(instant);
    }
  }
}

/** The next `count` instants of `cron` in `timezone` after `after`. */
export function nextInstants(cron: string, timezone: string, after: Date, count: number): Date[] {
  const result: Date[] = [];
  if (count <= 0) return result;
  for (const instant of cronInstants(cron, timezone, after)) {
    result.push(instant);
    if (result.length >= count) break;
  }
  return result;
}

/** The first instant of `cron` in `timezone` after `after`. */
export function nextInstant(cron: string, timezone: string, after: Date): Date {
  return nextInstants(cron, timezone, after, 1)[0]!;
}

/** Checks a cron expression (5 fields, or 6 with seconds first) and an IANA time zone; null when both are fine. */
export function validateCron(cron: string, timezone: string): CronProblem | null {
  if (typeof cron !== "string" || cron.trim() === "") return { path: "cron", message: "is empty; expected a cron expression such as 0 3 * * *" };
  if (!isValidTimeZone(timezone)) return { path: "timezone", message: `"${timezone}" is not a known time zone; use an IANA name such as Europe/London or UTC` };
  try {
    parseFields(cron);
  } catch (error) {
    return { path: "cron", message: `"${cron}" is not a valid cron expression: ${(error as Error).message}` };
  }
  try {
    nextInstant(cron, timezone, new Date());
  } catch (error) {
    return { path: "cron", message: `"${cron}" never fires: ${(error as Error).message}` };
  }
  return null;
}

/** True when `cron` is a valid expression in `timezone` (UTC when omitted). */
export function isValidCron(cron: string, timezone = "UTC"): boolean {
  return validateCron(cron, timezone) === null;
}
