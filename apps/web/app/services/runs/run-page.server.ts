// What the run page shows at first: the run, its steps, the schedule that fired it, and the log's
// state with the lines of its first and last screens, read straight from the services.
import type { Db } from "@opsconductor/db";
import { listSteps, getRun, secretParameterNames } from "./queries.server.ts";
import { readRunLog, runLogSections } from "./log.server.ts";

/** Lines of the first screens the page is rendered with (from the top, and from the end of a live run). */
const FIRST_LINES = 200;

/** The run page's data for `runId` (404 when there is no such run). */
export async function runPage(db: Db, runId: string) {
  const run = await getRun(db, runId);
  const [steps, schedule, version] = await Promise.all([
    listSteps(db, runId),
    run.scheduleId ? db.schedule.findUnique({ where: { id: run.scheduleId }, select: { id: true, name: true, cron: true } }) : null,
    db.jobVersion.findUnique({ where: { id: run.jobVersionId }, select: { definition: true } }),
  ]);
  const head = await readRunLog(db, runId, 1, FIRST_LINES);
  const tailFrom = Math.max(FIRST_LINES + 1, head.lineCount - FIRST_LINES + 1);
  const tail = head.lineCount > FIRST_LINES ? await readRunLog(db, runId, tailFrom, FIRST_LINES) : null;
  // The tail read may have seen more output than the head: the later state describes both.
  const state = tail ?? head;
  // Read last, then cut to the lines the snapshot covers: live output after it brings the rest.
  const sections = await runLogSections(db, runId);
  const segments = sections.segments.filter((s) => s.from <= state.lineCount).map((s) => ({ ...s, to: Math.min(s.to, state.lineCount) }));
  const markers = sections.markers.filter((m) => m.line <= state.lineCount);
  // The worker's notice when the run's output reached RUN_OUTPUT_MAX_BYTES (apps/worker/src/recorder.ts).
  const [cap] = await db.$queryRaw<{ truncated: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM run_output_chunks WHERE run_id = ${runId}::uuid AND stream = 'system' AND strpos(text, '[output truncated:') > 0) AS truncated`;
  const secrets = secretParameterNames(version?.definition).filter((name) => name in run.parameters);
  return {
    run,
    steps,
    schedule,
    secretParameters: secrets,
    log: {
      lineCount: state.lineCount,
      lastSequence: state.lastSequence,
      tail: state.tail,
      lines: [...head.lines, ...(tail?.lines ?? [])],
      segments,
      markers,
      truncated: cap?.truncated ?? false,
    },
  };
}
