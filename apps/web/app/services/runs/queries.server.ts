// Reading runs: listing, one run, and its steps with their output. The worker owns a run's progress;
// the web app only reads it (and asks for a cancel or a fresh run, commands.server.ts).
import { MASK } from "@opsconductor/core";
import { OutputStream, type Db, type Prisma, type RunStatus } from "@opsconductor/db";
import type { RunHistoryQuery, RunListQuery } from "../../schemas/runs.ts";
import { notFound } from "../errors.server.ts";
import { newestFirst, sortedPage } from "../pagination.server.ts";

const OUTPUT_STREAMS = Object.values(OutputStream);
/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>(["succeeded", "failed", "canceled", "timed_out"]);
/** The most output text (UTF-8 bytes) one GET /api/runs/{id}/steps answer carries. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

const runListInclude = {
  job: { select: { name: true } },
  jobVersion: { select: { number: true } },
  requestedBy: { select: { id: true, username: true } },
} satisfies Prisma.JobRunInclude;
const runDetailInclude = {
  job: { select: { name: true } },
  jobVersion: { select: { number: true, definition: true } },
  requestedBy: { select: { id: true, username: true } },
} satisfies Prisma.JobRunInclude;

type ListedRun = Prisma.JobRunGetPayload<{ include: typeof runListInclude }>;
type DetailedRun = Prisma.JobRunGetPayload<{ include: typeof runDetailInclude }>;

/** Names of the parameters a job definition declares `secret` (raw or parsed definition). */
export function secretParameterNames(definition: unknown): string[] {
  const parameters = (definition as { parameters?: unknown } | null)?.parameters;
  if (!parameters || typeof parameters !== "object") return [];
  return Object.entries(parameters)
    .filter(([, decl]) => typeof decl === "object" && decl !== null && (decl as { type?: unknown }).type === "secret")
    .map(([name]) => name);
}

/** A run row as lists show it. */
export function toRunSummaryView(run: ListedRun) {
  return {
    id: run.id,
    jobId: run.jobId,
    jobName: run.job.name,
    jobVersionId: run.jobVersionId,
    versionNumber: run.jobVersion.number,
    status: run.status,
    trigger: run.trigger,
    scheduleId: run.scheduleId,
    requestedBy: run.requestedBy ? { id: run.requestedBy.id, username: run.requestedBy.username } : null,
    attempt: run.attempt,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    cancelRequestedAt: run.cancelRequestedAt,
    error: run.error,
    /** When retention dropped the run's output (its status and steps stay); null while it has it. */
    outputPrunedAt: run.outputPrunedAt,
  };
}

export type RunView = ReturnType<typeof toRunSummaryView> & { parameters: Record<string, unknown> };

// Secret values are never stored, but mask again what the definition calls secret in case a writer slipped.
export function toRunView(run: DetailedRun): RunView {
  const parameters = run.parameters && typeof run.parameters === "object" && !Array.isArray(run.parameters) ? { ...(run.parameters as Record<string, unknown>) } : {};
  for (const name of secretParameterNames(run.jobVersion.definition)) if (name in parameters) parameters[name] = MASK;
  return { ...toRunSummaryView(run), parameters };
}

/** The filters of a run list, for the API and the Runs page alike. */
function runWhere(query: { job?: string; status?: RunStatus[]; trigger?: RunListQuery["trigger"]; target?: string; from?: string; to?: string }): Prisma.JobRunWhereInput {
  const where: Prisma.JobRunWhereInput[] = [];
  if (query.job) where.push({ jobId: query.job });
  if (query.status) where.push({ status: { in: query.status } });
  if (query.trigger) where.push({ trigger: query.trigger });
  if (query.target) where.push({ steps: { some: { targetId: query.target } } });
  if (query.from) where.push({ queuedAt: { gte: new Date(query.from) } });
  if (query.to) where.push({ queuedAt: { lt: new Date(query.to) } });
  return { AND: where };
}

/** Runs newest first (by queuedAt), filtered, one keyset page at a time. */
export async function listRuns(db: Db, query: RunListQuery) {
  const keyset = newestFirst(query, "queuedAt");
  const rows = await db.jobRun.findMany({ include: runListInclude, ...keyset.args(runWhere(query)) });
  return keyset.page(rows.map(toRunSummaryView));
}

const FAILED_STEP_STATUSES: StepStatusName[] = ["failed", "timed_out"];
type StepStatusName = Prisma.JobRunStepGetPayload<object>["status"];

/** The Runs page's list: filtered, in either order of queuedAt, with each run's first failing step. */
export async function runHistory(db: Db, query: RunHistoryQuery) {
  const keyset = sortedPage(query, { column: "queuedAt", direction: query.sort.direction, kind: "date" });
  const rows = await db.jobRun.findMany({
    include: { ...runListInclude, steps: { where: { status: { in: FAILED_STEP_STATUSES } }, orderBy: { index: "asc" }, take: 1, select: { index: true, name: true, status: true } } },
    ...keyset.args(runWhere({ ...query, status: query.status ? [query.status] : undefined })),
  });
  return keyset.page(rows.map((row) => ({ ...toRunSummaryView(row), failedStep: row.steps[0] ?? null })));
}

/** Jobs and targets to filter the Runs page by, by name. */
export async function runFilterChoices(db: Db) {
  const [jobs, targets] = await Promise.all([
    db.job.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" }, take: 500 }),
    db.target.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" }, take: 500 }),
  ]);
  return { jobs, targets };
}

/** One run with its job name, version number and (masked) parameters; 404 when missing. */
export async function getRun(db: Db, runId: string): Promise<RunView> {
  const run = await db.jobRun.findUnique({ where: { id: runId }, include: runDetailInclude });
  if (!run) throw notFound("run");
  return toRunView(run);
}

const stepSelect = {
  id: true,
  index: true,
  stepKey: true,
  name: true,
  type: true,
  targetId: true,
  targetName: true,
  status: true,
  exitCode: true,
  startedAt: true,
  finishedAt: true,
  error: true,
} satisfies Prisma.JobRunStepSelect;

/** A run's steps in index order, without output. */
export function listSteps(db: Db, runId: string) {
  return db.jobRunStep.findMany({ where: { runId }, select: stepSelect, orderBy: { index: "asc" } });
}
export type StepView = Awaited<ReturnType<typeof listSteps>>[number];

type StreamTexts = Record<OutputStream, string>;
const emptyTexts = (): StreamTexts => Object.fromEntries(OUTPUT_STREAMS.map((s) => [s, ""])) as StreamTexts;

/**
 * A run's steps with their output concatenated per stream, from the chunks after `afterSequence`,
 * at most MAX_OUTPUT_BYTES of text: `truncated` says more follows, fetched with
 * `afterSequence=<lastSequence>`. Output not tied to a step is in the top-level `output`.
 */
export async function getRunSteps(db: Db, runId: string, afterSequence: number | undefined, maxBytes = MAX_OUTPUT_BYTES) {
  const run = await db.jobRun.findUnique({ where: { id: runId }, select: { id: true, status: true } });
  if (!run) throw notFound("run");
  const steps = await listSteps(db, runId);
  const byStep = new Map<string, StreamTexts>(steps.map((s) => [s.id, emptyTexts()]));
  const runOutput = emptyTexts();
  let lastSequence = afterSequence ?? null;
  let bytes = 0;
  let truncated = false;
  const BATCH = 1000;
  for (;;) {
    const chunks = await db.runOutputChunk.findMany({
      where: { runId, ...(lastSequence !== null ? { sequence: { gt: lastSequence } } : {}) },
      select: { stepId: true, stream: true, sequence: true, text: true },
      orderBy: { sequence: "asc" },
      take: BATCH,
    });
    for (const chunk of chunks) {
      const size = Buffer.byteLength(chunk.text);
      // The first chunk always fits, so a client paging through the output always advances.
      if (bytes > 0 && bytes + size > maxBytes) {
        truncated = true;
        break;
      }
      bytes += size;
      const texts = (chunk.stepId ? byStep.get(chunk.stepId) : undefined) ?? runOutput;
      texts[chunk.stream] += chunk.text;
      lastSequence = chunk.sequence;
    }
    if (truncated || chunks.length < BATCH) break;
  }
  return {
    runId,
    status: run.status,
    items: steps.map((step) => ({ ...step, output: byStep.get(step.id)! })),
    output: runOutput,
    lastSequence,
    truncated,
  };
}
