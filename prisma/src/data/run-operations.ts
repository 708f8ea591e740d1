// What web and worker both do to a run: queue it with its secret parameters sealed for the worker,
// open those again on the worker, and cancel it. Each rule is written here once; callers add only
// their own checks, audit and messages.
import { randomUUID } from "node:crypto";
import { decryptSecret, encryptSecret, MASK, type Keyring, type ResolvedParameters, type SealedSecret } from "@opsconductor/core";
import type { PgBoss } from "pg-boss";
import type { Db, Prisma } from "../database/client.ts";
import { notifyRun, requestRunControl } from "./events.ts";
import type { RunStatus } from "../generated/enums.ts";
import { cancelQueueJob, enqueueRunInTransaction, enqueueRunsInTransaction } from "./queue.ts";
import type { NewRun } from "./runs.ts";

/** The additional authenticated data that binds a run's sealed secret parameters to that run. */
export function runParametersAad(runId: string): string {
  return `run-parameters:${runId}`;
}

/** Seals the secret parameter values of run `runId` for its queue job. */
export type RunParameterSealer = (runId: string, secrets: Record<string, string>) => unknown;

/** Seals a run's secret parameter values with `keyring`, bound to the run's id. */
export function sealRunParameters(keyring: Keyring, runId: string, secrets: Record<string, string>): SealedSecret {
  return encryptSecret(keyring, JSON.stringify(secrets), { aad: runParametersAad(runId) });
}

/** Opens what sealRunParameters sealed for run `runId`; throws when it does not authenticate (another run's, tampered, unknown key). */
export function openRunParameters(keyring: Keyring, runId: string, sealed: unknown): Record<string, string> {
  return JSON.parse(decryptSecret(keyring, sealed as SealedSecret, { aad: runParametersAad(runId) })) as Record<string, string>;
}

/** Resolved parameters as a run keeps them: the row's values with secrets masked, and the secret values apart. */
export interface PreparedRunParameters {
  stored: Record<string, Prisma.InputJsonValue>;
  secrets: Record<string, string>;
}

/** Splits core's resolved parameters into what the run row stores and the secret values that only the queue job carries, sealed. */
export function prepareRunParameters(resolved: Pick<ResolvedParameters, "values" | "secretNames">): PreparedRunParameters {
  const stored: Record<string, Prisma.InputJsonValue> = {};
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(resolved.values)) {
    if (resolved.secretNames.has(name)) {
      secrets[name] = String(value);
      stored[name] = MASK;
    } else stored[name] = value;
  }
  return { stored, secrets };
}

/** A run to queue: NewRun with its parameters prepared by prepareRunParameters. */
export interface RequestRunInput extends Omit<NewRun, "parameters"> {
  parameters: PreparedRunParameters;
}

/**
 * Queues a run inside the caller's transaction: inserts the row with the masked parameters and sends
 * its queue job carrying the secret values sealed by `seal`. A repeated idempotency key returns the
 * existing run (`created: false`).
 */
export async function requestRun(tx: Db, boss: PgBoss, input: RequestRunInput, seal?: RunParameterSealer) {
  const { parameters, ...run } = input;
  const id = run.id ?? randomUUID();
  let sealed: unknown;
  if (Object.keys(parameters.secrets).length > 0) {
    if (!seal) throw new Error("the run has secret parameters and no sealer was given to seal them");
    sealed = seal(id, parameters.secrets);
  }
  return enqueueRunInTransaction(tx, boss, { ...run, id, parameters: parameters.stored }, sealed === undefined ? {} : { sealedSecretParameters: sealed });
}

/**
 * requestRun for many runs in one go (the scheduler's claim batch): all rows in one statement, all
 * queue jobs in another. A run whose idempotency key its job already used is skipped; the result
 * says, in the order of `inputs`, which run ids were created.
 */
export async function requestRuns(tx: Db, boss: PgBoss, inputs: RequestRunInput[], seal?: RunParameterSealer): Promise<{ id: string; created: boolean }[]> {
  const runs = inputs.map(({ parameters, ...run }) => {
    const id = run.id ?? randomUUID();
    let sealed: unknown;
    if (Object.keys(parameters.secrets).length > 0) {
      if (!seal) throw new Error("the run has secret parameters and no sealer was given to seal them");
      sealed = seal(id, parameters.secrets);
    }
    return { ...run, id, parameters: parameters.stored, ...(sealed === undefined ? {} : { sealedSecretParameters: sealed }) };
  });
  const created = await enqueueRunsInTransaction(tx, boss, runs);
  return runs.map((run) => ({ id: run.id, created: created.has(run.id) }));
}

/** What cancelRun found (`status`) and did: ended a queued run, asked a running run's worker to stop, or nothing to a finished run. */
export interface CancelResult {
  outcome: "canceled" | "requested" | "finished";
  status: RunStatus;
}

/**
 * Cancels a run inside the caller's transaction: a queued one ends `canceled` at `at` with its queue
 * job taken off the queue; a running one gets cancelRequestedAt (the first request's time is kept)
 * and its worker is asked to stop. Null when the run does not exist.
 */
export async function cancelRun(tx: Db, runId: string, at: Date = new Date()): Promise<CancelResult | null> {
  // The row lock orders this against the worker claiming or finishing the run.
  const [row] = await tx.$queryRaw<{ status: RunStatus; queue_job_id: string | null; cancel_requested_at: Date | null }[]>`
    SELECT status, queue_job_id, cancel_requested_at FROM job_runs WHERE id = ${runId}::uuid FOR UPDATE`;
  if (!row) return null;
  if (row.status === "queued") {
    await tx.jobRun.update({ where: { id: runId }, data: { status: "canceled", cancelRequestedAt: at, finishedAt: at } });
    await cancelQueueJob(tx, row.queue_job_id ?? runId);
  } else if (row.status === "running") {
    await tx.jobRun.update({ where: { id: runId }, data: { cancelRequestedAt: row.cancel_requested_at ?? at } });
    await requestRunControl(tx, { runId, action: "cancel" });
  } else {
    return { outcome: "finished", status: row.status };
  }
  await notifyRun(tx, { runId, kind: "run" });
  return { outcome: row.status === "queued" ? "canceled" : "requested", status: row.status };
}
