// Data factories: each writes one row (or a few) the way the product would have left it, with
// defaults a test overrides only where it cares. Each takes the database client first, so a test
// passes its own file's database (or a transaction).
import { randomUUID } from "node:crypto";
import { createKeyring, encryptSecret } from "@opsconductor/core";
import { appendRunOutput, createJob, notifyRun, sealedSecretColumns, type Db, type MasterKeys, type OutputChunk, type Prisma, type RunStatus } from "@opsconductor/db";
import { FINISHED_RUN_STATUSES } from "./wait.ts";

let made = 0;

/** A name no other call in this test file answers, e.g. `job-3-1f0c2a`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${++made}-${randomUUID().slice(0, 6)}`;
}

/** A job definition of one step (hostname on srv-1), for tests that need a job but not a particular one. */
export function oneStepDefinition(name: string) {
  return { name, steps: [{ type: "winrm.exec", target: "srv-1", command: "hostname" }] };
}

export interface TestJobInput {
  name?: string;
  /** Stored as given: pass it through parseJobDefinition first where the test needs the parsed form. */
  definition?: object;
  createdById?: string | null;
}

/** Creates a job with its first version through the data layer, as POST /api/jobs stores it. */
export function createTestJob(db: Db, input: TestJobInput = {}) {
  const name = input.name ?? uniqueName("job");
  return createJob(db, { name, definition: (input.definition ?? oneStepDefinition(name)) as Prisma.InputJsonValue, createdById: input.createdById ?? null });
}

export type TestRunInput = Omit<Partial<Prisma.JobRunUncheckedCreateInput>, "jobId" | "jobVersionId">;

/** Inserts a run of the job's current version in `status` (queued unless given), started and finished as a worker would have left it. */
export function createTestRun(db: Db, job: { id: string; currentVersionId: string | null }, input: TestRunInput = {}) {
  if (!job.currentVersionId) throw new Error(`job ${job.id} has no current version to run`);
  const status: RunStatus = input.status ?? "queued";
  const now = new Date();
  return db.jobRun.create({
    data: {
      ...(status === "queued" ? {} : { startedAt: now }),
      ...(FINISHED_RUN_STATUSES.includes(status) ? { finishedAt: now } : {}),
      ...input,
      status,
      jobId: job.id,
      jobVersionId: job.currentVersionId,
    },
  });
}

export type TestStepInput = Omit<Partial<Prisma.JobRunStepUncheckedCreateInput>, "runId">;

/** Inserts step `index` (0 unless given) of a run: a winrm.exec step on srv-1 named `Step <index>`, pending unless given. */
export function createTestStep(db: Db, runId: string, input: TestStepInput = {}) {
  const index = input.index ?? 0;
  return db.jobRunStep.create({ data: { stepKey: `s${index}`, name: `Step ${index}`, type: "winrm.exec", targetName: "srv-1", ...input, index, runId } });
}

/** Plays the worker: stores a batch of a run's output chunks, then tells listeners. */
export async function writeRunOutput(db: Db, runId: string, chunks: OutputChunk[]): Promise<void> {
  await appendRunOutput(db, runId, chunks);
  await notifyRun(db, { runId, kind: "output", sequence: chunks.at(-1)!.sequence });
}

/** Plays the worker: ends a run (succeeded unless given) and tells listeners. */
export async function finishTestRun(db: Db, runId: string, end: { status?: RunStatus; error?: string } = {}): Promise<void> {
  await db.jobRun.update({ where: { id: runId }, data: { status: "succeeded", finishedAt: new Date(), ...end } });
  await notifyRun(db, { runId, kind: "run" });
}

/** Output chunks `line <n>\n` on stdout for n = from..to, each with sequence n. */
export function outputLines(from: number, to: number): OutputChunk[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ stream: "stdout", sequence: from + i, text: `line ${from + i}\n` }));
}

export type TestScheduleInput = Partial<Prisma.ScheduleUncheckedCreateInput> & { jobId: string };

/** Inserts a schedule of a job; its cron defaults to once a year (0 0 1 1 *), which never fires during a test. */
export function createTestSchedule(db: Db, input: TestScheduleInput) {
  return db.schedule.create({ data: { cron: "0 0 1 1 *", ...input } });
}

/** Inserts the heartbeat row of a worker that is alive now, as a running worker keeps it. */
export function createTestHeartbeat(db: Db, input: Partial<Prisma.WorkerHeartbeatCreateInput> & { id: string }) {
  return db.workerHeartbeat.create({ data: { host: "test-host", pid: 1, version: "test", ...input } });
}

export type TestCredentialInput = Omit<Partial<Prisma.CredentialUncheckedCreateInput>, "ciphertext" | "iv" | "authTag" | "wrappedKey" | "keyId"> & {
  /** The secret's fields, e.g. `{ password }`; sealed under `masterKeys` and bound to the row id, as the web app stores them. */
  secret: Record<string, string>;
};

/** Inserts a credential (winrm unless given) whose secret is sealed exactly as the web app seals it. */
export function createTestCredential(db: Db, masterKeys: MasterKeys, input: TestCredentialInput) {
  const { secret, ...columns } = input;
  const id = columns.id ?? randomUUID();
  const sealed = encryptSecret(createKeyring(masterKeys), JSON.stringify(secret), { aad: id });
  return db.credential.create({ data: { name: uniqueName("credential"), type: "winrm", ...columns, id, ...sealedSecretColumns(sealed) } });
}
