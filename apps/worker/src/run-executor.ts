// Executes one queued run: claims it, loads its job version, targets and credentials (decrypted with
// the keyring), runs it with core's runJob and records every event as it happens.
import { decryptSecret, parseJobDefinition, runJob, type Credential, type Keyring, type RunEvent, type RunResult, type StepExecutor, type Target } from "@opsconductor/core";
import {
  claimRun,
  credentialUseRefusal,
  declaredRetries,
  notifyRun,
  openRunParameters,
  resendRunJob,
  retryDelaySec,
  sealedSecretFromColumns,
  targetWinRMSettings,
  updateLeasedRun,
  withRunLease,
  type PrismaClient,
  type RunJobData,
  type RunLease,
} from "@opsconductor/db";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { RunRecorder } from "./recorder.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ExecutorDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  workerId: string;
  logger: Logger;
  executors: Readonly<Record<string, StepExecutor>>;
  /** Re-sends a run that must wait its turn (overlap policy "queue"), instead of holding a slot while it waits. */
  boss?: PgBoss;
  /** Seconds before a waiting run is looked at again (default 2). */
  queueRecheckSec?: number;
  /** Cap of one run's stored stdout + stderr, in bytes (DEFAULT_MAX_RUN_OUTPUT_BYTES unless set). */
  maxRunOutputBytes?: number;
  /** Called when a step finishes, for metrics. */
  onStepFinished?(type: string, status: string, durationMs: number): void;
}

/** Why a run's signal was aborted by the worker itself rather than by a user. */
export class WorkerShutdown extends Error {
  constructor(graceSec: number) {
    super(`the worker shut down before the run finished (it waited ${graceSec} s for it)`);
    this.name = "WorkerShutdown";
  }
}

/** Why a run's signal was aborted when this worker's heartbeats stopped reaching the database for most of its lease. */
export class LeaseExpired extends Error {
  constructor(silentMs: number) {
    super(`the worker could not reach the database for ${Math.round(silentMs / 1000)} s, so it stopped the run before another worker could take it over`);
    this.name = "LeaseExpired";
  }
}

/** Thrown when a fenced write found the run taken over: this attempt is no longer the run's, and wrote nothing more. */
export class LeaseLost extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "LeaseLost";
  }
}

/** Thrown after a failed attempt of a run whose job declares retries: pg-boss runs it again later. */
export class RetryScheduled extends Error {
  readonly attempt: number;
  constructor(attempt: number, reason: string) {
    super(`attempt ${attempt} failed (${reason}); the job declares retries, so it will run again`);
    this.name = "RetryScheduled";
    this.attempt = attempt;
  }
}

type Outcome = { status: "succeeded" | "failed" | "canceled" | "timed_out" | "skipped"; error: string | null };

function labelOf(step: { name?: string | undefined; id?: string | undefined; type: string }, index: number) {
  return step.name ?? step.id ?? `${step.type} #${index + 1}`;
}

/** Executes the run named by a queue job; resolves when its final state is recorded. */
export async function executeRun(deps: ExecutorDeps, data: RunJobData, signal: AbortSignal): Promise<Outcome> {
  const { prisma, workerId } = deps;
  const log = deps.logger.child({ runId: data.runId });
  if (deps.boss && (await mustWait(prisma, data.runId))) {
    const boss = deps.boss;
    const run = await prisma.jobRun.findUniqueOrThrow({ where: { id: data.runId }, select: { jobVersionId: true } });
    const retries = await declaredRetries(prisma, run.jobVersionId);
    await prisma.$transaction((tx) => resendRunJob(tx, boss, data, { startAfterSec: deps.queueRecheckSec ?? 2, retryLimit: retries.limit, retryDelaySec: retries.delaySec, retryBackoff: retries.backoff }));
    log.info("waiting for the schedule's earlier runs to finish (overlap policy: queue); looked at again shortly, holding no worker slot");
    return { status: "skipped", error: null };
  }
  const lease = await claimRun(prisma, data.runId, workerId);
  if (!lease) {
    const current = await prisma.jobRun.findUnique({ where: { id: data.runId }, select: { status: true } });
    log.info({ status: current?.status ?? "missing" }, "run is no longer queued; nothing to do");
    return { status: "skipped", error: null };
  }
  try {
    return await executeClaimedRun(deps, data, signal, lease, log);
  } catch (error) {
    if (error instanceof RetryScheduled || error instanceof LeaseLost) throw error;
    // Whatever failed (the database, a bug), the run must not stay "running" under a live worker.
    const message = `the worker hit an unexpected error: ${(error as Error).message}`;
    const settled = await withRunLease(prisma, lease, async (tx) => {
      // Attempts the job declares are attempts for any failure: pg-boss redelivers the queue job
      // (sent with that retry limit) when the error is rethrown below.
      const run = await tx.jobRun.findUniqueOrThrow({ where: { id: lease.runId }, select: { jobVersionId: true } });
      const retry = lease.attempt <= (await declaredRetries(tx, run.jobVersionId)).limit;
      log.error({ err: error, retry }, retry ? "the run attempt failed on an unexpected error; it will be retried" : "the run failed on an unexpected error; recording it as failed");
      await updateLeasedRun(tx, lease, retry ? { status: "queued", error: message } : { status: "failed", finishedAt: new Date(), error: message });
      await tx.jobRunStep.updateMany({ where: { runId: lease.runId, status: { in: ["running", "pending"] } }, data: { status: "failed", finishedAt: new Date(), error: "the run failed on an unexpected error" } });
    }).catch((settleError: unknown) => {
      log.error({ err: settleError }, "could not record the run as failed; the reaper fails it once this worker stops");
      return { held: false as const };
    });
    if (settled.held) await notifyRun(prisma, { runId: lease.runId, kind: "run" }).catch(() => {});
    throw error;
  }
}

async function executeClaimedRun(deps: ExecutorDeps, data: RunJobData, signal: AbortSignal, lease: RunLease, log: Logger): Promise<Outcome> {
  const { prisma, workerId } = deps;
  await notifyRun(prisma, { runId: data.runId, kind: "run" });
  const run = await prisma.jobRun.findUniqueOrThrow({ where: { id: data.runId }, include: { jobVersion: true, job: { select: { name: true } } } });
  const last = await prisma.runOutputChunk.aggregate({ where: { runId: run.id }, _max: { sequence: true } });

  // A fenced write that matches nothing stops the run here, as a cancel would (Signal + Delete on WinRM).
  const taken = new AbortController();
  const runSignal = AbortSignal.any([signal, taken.signal]);
  const onLeaseLost = (reason: string) => taken.abort(new LeaseLost(reason));

  let definition;
  try {
    definition = parseJobDefinition(run.jobVersion.definition);
  } catch (error) {
    return finishEarly(deps, lease, last._max.sequence ?? 0, "failed", `the stored job definition is no longer valid: ${(error as Error).message}`, log);
  }
  if (run.cancelRequestedAt) return finishEarly(deps, lease, last._max.sequence ?? 0, "canceled", "the run was canceled before it started", log);

  const attempt = lease.attempt;
  const prepared = await withRunLease(prisma, lease, async (tx) => {
    // A retry starts every step afresh; the earlier attempt's output stays, before this one's.
    if (attempt > 1) await tx.jobRunStep.updateMany({ where: { runId: run.id }, data: { status: "pending", exitCode: null, startedAt: null, finishedAt: null, error: null } });
    await tx.jobRunStep.createMany({
      data: definition.steps.map((step, index) => ({ runId: run.id, index, stepKey: step.id ?? null, name: labelOf(step, index), type: step.type, targetName: step.target ?? null })),
      skipDuplicates: true,
    });
    return tx.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" }, select: { id: true } });
  });
  if (!prepared.held) {
    log.warn({ attempt }, "this worker no longer holds the run (it was taken over before its steps were prepared); writing nothing more for it");
    throw new LeaseLost(`attempt ${attempt} of run ${run.id} was taken over before it started`);
  }
  const stepRows = prepared.value;
  // A retry's output shares the run's cap with the attempts before it.
  const storedBytes = attempt > 1 ? await storedOutputBytes(prisma, run.id) : 0;
  const recorder = new RunRecorder({
    prisma,
    lease,
    onLeaseLost,
    stepIds: stepRows.map((s) => s.id),
    lastSequence: last._max.sequence ?? 0,
    logger: log,
    maxOutputBytes: deps.maxRunOutputBytes,
    storedBytes,
  });
  await notifyRun(prisma, { runId: run.id, kind: "step" });

  const params: Record<string, unknown> = { ...(run.parameters as Record<string, unknown>) };
  if (data.sealedSecretParameters) {
    try {
      Object.assign(params, openRunParameters(deps.keyring, run.id, data.sealedSecretParameters));
    } catch (error) {
      return finish(recorder, run.id, "failed", `the run's secret parameters could not be decrypted: ${(error as Error).message}`, log);
    }
  }

  // The admin approvals of the rows resolveTarget read, for the policy check right before a secret is used.
  const approvals = new Map<string, string | null>();
  const resolveTarget = async (ref: string): Promise<Target | undefined> => {
    const row = await prisma.target.findFirst({ where: UUID.test(ref) ? { OR: [{ id: ref }, { name: ref }] } : { name: ref } });
    if (!row) return undefined;
    approvals.set(row.id, row.credentialApproval);
    return {
      id: row.id,
      name: row.name,
      hostname: row.hostname,
      port: row.port,
      os: row.os,
      credentialId: row.credentialId,
      winrm: targetWinRMSettings(row),
    };
  };
  const resolveCredential = async (target: Target): Promise<Credential | undefined> => {
    if (!target.credentialId) return undefined;
    const row = await prisma.credential.findUnique({ where: { id: target.credentialId } });
    if (!row) throw new Error(`the credential of target "${target.name}" no longer exists`);
    if (row.type !== "winrm") throw new Error(`target "${target.name}" uses credential "${row.name}" of type ${row.type}; WinRM steps need a winrm credential`);
    // Checked against exactly what the executor will connect to, whoever wrote the target row.
    const refusal = credentialUseRefusal(row, {
      credentialId: target.credentialId ?? null,
      hostname: target.hostname,
      port: target.port ?? (target.winrm?.transport === "http" ? 5985 : 5986),
      winrmTransport: target.winrm?.transport ?? "https",
      winrmAuth: target.winrm?.auth ?? "ntlm",
      winrmAllowUnencrypted: target.winrm?.allowUnencrypted ?? false,
      winrmCaCertificate: target.winrm?.caCertificate ?? null,
      winrmRejectUnauthorized: target.winrm?.rejectUnauthorized ?? true,
      credentialApproval: approvals.get(target.id) ?? null,
    });
    if (refusal) {
      log.warn({ targetId: target.id, credentialId: row.id, hostname: target.hostname }, "refused to send a credential outside its usage policy");
      throw new Error(`target "${target.name}": ${refusal}; nothing was sent to the host`);
    }
    let secret: { password?: unknown };
    try {
      secret = JSON.parse(decryptSecret(deps.keyring, sealedSecretFromColumns(row), { aad: row.id })) as { password?: unknown };
    } catch (error) {
      throw new Error(`credential "${row.name}" could not be decrypted: ${(error as Error).message}`, { cause: error });
    }
    if (typeof secret.password !== "string") throw new Error(`credential "${row.name}" holds no password`);
    return { id: row.id, name: row.name, type: "password", username: row.username ?? "", domain: row.domain, secret: { password: secret.password } };
  };

  const onEvent = (event: RunEvent) => {
    switch (event.type) {
      case "step.started":
        log.info({ stepId: stepRows[event.stepIndex]?.id, stepIndex: event.stepIndex, step: event.stepName, target: event.target }, "step started");
        recorder.step(event.stepIndex, { status: "running", startedAt: new Date(event.at) });
        break;
      case "step.output":
        recorder.output(event.stepIndex, event.stream, event.text);
        break;
      case "step.finished":
        if (event.error) recorder.output(event.stepIndex, "system", `${event.error}\n`);
        log.info({ stepId: stepRows[event.stepIndex]?.id, stepIndex: event.stepIndex, status: event.status, exitCode: event.exitCode, durationMs: event.durationMs }, "step finished");
        recorder.step(event.stepIndex, { status: event.status, exitCode: event.exitCode, finishedAt: new Date(event.at), error: event.error });
        deps.onStepFinished?.(definition.steps[event.stepIndex]?.type ?? "unknown", event.status, event.durationMs);
        break;
      default:
        break;
    }
  };

  log.info({ job: run.job.name, version: run.jobVersion.number, steps: definition.steps.length, attempt }, "run started");
  recorder.output(null, "system", attempt > 1 ? `Attempt ${attempt} started on worker ${workerId}.\n` : `Run started on worker ${workerId}.\n`);
  let result: RunResult;
  try {
    result = await runJob({ definition, params, resolveTarget, resolveCredential, executors: deps.executors, signal: runSignal, onEvent });
  } catch (error) {
    // Only invalid parameters (or a bug in our event handling) reach here; the message names them.
    return finish(recorder, run.id, "failed", (error as Error).message, log);
  }
  for (const [index, step] of result.steps.entries()) {
    if (step.status === "skipped") recorder.step(index, { status: "skipped" });
  }
  await recorder.drain();
  if (recorder.lostReason) throw new LeaseLost(recorder.lostReason);
  const shutdown = signal.aborted && signal.reason instanceof WorkerShutdown ? signal.reason : undefined;
  if (shutdown && result.status === "canceled") return finish(recorder, run.id, "failed", shutdown.message, log);
  // Stopped for lack of heartbeats: the fenced writes below land only if nobody has taken the run over meanwhile.
  if (signal.aborted && signal.reason instanceof LeaseExpired && result.status === "canceled") result = { ...result, status: "failed", error: signal.reason.message };
  const retries = definition.retries;
  if ((result.status === "failed" || result.status === "timed_out") && retries && attempt <= retries.limit) {
    const delay = retryDelaySec(retries, attempt);
    recorder.output(null, "system", `Attempt ${attempt} of ${retries.limit + 1} ${result.status === "failed" ? "failed" : "timed out"}: ${result.error}\nRetrying in about ${delay} s.\n`);
    recorder.run({ status: "queued", error: result.error });
    await recorder.drain();
    if (recorder.lostReason) throw new LeaseLost(recorder.lostReason);
    log.info({ attempt, delaySec: delay, error: result.error }, "run attempt failed; it will be retried");
    throw new RetryScheduled(attempt, result.error ?? result.status);
  }
  return finish(recorder, run.id, result.status, result.error, log);
}

// A schedule with overlap policy "queue" fires even while its previous run is active; the new run
// stays queued until the earlier runs of that schedule have finished.
async function mustWait(prisma: PrismaClient, runId: string): Promise<boolean> {
  const run = await prisma.jobRun.findUnique({ where: { id: runId }, select: { status: true, scheduleId: true, queuedAt: true, schedule: { select: { overlapPolicy: true } } } });
  if (run?.status !== "queued" || !run.scheduleId || run.schedule?.overlapPolicy !== "queue") return false;
  const earlier = await prisma.jobRun.count({ where: { scheduleId: run.scheduleId, id: { not: runId }, status: { in: ["queued", "running"] }, queuedAt: { lt: run.queuedAt } } });
  return earlier > 0;
}

async function finish(recorder: RunRecorder, runId: string, status: Outcome["status"] & string, error: string | null, log: Logger): Promise<Outcome> {
  if (status === "skipped") throw new Error("unreachable");
  recorder.output(null, "system", `Run ${status.replace("_", " ")}${error ? `: ${error}` : "."}\n`);
  recorder.run({ status, finishedAt: new Date(), error });
  await recorder.drain();
  if (recorder.lostReason) throw new LeaseLost(recorder.lostReason);
  log.info({ status, error }, "run finished");
  return { status, error };
}

async function finishEarly(deps: ExecutorDeps, lease: RunLease, lastSequence: number, status: "failed" | "canceled", error: string, log: Logger): Promise<Outcome> {
  const recorder = new RunRecorder({ prisma: deps.prisma, lease, stepIds: [], lastSequence, logger: log });
  return finish(recorder, lease.runId, status, error, log);
}

async function storedOutputBytes(prisma: PrismaClient, runId: string): Promise<number> {
  const [row] = await prisma.$queryRaw<{ bytes: bigint }[]>`SELECT coalesce(sum(octet_length(text)), 0)::bigint AS bytes FROM run_output_chunks WHERE run_id = ${runId}::uuid AND stream <> 'system'`;
  return Number(row?.bytes ?? 0);
}
