import { randomBytes, randomUUID } from "node:crypto";
import { createKeyring, MASK, parseJobDefinition, resolveParameters } from "@opsconductor/core";
import { PgBoss } from "pg-boss";
import { afterAll, describe, expect, test } from "vitest";
import { createJob } from "./jobs.ts";
import { enqueueRun, ensureRunQueues, retryPolicyOf, RUN_QUEUE } from "./queue.ts";
import { cancelRun, openRunParameters, prepareRunParameters, requestRun, requestRuns, sealRunParameters } from "./run-operations.ts";
import { createTestDatabase } from "../testing/index.ts";

const { url, prisma } = await createTestDatabase();
const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
boss.on("error", (error) => {
  throw error;
});
await boss.start();
await ensureRunQueues(boss);
afterAll(() => boss.stop({ graceful: false }));

const keyring = createKeyring({ keys: { k1: randomBytes(32).toString("base64") }, primary: "k1" });
const definition = {
  name: "rotate key",
  steps: [{ type: "winrm.exec", name: "ping", target: "web-01", command: "hostname" }],
  parameters: { service: { type: "string", default: "Spooler" }, password: { type: "secret" } },
};
const job = await createJob(prisma, { name: "run operations", definition });
const seal = (runId: string, secrets: Record<string, string>) => sealRunParameters(keyring, runId, secrets);

test("a run's sealed secret parameters open for that run only", () => {
  const [mine, other] = [randomUUID(), randomUUID()];
  const sealed = sealRunParameters(keyring, mine, { password: "Hunter2!" });
  expect(JSON.stringify(sealed)).not.toContain("Hunter2!");
  expect(openRunParameters(keyring, mine, sealed)).toEqual({ password: "Hunter2!" });
  expect(() => openRunParameters(keyring, other, sealed)).toThrow();
});

test("requestRun stores secret parameters masked and sends them only sealed, bound to the run", async () => {
  const parameters = prepareRunParameters(resolveParameters(parseJobDefinition(definition), { password: "Hunter2!" }));
  const { run, created } = await prisma.$transaction((tx) => requestRun(tx, boss, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters }, seal));
  expect(created).toBe(true);
  expect(run.parameters).toEqual({ service: "Spooler", password: MASK });
  const queued = await boss.getJobById<{ runId: string; sealedSecretParameters: unknown }>(RUN_QUEUE, run.id);
  expect(queued?.data.runId).toBe(run.id);
  expect(JSON.stringify(queued?.data)).not.toContain("Hunter2!");
  expect(openRunParameters(keyring, run.id, queued?.data.sealedSecretParameters)).toEqual({ password: "Hunter2!" });

  // Without a sealer the secret would be lost: nothing is queued.
  await expect(prisma.$transaction((tx) => requestRun(tx, boss, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters }))).rejects.toThrow("no sealer");
  expect(await prisma.jobRun.count({ where: { jobId: job.id } })).toBe(1);
});

test("requestRuns queues a batch in one go: masked rows, sealed queue jobs with the version's retries, a used idempotency key skipped", async () => {
  const retrying = await createJob(prisma, { name: "batch with retries", definition: { ...definition, retries: { limit: 2, delaySec: 7 } } });
  const parameters = prepareRunParameters(resolveParameters(parseJobDefinition(definition), { password: "Hunter2!" }));
  const key = (n: number) => `batch:${n}:${randomUUID()}`;
  const [used, fresh, twice] = [key(1), key(2), key(3)];
  await prisma.$transaction((tx) => requestRun(tx, boss, { jobId: retrying.id, jobVersionId: retrying.currentVersionId!, parameters, idempotencyKey: used }, seal));
  const input = (idempotencyKey: string) => ({ jobId: retrying.id, jobVersionId: retrying.currentVersionId!, parameters, trigger: "schedule" as const, idempotencyKey });
  const results = await prisma.$transaction((tx) => requestRuns(tx, boss, [input(used), input(fresh), input(twice), input(twice)], seal));
  expect(results.map((r) => r.created)).toEqual([false, true, true, false]);

  const rows = await prisma.jobRun.findMany({ where: { idempotencyKey: { in: [used, fresh, twice] } } });
  expect(rows).toHaveLength(3);
  for (const { id } of results.filter((r) => r.created)) {
    const row = rows.find((r) => r.id === id)!;
    expect(row).toMatchObject({ status: "queued", trigger: "schedule", queueJobId: id, parameters: { service: "Spooler", password: MASK } });
    const queued = await boss.getJobById<{ runId: string; sealedSecretParameters: unknown }>(RUN_QUEUE, id);
    expect(queued).toMatchObject({ state: "created", retryLimit: 2, retryDelay: 7, retryBackoff: true });
    expect(JSON.stringify(queued?.data)).not.toContain("Hunter2!");
    expect(openRunParameters(keyring, id, queued?.data.sealedSecretParameters)).toEqual({ password: "Hunter2!" });
  }
  // The skipped ones sent nothing.
  for (const { id } of results.filter((r) => !r.created)) expect(await boss.getJobById(RUN_QUEUE, id)).toBeNull();
  await expect(prisma.$transaction((tx) => requestRuns(tx, boss, [input(key(4))]))).rejects.toThrow("no sealer");
});

describe("cancelRun", () => {
  const queue = () => enqueueRun(prisma, boss, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: {} }).then((r) => r.run);
  const at = new Date("2026-11-27T13:00:00.000Z");
  const later = new Date("2026-11-27T13:05:00.000Z");

  test("ends a queued run at once and takes its job off the queue", async () => {
    const run = await queue();
    expect(await prisma.$transaction((tx) => cancelRun(tx, run.id, at))).toEqual({ outcome: "canceled", status: "queued" });
    expect(await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "canceled", cancelRequestedAt: at, finishedAt: at });
    expect((await boss.getJobById(RUN_QUEUE, run.id))?.state).toBe("cancelled");
  });

  test("asks a running run to stop, keeping the time of the first request, and leaves its job to the worker", async () => {
    const run = await queue();
    await prisma.jobRun.update({ where: { id: run.id }, data: { status: "running", startedAt: at, workerId: "w1", attempt: 1 } });
    expect(await prisma.$transaction((tx) => cancelRun(tx, run.id, at))).toEqual({ outcome: "requested", status: "running" });
    expect(await prisma.$transaction((tx) => cancelRun(tx, run.id, later))).toEqual({ outcome: "requested", status: "running" });
    expect(await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "running", cancelRequestedAt: at, finishedAt: null });
    expect((await boss.getJobById(RUN_QUEUE, run.id))?.state).toBe("created");
  });

  test("changes nothing of a finished run, and finds no unknown run", async () => {
    const run = await queue();
    await prisma.jobRun.update({ where: { id: run.id }, data: { status: "succeeded", finishedAt: at } });
    expect(await prisma.$transaction((tx) => cancelRun(tx, run.id, later))).toEqual({ outcome: "finished", status: "succeeded" });
    expect(await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "succeeded", cancelRequestedAt: null, finishedAt: at });
    expect(await prisma.$transaction((tx) => cancelRun(tx, randomUUID(), later))).toBeNull();
  });
});

test("a declared retry limit gets core's default delay and backoff, on the run's queue job too", async () => {
  expect(retryPolicyOf(undefined)).toEqual({ limit: 0, delaySec: 30, backoff: true });
  expect(retryPolicyOf({ limit: 2 })).toEqual({ limit: 2, delaySec: 30, backoff: true });
  const retried = await createJob(prisma, { name: "retried", definition: { ...definition, retries: { limit: 2 } } });
  const { run } = await enqueueRun(prisma, boss, { jobId: retried.id, jobVersionId: retried.currentVersionId!, parameters: {} });
  expect(await boss.getJobById(RUN_QUEUE, run.id)).toMatchObject({ retryLimit: 2, retryDelay: 30, retryBackoff: true });
});
