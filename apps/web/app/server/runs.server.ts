// Runs: listing, details, step output, cancel and rerun. The worker owns a run's progress; this
// module only reads it, asks for a cancel, or queues a fresh run.
import { MASK } from "@opsconductor/core";
import { cancelRun as cancelRunInTransaction, OutputStream, requestRun, RunStatus, RunTrigger, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import { z } from "zod";
import { decodeCursor, INT4_MIN, pageQuery, toPage, wholeNumber, type RouteContext } from "./api.server.ts";
import type { Principal } from "./auth.server.ts";
import { ApiError, notFound } from "./errors.server.ts";
import { queue } from "./queue.server.ts";

export const RUN_STATUSES = Object.values(RunStatus);
export const RUN_TRIGGERS = Object.values(RunTrigger);
const OUTPUT_STREAMS = Object.values(OutputStream);
/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>(["succeeded", "failed", "canceled", "timed_out"]);
/** The most output text (UTF-8 bytes) one GET /api/runs/{id}/steps answer carries. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

type Audit = RouteContext<unknown, unknown, unknown, Principal>["audit"];

const isoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-26T08:00:00Z" });

// `status=queued,running` and `status=queued&status=running` mean the same.
function splitList(value: unknown): unknown {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === "string" ? v.split(",") : [v]));
  return parts.map((p) => (typeof p === "string" ? p.trim() : p)).filter((p) => p !== "");
}

export const runListQuery = pageQuery
  .extend({
    job: z.uuid({ error: "must be a job id (UUID)" }).optional(),
    status: z
      .preprocess(splitList, z.array(z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(", ")}` })).min(1, "must name at least one status"))
      .optional()
      .describe("One or several statuses, repeated or comma-separated"),
    trigger: z.enum(RUN_TRIGGERS, { error: `must be one of ${RUN_TRIGGERS.join(", ")}` }).optional(),
    from: isoDateTime.optional().describe("Only runs queued at or after this instant"),
    to: isoDateTime.optional().describe("Only runs queued before this instant"),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && Date.parse(query.to) <= Date.parse(query.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be later than query.from" });
  });
export type RunListQuery = z.infer<typeof runListQuery>;

export const runStepsQuery = z.object({
  afterSequence: wholeNumber(INT4_MIN).optional().describe("Only output with a greater sequence (the lastSequence of the previous answer)"),
});

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

function runSummary(run: ListedRun) {
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
  };
}

export type RunView = ReturnType<typeof runSummary> & { parameters: Record<string, unknown> };

// Secret values are never stored, but mask again what the definition calls secret in case a writer slipped.
function runView(run: DetailedRun): RunView {
  const parameters = run.parameters && typeof run.parameters === "object" && !Array.isArray(run.parameters) ? { ...(run.parameters as Record<string, unknown>) } : {};
  for (const name of secretParameterNames(run.jobVersion.definition)) if (name in parameters) parameters[name] = MASK;
  return { ...runSummary(run), parameters };
}

/** Runs newest first (by queuedAt), filtered, one keyset page at a time. */
export async function listRuns(db: Db, query: RunListQuery) {
  const cursor = decodeCursor(query.cursor, z.object({ q: z.iso.datetime(), id: z.uuid() }));
  const where: Prisma.JobRunWhereInput[] = [];
  if (query.job) where.push({ jobId: query.job });
  if (query.status) where.push({ status: { in: query.status } });
  if (query.trigger) where.push({ trigger: query.trigger });
  if (query.from) where.push({ queuedAt: { gte: new Date(query.from) } });
  if (query.to) where.push({ queuedAt: { lt: new Date(query.to) } });
  if (cursor) where.push({ OR: [{ queuedAt: { lt: new Date(cursor.q) } }, { queuedAt: new Date(cursor.q), id: { lt: cursor.id } }] });
  const rows = await db.jobRun.findMany({ where: { AND: where }, include: runListInclude, orderBy: [{ queuedAt: "desc" }, { id: "desc" }], take: query.limit + 1 });
  return toPage(rows.map(runSummary), query.limit, (run) => ({ q: run.queuedAt.toISOString(), id: run.id }));
}

/** One run with its job name, version number and (masked) parameters; 404 when missing. */
export async function getRun(db: Db, runId: string): Promise<RunView> {
  const run = await db.jobRun.findUnique({ where: { id: runId }, include: runDetailInclude });
  if (!run) throw notFound("run");
  return runView(run);
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

/**
 * Cancels a run: a queued one ends `canceled` at once (`immediate: true`); a running one gets
 * cancelRequestedAt and its worker is asked to stop. A finished run is a 409.
 */
export async function cancelRun(prisma: PrismaClient, runId: string, principal: Principal, audit: Audit): Promise<{ immediate: boolean; run: RunView }> {
  const immediate = await prisma.$transaction(async (tx) => {
    const result = await cancelRunInTransaction(tx, runId);
    if (!result) throw notFound("run");
    if (result.outcome === "finished") throw new ApiError(409, "run_finished", `the run already finished (${result.status}); there is nothing to cancel`);
    const summary = result.outcome === "canceled" ? `${principal.username} canceled queued run ${runId}` : `${principal.username} asked running run ${runId} to cancel`;
    await audit({ action: "run.cancel", entityType: "run", entityId: runId, summary, details: { previousStatus: result.status } }, tx);
    return result.outcome === "canceled";
  });
  return { immediate, run: await getRun(prisma, runId) };
}

/**
 * Queues a new run of the same job version with the same stored parameters. Secret values are never
 * stored, so a run that had secret parameters cannot be repeated from its row (409).
 */
export async function rerunRun(prisma: PrismaClient, runId: string, principal: Principal, audit: Audit): Promise<{ runId: string; status: RunStatus }> {
  const original = await prisma.jobRun.findUnique({ where: { id: runId }, include: { job: { select: { name: true, active: true } }, jobVersion: { select: { number: true, definition: true } } } });
  if (!original) throw notFound("run");
  const parameters = (original.parameters ?? {}) as Record<string, unknown>;
  const secrets = secretParameterNames(original.jobVersion.definition).filter((name) => name in parameters);
  if (secrets.length > 0) {
    throw new ApiError(
      409,
      "secret_parameters",
      `this run had secret parameters (${secrets.join(", ")}), whose values are never stored; start a new run with POST /api/jobs/${original.jobId}/run and supply them again`,
    );
  }
  if (!original.job.active) throw new ApiError(409, "job_inactive", `job ${original.job.name} is inactive; activate it before running it again`);
  const boss = await queue();
  const { run } = await prisma.$transaction(async (tx) => {
    const result = await requestRun(tx, boss, {
      jobId: original.jobId,
      jobVersionId: original.jobVersionId,
      // Refused above when a secret parameter is stored, so there is nothing to seal.
      parameters: { stored: parameters as Record<string, Prisma.InputJsonValue>, secrets: {} },
      trigger: principal.via === "cookie" ? "manual" : "api",
      requestedById: principal.id,
    });
    await audit(
      {
        action: "run.rerun",
        entityType: "run",
        entityId: result.run.id,
        summary: `${principal.username} reran run ${runId} of job ${original.job.name} (version ${original.jobVersion.number})`,
        details: { rerunOf: runId, jobId: original.jobId, version: original.jobVersion.number, parameters },
      },
      tx,
    );
    return result;
  });
  return { runId: run.id, status: run.status };
}
