import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { enqueueRun, requestRunControl, type Prisma } from "@opsconductor/db";
import { createTestDatabase, createTestRun, createTestSchedule, FINISHED_RUN_STATUSES as TERMINAL, waitForRun as waitForRunIn } from "@opsconductor/testing";
import { createWorkerFixture, startTestWorker, stopTestWorkers } from "@opsconductor/testing/worker";
import { PgBoss } from "pg-boss";
import { describe, expect, test } from "vitest";
import { parseWorkerEnv } from "./env.ts";

const { url, prisma } = await createTestDatabase();
const fixture = await createWorkerFixture(prisma);

const worker = (options: { id?: string; shutdownGraceSec?: number; concurrency?: number; metricsPort?: number; maxRunOutputBytes?: number } = {}) =>
  startTestWorker({ databaseUrl: url, masterKeys: fixture.masterKeys, shutdownGraceSec: 5, ...options });

const waitForRun = (runId: string, until: (run: Prisma.JobRunGetPayload<object>) => boolean, timeoutMs?: number) => waitForRunIn(prisma, runId, until, timeoutMs);

const sample = {
  name: "Sample Windows Service Restart",
  version: 1,
  parameters: { svc: "Spooler" },
  steps: [{ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status", timeoutSec: 90 }],
};
const sleeper = (seconds: number) => ({
  name: "Long step",
  version: 1,
  steps: [
    { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: `Start-Sleep -Seconds ${seconds}`, timeoutSec: 600 },
    { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Write-Output 'never'" },
  ],
});

describe("executing queued runs", () => {
  test("past the cap a run keeps the head and each step's tail with a notice of what was dropped; its steps still run and end as they really end", async () => {
    const { worker: w } = await worker({ id: "worker-capped", maxRunOutputBytes: 64 * 1024 });
    const { jobId, versionId } = await fixture.job({
      name: "Chatty",
      version: 1,
      steps: [
        { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Write-Lines 5000" },
        { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Write-Output 'after the cap'; Invoke-Flaky 'capped-exit' 1" },
      ],
    });
    const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
    const done = await waitForRun(run.id, (r) => TERMINAL.includes(r.status));
    // The second step fails for real (its exit code 1), however much the first one wrote.
    expect(done.status).toBe("failed");
    const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
    expect(steps.map((s) => [s.status, s.exitCode])).toEqual([["succeeded", 0], ["failed", 1]]);
    const chunks = await prisma.runOutputChunk.findMany({ where: { runId: run.id }, orderBy: { sequence: "asc" } });
    expect(chunks.map((c) => c.sequence)).toEqual(chunks.map((_, i) => chunks[0]!.sequence + i));
    const bytes = (list: typeof chunks) => list.reduce((n, c) => n + Buffer.byteLength(c.text), 0);
    expect(bytes(chunks.filter((c) => c.stream !== "system"))).toBeLessThanOrEqual(64 * 1024);

    // Step 1 wrote 5,000 lines of 100 bytes: its first 32 KiB, a notice, then its last whole lines.
    const first = chunks.filter((c) => c.stepId === steps[0]!.id);
    const notices = first.filter((c) => c.stream === "system" && c.text.includes("[output truncated"));
    expect(notices.map((c) => c.text.trim().slice(0, 60))).toEqual(["[output truncated: the run's output passed 32 KiB, half of i", expect.stringMatching(/^\[output truncated: [\d,]+ lines \([\d,]+ bytes\) dropped here/)]);
    const cut = first.indexOf(notices[0]!);
    const resumed = first.indexOf(notices[1]!);
    const head = first.slice(0, cut).filter((c) => c.stream === "stdout").map((c) => c.text).join("");
    const tail = first.slice(resumed + 1).filter((c) => c.stream === "stdout").map((c) => c.text).join("");
    expect(first.slice(cut + 1, resumed)).toEqual([]);
    expect(Buffer.byteLength(head)).toBe(32 * 1024);
    expect(head.startsWith("line 000001 ")).toBe(true);
    expect(tail).toMatch(/^line \d{6} -+\r\n/);
    expect(tail.endsWith(`line 005000 ${"-".repeat(86)}\r\n`)).toBe(true);
    const tailLines = tail.split("\n").length - 1;
    expect(tailLines).toBeGreaterThan(100);
    // The notice's counts are exact: head + dropped + tail is everything the step wrote.
    const [, lines, dropped] = /([\d,]+) lines \(([\d,]+) bytes\)/.exec(notices[1]!.text)!.map((v) => Number(v.replaceAll(",", "")));
    expect(32 * 1024 + dropped! + Buffer.byteLength(tail)).toBe(5000 * 100);
    expect(lines).toBe(5000 - Math.floor((32 * 1024) / 100) - tailLines);
    expect(notices[1]!.text).toContain(`the last ${Buffer.byteLength(tail)} bytes of the step follow`);

    // Step 2's few bytes fit in what the cap has left: stored, with no notice.
    const second = chunks.filter((c) => c.stepId === steps[1]!.id);
    expect(second.filter((c) => c.stream === "stdout").map((c) => c.text).join("")).toContain("after the cap");
    expect(second.some((c) => c.text.includes("[output truncated"))).toBe(false);
    expect(chunks.at(-1)!.text).toMatch(/^Run failed/);
    // Later tests expect their own worker to claim their runs.
    await w.stop();
    expect(parseWorkerEnv({ DATABASE_URL: url, OPSCONDUCTOR_MASTER_KEY: `k:${randomBytes(32).toString("base64")}` }).RUN_OUTPUT_MAX_BYTES).toBe(100 * 1024 * 1024);
    expect(() => parseWorkerEnv({ DATABASE_URL: url, OPSCONDUCTOR_MASTER_KEY: `k:${randomBytes(32).toString("base64")}`, RUN_OUTPUT_MAX_BYTES: "10" })).toThrow(/RUN_OUTPUT_MAX_BYTES/);
  });

  test("the original product's sample job succeeds, with its steps and output persisted in order", async () => {
    const { worker: w, lines } = await worker({ id: "worker-sample" });
    const { jobId, versionId } = await fixture.job(sample);
    const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: { svc: "Spooler" } });
    const done = await waitForRun(run.id, (r) => TERMINAL.includes(r.status));
    expect(done).toMatchObject({ status: "succeeded", workerId: "worker-sample", error: null, attempt: 1 });
    expect(done.startedAt!.getTime()).toBeLessThanOrEqual(done.finishedAt!.getTime());
    const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
    expect(steps).toMatchObject([{ index: 0, type: "winrm.exec", targetName: "sample-windows-server", status: "succeeded", exitCode: 0 }]);
    const chunks = await prisma.runOutputChunk.findMany({ where: { runId: run.id }, orderBy: { sequence: "asc" } });
    expect(chunks.map((c) => c.sequence)).toEqual(chunks.map((_, i) => i + 1));
    const stdout = chunks.filter((c) => c.stream === "stdout").map((c) => c.text).join("");
    expect(stdout).toBe("WARNING: Waiting for service 'Spooler' to stop...\r\nRunning\r\n");
    expect(chunks.every((c) => c.stream === "system" || c.stepId === steps[0]!.id)).toBe(true);
    expect(chunks[0]!.text).toBe("Run started on worker worker-sample.\n");
    expect(chunks.at(-1)!.text).toBe("Run succeeded.\n");
    expect(fixture.server.stats.openShells).toBe(0);
    expect(lines.some((l) => l.msg === "run finished" && l.runId === run.id && l.status === "succeeded")).toBe(true);
    expect(lines.find((l) => l.msg === "step finished" && l.runId === run.id)).toMatchObject({ stepId: steps[0]!.id, stepIndex: 0, status: "succeeded", exitCode: 0 });
  });

  test("a failing command fails its step and the run, and later steps are skipped", async () => {
    const { worker: w } = await worker();
    const { jobId, versionId } = await fixture.job({ name: "Broken", version: 1, steps: [{ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Get-Nonsense" }, { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Write-Output 'x'" }] });
    const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
    const done = await waitForRun(run.id, (r) => TERMINAL.includes(r.status));
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/Step 1 .* failed/);
    const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
    expect(steps.map((s) => [s.status, s.exitCode])).toEqual([["failed", 1], ["skipped", null]]);
  });

  test("the credential's password never reaches the stored output, even when a command prints it", async () => {
    const { worker: w } = await worker();
    const { jobId, versionId } = await fixture.job({ name: "Leaky", version: 1, parameters: { text: "x" }, steps: [{ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Write-Output {{ text }}" }] });
    const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: { text: "Winter2026!secret" } });
    await waitForRun(run.id, (r) => TERMINAL.includes(r.status));
    const chunks = await prisma.runOutputChunk.findMany({ where: { runId: run.id } });
    const text = chunks.map((c) => c.text).join("");
    expect(text).toContain("***");
    expect(text).not.toContain("Winter2026!secret");
  });
});

test("a job that declares retries is run again after a failed attempt, until it succeeds", async () => {
  const { worker: w } = await worker();
  const key = randomBytes(4).toString("hex");
  const { jobId, versionId } = await fixture.job({ name: "Flaky", version: 1, retries: { limit: 2, delaySec: 1, backoff: false }, steps: [{ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: `Invoke-Flaky '${key}' 2` }] });
  const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
  const done = await waitForRun(run.id, (r) => TERMINAL.includes(r.status), 60_000);
  expect(done).toMatchObject({ status: "succeeded", attempt: 3, error: null });
  const system = (await prisma.runOutputChunk.findMany({ where: { runId: run.id, stream: "system" }, orderBy: { sequence: "asc" } })).map((c) => c.text).join("");
  expect(system).toContain("Attempt 1 of 3 failed: Step 1 (winrm.exec #1) failed");
  expect(system).toContain("Attempt 3 started on worker");
  const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id } });
  expect(steps.map((s) => s.status)).toEqual(["succeeded"]);
});

test("retries run out: the last attempt's failure is the run's", async () => {
  const { worker: w } = await worker();
  const key = randomBytes(4).toString("hex");
  const { jobId, versionId } = await fixture.job({ name: "Hopeless", version: 1, retries: { limit: 1, delaySec: 1 }, steps: [{ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: `Invoke-Flaky '${key}' 5` }] });
  const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
  const done = await waitForRun(run.id, (r) => TERMINAL.includes(r.status), 60_000);
  expect(done).toMatchObject({ status: "failed", attempt: 2 });
});

test("a due schedule fires through the worker's scheduler and its run is executed", async () => {
  const { worker: w } = await worker();
  expect(w.scheduler).toBeDefined();
  const { jobId } = await fixture.job(sample);
  const schedule = await createTestSchedule(prisma, { jobId, cron: "* * * * * *", timezone: "Europe/London", parameters: { svc: "Spooler" }, nextRunAt: new Date() });
  w.scheduler!.wake();
  const deadline = Date.now() + 30_000;
  let run = await prisma.jobRun.findFirst({ where: { scheduleId: schedule.id, status: "succeeded" } });
  while (!run && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    run = await prisma.jobRun.findFirst({ where: { scheduleId: schedule.id, status: "succeeded" } });
  }
  await prisma.schedule.update({ where: { id: schedule.id }, data: { enabled: false } });
  expect(run).toMatchObject({ trigger: "schedule", status: "succeeded", parameters: { svc: "Spooler" } });
});

test("Prometheus metrics: runs by status, step durations, queue depth and scheduler lag", async () => {
  const { worker: w } = await worker({ metricsPort: 0 });
  expect(w.metrics.port).toBeGreaterThan(0);
  const { jobId, versionId } = await fixture.job(sample);
  const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
  await waitForRun(run.id, (r) => TERMINAL.includes(r.status));
  // The run may have been executed by another worker of this file; this one still reports the shared gauges.
  const res = await fetch(`http://127.0.0.1:${w.metrics.port}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toMatch(/^opsconductor_runs\{status="succeeded"\} [1-9]\d*$/m);
  expect(text).toMatch(/^opsconductor_queue_depth \d+$/m);
  expect(text).toMatch(/^opsconductor_scheduler_lag_seconds [\d.]+$/m);
  expect(text).toContain("# TYPE opsconductor_step_duration_seconds histogram");
  expect(text).toContain("# TYPE opsconductor_runs_finished_total counter");
  expect(text).toMatch(/^opsconductor_worker_active_runs \d+$/m);
  expect((await fetch(`http://127.0.0.1:${w.metrics.port}/other`)).status).toBe(404);
});

describe("cancellation", () => {
  test("cancel ends a running step within 2 s and leaves no shell open on the server", async () => {
    const { worker: w } = await worker();
    const { jobId, versionId } = await fixture.job(sleeper(60));
    const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
    await waitForRun(run.id, (r) => r.status === "running");
    const deadline = Date.now() + 20_000;
    while (fixture.server.stats.runningCommands === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const asked = Date.now();
    await prisma.jobRun.update({ where: { id: run.id }, data: { cancelRequestedAt: new Date() } });
    await requestRunControl(prisma, { runId: run.id, action: "cancel" });
    const done = await waitForRun(run.id, (r) => TERMINAL.includes(r.status), 10_000);
    expect(Date.now() - asked).toBeLessThan(2_000);
    expect(done.status).toBe("canceled");
    const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
    expect(steps.map((s) => s.status)).toEqual(["canceled", "skipped"]);
    expect(fixture.server.stats.openShells).toBe(0);
  });
});

describe("shutdown and crashes", () => {
  test("SIGTERM stops claiming runs, and fails a run still executing after the grace period with a clear reason", async () => {
    await stopTestWorkers();
    const { worker: w } = await worker({ id: "worker-draining", shutdownGraceSec: 1 });
    const quick = await fixture.job(sample);
    const slow = await fixture.job(sleeper(60));
    const { run: slowRun } = await enqueueRun(prisma, w.boss, { jobId: slow.jobId, jobVersionId: slow.versionId, parameters: {} });
    await waitForRun(slowRun.id, (r) => r.status === "running" && r.workerId === "worker-draining");
    await w.stop();
    const failed = await prisma.jobRun.findUniqueOrThrow({ where: { id: slowRun.id } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("the worker shut down before the run finished (it waited 1 s for it)");
    expect(fixture.server.stats.openShells).toBe(0);
    // A stopped worker claims nothing more; another one picks the run up.
    const { worker: next } = await worker({ id: "worker-next" });
    const { run: later } = await enqueueRun(prisma, next.boss, { jobId: quick.jobId, jobVersionId: quick.versionId, parameters: {} });
    const done = await waitForRun(later.id, (r) => TERMINAL.includes(r.status));
    expect(done.workerId).not.toBe("worker-draining");
  });

  test("a worker killed with SIGKILL mid-run: the run ends failed within 60 s and another worker keeps processing", { timeout: 120_000 }, async () => {
    // Only the doomed worker may claim the run: stop the others first.
    await stopTestWorkers();
    const doomedId = `worker-doomed-${randomBytes(3).toString("hex")}`;
    const child = spawn(process.execPath, ["--conditions=@opsconductor/source", "src/main.ts"], {
      cwd: `${import.meta.dirname}/..`,
      env: { ...process.env, DATABASE_URL: url, OPSCONDUCTOR_MASTER_KEY: `test:${fixture.masterKeys.keys.test}`, WORKER_ID: doomedId, METRICS_PORT: "0", WORKER_CONCURRENCY: "1", LOG_LEVEL: "warn" },
      stdio: "ignore",
    });
    const exited = new Promise<void>((done) => child.on("exit", () => done()));
    const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
    await boss.start();
    try {
      const slow = await fixture.job(sleeper(300));
      const { run } = await enqueueRun(prisma, boss, { jobId: slow.jobId, jobVersionId: slow.versionId, parameters: {} });
      await waitForRun(run.id, (r) => r.status === "running" && r.workerId === doomedId, 60_000);
      child.kill("SIGKILL");
      await exited;
      const killedAt = Date.now();
      const { worker: survivor } = await worker({ id: "worker-survivor" });
      const failed = await waitForRun(run.id, (r) => r.status !== "running", 60_000);
      expect(Date.now() - killedAt).toBeLessThan(60_000);
      expect(failed.status).toBe("failed");
      expect(failed.error).toMatch(new RegExp(`the worker ${doomedId} executing this run stopped responding`));
      const next = await fixture.job(sample);
      const { run: after } = await enqueueRun(prisma, survivor.boss, { jobId: next.jobId, jobVersionId: next.versionId, parameters: {} });
      expect((await waitForRun(after.id, (r) => TERMINAL.includes(r.status))).status).toBe("succeeded");
    } finally {
      child.kill("SIGKILL");
      await boss.stop({ graceful: false });
    }
  });
});

test("a worker restarted under the same WORKER_ID fails the runs its previous process left running", async () => {
  const job = await fixture.job(sample);
  const stale = await createTestRun(prisma, job, { status: "running", workerId: "worker-fixed-id" });
  await worker({ id: "worker-fixed-id" });
  const after = await prisma.jobRun.findUniqueOrThrow({ where: { id: stale.id } });
  expect(after.status).toBe("failed");
  expect(after.error).toBe("the worker worker-fixed-id restarted while executing this run; the run did not finish");
});

test("configuration errors name the variable", () => {
  const key = randomBytes(32).toString("base64");
  expect(() => parseWorkerEnv({ OPSCONDUCTOR_MASTER_KEY: key })).toThrow(/DATABASE_URL is not set/);
  expect(() => parseWorkerEnv({ DATABASE_URL: "mysql://x", OPSCONDUCTOR_MASTER_KEY: key })).toThrow(/DATABASE_URL must be a postgresql:\/\/ connection string/);
  expect(() => parseWorkerEnv({ DATABASE_URL: "postgresql://x", OPSCONDUCTOR_MASTER_KEY: key, WORKER_CONCURRENCY: "0" })).toThrow(/WORKER_CONCURRENCY/);
  expect(() => parseWorkerEnv({ DATABASE_URL: "postgresql://x" })).toThrow(/OPSCONDUCTOR_MASTER_KEY is not set/);
  expect(() => parseWorkerEnv({ DATABASE_URL: "postgresql://x", OPSCONDUCTOR_MASTER_KEY: key, WORKER_HEARTBEAT_SEC: "10", WORKER_LEASE_SEC: "20" })).toThrow(/WORKER_LEASE_SEC must be at least three times WORKER_HEARTBEAT_SEC/);
  expect(parseWorkerEnv({ DATABASE_URL: "postgresql://x", OPSCONDUCTOR_MASTER_KEY: key })).toMatchObject({ WORKER_CONCURRENCY: 4, LOG_LEVEL: "info", METRICS_PORT: 9464, WORKER_HEARTBEAT_SEC: 10, WORKER_LEASE_SEC: 30 });
});
