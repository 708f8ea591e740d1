// A worker cut off from PostgreSQL must stop before anyone may take its run over, and whatever it
// writes once it is back must change nothing: every write after the claim is fenced by (worker id, attempt).
import { randomBytes } from "node:crypto";
import { enqueueRun } from "@opsconductor/db";
import { createTestDatabase, until } from "@opsconductor/testing";
import { createWorkerFixture, startTcpProxy, startTestWorker, stopTestWorkers, type TestWorkerOptions } from "@opsconductor/testing/worker";
import { afterAll, expect, test } from "vitest";

const { url, prisma } = await createTestDatabase();
const fixture = await createWorkerFixture(prisma);
const proxy = await startTcpProxy(url);
afterAll(async () => {
  proxy.restore();
  await stopTestWorkers();
  await proxy.close();
});

const worker = (options: Partial<TestWorkerOptions> & { id: string }) =>
  startTestWorker({ databaseUrl: url, masterKeys: fixture.masterKeys, concurrency: 1, shutdownGraceSec: 5, scheduler: false, ...options });

// A lease of 4 s instead of 30 s keeps the test short; the reaper and the worker derive everything from these two.
const timing = { heartbeatIntervalMs: 500, leaseMs: 4_000 };

test("partition: a worker cut off from PostgreSQL stops its step before the run is taken over, and its late writes change nothing", { timeout: 90_000 }, async () => {
  const key = randomBytes(4).toString("hex");
  const { jobId, versionId } = await fixture.job({
    name: "Partitioned",
    version: 1,
    retries: { limit: 1, delaySec: 1, backoff: false },
    steps: [
      { type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: `Write-Output 'step one'; Invoke-SlowOnce '${key}' 40`, timeoutSec: 300 },
      { type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "Write-Output 'step two'" },
    ],
  });
  const cutOff = await worker({ id: "worker-cut-off", databaseUrl: proxy.url, ...timing });
  const { run } = await enqueueRun(prisma, cutOff.worker.boss, { jobId, jobVersionId: versionId, parameters: {} });
  const slow = () => fixture.executions.filter((e) => e.script.includes(key));
  await until(() => slow().length === 1, "attempt 1's slow command", 30_000);
  await until(async () => (await prisma.runOutputChunk.count({ where: { runId: run.id, text: "step one\r\n" } })) === 1, "attempt 1's first output", 30_000);

  proxy.cut();
  await worker({ id: "worker-direct", ...timing });
  await until(async () => (await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).status === "succeeded", "attempt 2 to succeed", 45_000);
  proxy.restore();
  // Once its run has left activeRuns(), the cut-off worker has written (or tried to write) all it ever will for it.
  await until(() => cutOff.worker.activeRuns().length === 0, "the cut-off worker to let go of the run", 45_000);

  // No step ran twice at the same time, and attempt 1's command was stopped with Signal terminate.
  const [first, second] = slow();
  expect(slow()).toHaveLength(2);
  expect(first!.abortReason).toBe("terminate");
  expect(first!.endedAt).toBeLessThanOrEqual(second!.startedAt);
  expect(fixture.server.stats.openShells).toBe(0);

  // The run, its steps and its output are attempt 2's; the cut-off worker's late writes changed nothing.
  const final = await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } });
  expect(final).toMatchObject({ status: "succeeded", attempt: 2, workerId: "worker-direct", error: null });
  const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
  expect(steps.map((s) => [s.status, s.exitCode])).toEqual([["succeeded", 0], ["succeeded", 0]]);
  const chunks = await prisma.runOutputChunk.findMany({ where: { runId: run.id }, orderBy: { sequence: "asc" } });
  expect(chunks.map((c) => c.sequence)).toEqual(chunks.map((_, i) => i + 1));
  expect(chunks.map((c) => c.text).join("")).toBe(
    "Run started on worker worker-cut-off.\nstep one\r\n" + "Attempt 2 started on worker worker-direct.\nstep one\r\nstep two\r\nRun succeeded.\n",
  );
  expect(cutOff.lines.some((l) => l.msg === "no heartbeat reached the database within the lease; stopping this worker's runs before another worker may take them over")).toBe(true);
  expect(cutOff.lines.some((l) => l.runId === run.id && typeof l.msg === "string" && l.msg.startsWith("this worker no longer holds the run"))).toBe(true);
});
