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
import { CronExpression, CronExpressionParser, type CronFieldCollection } from "cron-parser";

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

// cron-parser's parse costs ~150 µs, many times one step of an expression, and the scheduler plans
// every due schedule with it (bench/scheduler.ts): parsed fields are kept per expression text.
const parsedFields = new Map<string, CronFieldCollection>();
const PARSED_CACHE_SIZE = 5000;

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
  const text = fields.join(" ");
  let parsed = parsedFields.get(text);
  if (!parsed) {
    parsed = CronExpressionParser.parse(text, { tz: "UTC", currentDate: new Date(0) }).fields;
    if (parsedFields.size >= PARSED_CACHE_SIZE) parsedFields.delete(parsedFields.keys().next().value!);
    parsedFields.set(text, parsed);
  }
  // A fresh expression per use: its position is state, the parsed fields are not.
  return new CronExpression(parsed, { tz: "UTC", currentDate: new Date(0) });
}

/** One firing as the loop computes it: the instant, and how it relates to the local clock. */
interface Firing {
  at: number;
  /** The local wall-clock time the expression matched, written as if it were UTC. */
  wall: number;
  /** Fixed hours (once per wall-clock time) or every hour (elapsed time); see the rules above. */
  mode: "wall" | "elapsed";
  /** Elapsed mode: a spring-forward gap lies between the previous firing and this one. */
  afterGap: boolean;
}

function* firings(cron: string, timezone: string, after: Date): Generator<Firing, never, undefined> {
  if (!isValidTimeZone(timezone)) throw new Error(`unknown time zone "${timezone}"`);
  const expression = parseFields(cron);
  const start = after.getTime();
  if (expression.fields.hour.values.length === 24) {
    // Elapsed-time mode: walk instants, one offset at a time.
    let last = start;
    let offset = zoneOffsetMs(timezone, start);
    let afterGap = false;
    expression.reset(new Date(start + offset));
    for (;;) {
      const wall = expression.next().getTime();
      const candidate = wall - offset;
      if (zoneOffsetMs(timezone, candidate) === offset) {
        last = candidate;
        yield { at: candidate, wall, mode: "elapsed", afterGap };
        afterGap = false;
        continue;
      }
      const transition = transitionBetween(timezone, last, candidate);
      const nextOffset = zoneOffsetMs(timezone, transition);
      if (nextOffset > offset) afterGap = true;
      offset = nextOffset;
      last = transition;
      // Resume just before the wall time the transition lands on (next() is strictly after).
      expression.reset(new Date(transition + offset - 1));
    }
  }
  let last = start;
  expression.reset(new Date(start + zoneOffsetMs(timezone, start)));
  for (;;) {
    const wall = expression.next().getTime();
    const instant = firstInstantOfWallTime(timezone, wall);
    // Later passes over a repeated hour map to instants already given, and a whole skipped hour
    // maps to one instant: keep each instant once.
    if (instant > last) {
      last = instant;
      yield { at: instant, wall, mode: "wall", afterGap: false };
    }
  }
}

/**
 * Instants at which `cron` fires in `timezone`, strictly after `after`, in ascending order. The
 * sequence is endless (stop consuming it); it throws on an invalid expression or time zone.
 * @example for (const at of cronInstants("0 9 * * 1-5", "Europe/London", new Date())) { ...; break; }
 */
export function* cronInstants(cron: string, timezone: string, after: Date): Generator<Date, never, undefined> {
  for (const firing of firings(cron, timezone, after)) yield new Date(firing.at);
  // firings() never ends; this only tells the type checker so.
  throw new Error("cron firings ended");
}

/** How an instant of a preview meets a daylight-saving change in the schedule's zone. */
export type CronDstMark =
  /** The matched local time does not exist (spring forward); the scheduler fires at the first instant after the gap. */
  | "skipped"
  /** The local time happens twice (fall back); a fixed-hour schedule fires at the first pass only, an every-hour one in both. */
  | "repeated"
  /** Every-hour schedule: the clock jumped forward since the previous firing, and nothing fired in the gap. */
  | "gap"
  /** The clocks change on this local day, but this time exists once and fires normally. */
  | "change-day";

/** One upcoming instant of a schedule, with its local time and any DST mark. */
export interface CronPreviewInstant {
  at: Date;
  /** Local wall-clock time in the schedule's zone, `YYYY-MM-DDTHH:MM:SS`. */
  local: string;
  /** Offset from UTC at that instant, in minutes, east positive. */
  offsetMinutes: number;
  dst: CronDstMark | null;
  /** What the scheduler does there, in one sentence; null without a mark. */
  note: string | null;
}

const wallText = (wall: number) => new Date(wall).toISOString().slice(0, 19);
const hhmm = (wall: number) => new Date(wall).toISOString().slice(11, 16);

/** True when the wall-clock time `wall` maps to two instants in `timezone`. */
function isRepeatedWallTime(timezone: string, wall: number): boolean {
  const offsets = new Set([zoneOffsetMs(timezone, wall - DAY_MS), zoneOffsetMs(timezone, wall + DAY_MS), zoneOffsetMs(timezone, wall)]);
  let matches = 0;
  for (const offset of offsets) if (zoneOffsetMs(timezone, wall - offset) === offset) matches++;
  return matches > 1;
}

/**
 * The next `count` instants of `cron` in `timezone` after `after`, each marked where it meets a
 * daylight-saving change, with what the scheduler does there (the same loop the scheduler uses).
 */
export function cronPreview(cron: string, timezone: string, after: Date, count: number): CronPreviewInstant[] {
  const result: CronPreviewInstant[] = [];
  if (count <= 0) return result;
  for (const firing of firings(cron, timezone, after)) {
    const offset = zoneOffsetMs(timezone, firing.at);
    const actualWall = firing.at + offset;
    const day = wallText(firing.wall).slice(0, 10);
    let dst: CronDstMark | null = null;
    let note: string | null = null;
    if (firing.mode === "wall" && actualWall !== firing.wall) {
      dst = "skipped";
      note = `${hhmm(firing.wall)} does not exist on ${day} (clocks spring forward); the scheduler fires when the clock resumes, at ${hhmm(actualWall)}.`;
    } else if (isRepeatedWallTime(timezone, actualWall)) {
      dst = "repeated";
      note =
        firing.mode === "wall"
          ? `${hhmm(actualWall)} happens twice on ${day} (clocks fall back); the scheduler fires at the first one only.`
          : `${hhmm(actualWall)} happens twice on ${day} (clocks fall back); an every-hour schedule follows real time and fires in both passes.`;
    } else if (firing.afterGap) {
      dst = "gap";
      note = `The clocks sprang forward before this time; an every-hour schedule follows real time, so nothing fired in the skipped local hour.`;
    } else if (firing.mode === "wall") {
      const dayStart = Math.floor(actualWall / DAY_MS) * DAY_MS;
      const first = zoneOffsetMs(timezone, dayStart - offset);
      const last = zoneOffsetMs(timezone, dayStart + DAY_MS - 1 - offset);
      if (first !== last) {
        dst = "change-day";
        note = `The clocks ${last > first ? "spring forward" : "fall back"} on ${day}; ${hhmm(actualWall)} exists once and fires normally, ${last > first ? "one hour less" : "one hour more"} after the previous day's run.`;
      }
    }
    result.push({ at: new Date(firing.at), local: wallText(actualWall), offsetMinutes: offset / 60000, dst, note });
    if (result.length >= count) break;
  }
  return result;
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
