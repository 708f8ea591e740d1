// Live run events over PostgreSQL NOTIFY. A notice only says *what changed* for which run; listeners
// read the rows themselves, so a notice never exceeds NOTIFY's 8000-byte payload limit and a
// listener that missed notices catches up from the table (output chunks carry a sequence).
import type { Db } from "../database/client.ts";

/** Channel of run-change notices: payload is a RunNotice as JSON. */
export const RUN_EVENTS_CHANNEL = "opsconductor_run_events";
/** Channel of run-control requests (cancel): payload is a RunControl as JSON. */
export const RUN_CONTROL_CHANNEL = "opsconductor_run_control";
/** Channel that wakes schedulers when schedules or the scheduler state change. */
export const SCHEDULES_CHANNEL = "opsconductor_schedules";

export interface RunNotice {
  runId: string;
  /** run: the run row changed; step: a step row changed; output: chunks up to `sequence` are stored. */
  kind: "run" | "step" | "output";
  sequence?: number;
}

export interface RunControl {
  runId: string;
  action: "cancel";
}

/** Sends a NOTIFY on `channel`; inside a transaction it is delivered at commit. */
export async function notify(db: Db, channel: string, payload: object): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${channel}, ${JSON.stringify(payload)})`;
}

/** Tells listeners that something of a run changed. */
export function notifyRun(db: Db, notice: RunNotice): Promise<void> {
  return notify(db, RUN_EVENTS_CHANNEL, notice);
}

/** Asks the worker executing a run to act on it. */
export function requestRunControl(db: Db, control: RunControl): Promise<void> {
  return notify(db, RUN_CONTROL_CHANNEL, control);
}
