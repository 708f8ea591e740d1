// No run stays "queued" or "running" forever because of an error in the worker, and runs waiting
// their turn (overlap policy "queue") hold no worker slot while they wait.
import { enqueueRun, type RunStatus } from "@opsconductor/db";
import { createTestDatabase, createTestHeartbeat, createTestRun, createTestSchedule, waitForRun } from "@opsconductor/testing";
import { createWorkerFixture, startTestWorker, type TestWorkerOptions } from "@opsconductor/testing/worker";
import { expect, test } from "vitest";

const { url, prisma } = await createTestDatabase();
const fixture = await createWorkerFixture(prisma);

async function worker(id: string, options: Partial<TestWorkerOptions> = {}) {
  const started = await startTestWorker({ databaseUrl: url, masterKeys: fixture.masterKeys, concurrency: 1, id, shutdownGraceSec: 5, scheduler: false, ...options });
  return started.worker;
}

const waitForStatus = (runId: string, statuses: RunStatus[], timeoutMs = 20_000) => waitForRun(prisma, runId, (run) => statuses.includes(run.status), timeoutMs);

const quick = (name: string) => ({ name, version: 1, steps: [{ type: "winrm.exec", name, shell: "powershell", target: fixture.targetName, command: "Write-Output 'done'" }] });

test("a database error inside the handler after the claim leaves the run failed, not running", async () => {
  // A real error from PostgreSQL at the first write after the claim: preparing the run's step rows.
  await prisma.$executeRawUnsafe(`
    CREATE FUNCTION refuse_exploding_step() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name = 'explode' THEN RAISE EXCEPTION 'step rows named explode are refused'; END IF;
      RETURN NEW;
    END $$`);
  await prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_exploding_step BEFORE INSERT ON job_run_steps FOR EACH ROW EXECUTE FUNCTION refuse_exploding_step()`);
  const w = await worker("worker-erring");
  const { jobId, versionId } = await fixture.job(quick("explode"));
  const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
  const done = await waitForStatus(run.id, ["succeeded", "failed", "canceled", "timed_out"]);
  expect(done).toMatchObject({ status: "failed", workerId: "worker-erring", attempt: 1 });
  expect(done.error).toMatch(/^the worker hit an unexpected error: .*step rows named explode are refused/s);
  expect(done.finishedAt).not.toBeNull();
  await w.stop();
});

test("an unexpected error in an attempt of a job that declares retries puts the run back in the queue, and the next attempt runs", { timeout: 60_000 }, async () => {
  // Step rows named "explode once" are refused until the test lets them through.
  await prisma.$executeRawUnsafe(`CREATE TABLE let_explode_once_pass (ok boolean)`);
  await prisma.$executeRawUnsafe(`
    CREATE FUNCTION refuse_first_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name = 'explode once' AND NOT EXISTS (SELECT 1 FROM let_explode_once_pass) THEN RAISE EXCEPTION 'step rows named explode once are refused for now'; END IF;
      RETURN NEW;
    END $$`);
  await prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_first_attempt BEFORE INSERT ON job_run_steps FOR EACH ROW EXECUTE FUNCTION refuse_first_attempt()`);
  const w = await worker("worker-retrying");
  const { jobId, versionId } = await fixture.job({ ...quick("explode once"), retries: { limit: 1, delaySec: 1, backoff: false } });
  const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: {} });
  // Attempt 1 fails on the refused step rows; the run goes back to the queue, not to "failed".
  const deadline = Date.now() + 20_000;
  let seen = await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } });
  while ((seen.attempt < 1 || seen.status === "running") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } });
  }
  expect(seen).toMatchObject({ status: "queued", attempt: 1 });
  expect(seen.error).toMatch(/^the worker hit an unexpected error: .*refused for now/s);
  await prisma.$executeRawUnsafe(`INSERT INTO let_explode_once_pass VALUES (true)`);
  expect(await waitForStatus(run.id, ["succeeded", "failed"], 30_000)).toMatchObject({ status: "succeeded", attempt: 2, workerId: "worker-retrying" });
  await w.stop();
});

test("a database error before the claim fails the queue job, and the run it leaves queued is failed soon after, with a reason", async () => {
  // A real error from PostgreSQL at the claim itself: the run row refuses to become running.
  await prisma.$executeRawUnsafe(`
    CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'running' AND NEW.parameters->>'refuseClaim' = 'yes' THEN RAISE EXCEPTION 'claims of this run are refused'; END IF;
      RETURN NEW;
    END $$`);
  await prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_claim BEFORE UPDATE ON job_runs FOR EACH ROW EXECUTE FUNCTION refuse_claim()`);
  const w = await worker("worker-refused-claim", { heartbeatIntervalMs: 500, leaseMs: 5_000, endedQueueJobGraceMs: 1_000 });
  const { jobId, versionId } = await fixture.job(quick("never claimed"));
  const { run } = await enqueueRun(prisma, w.boss, { jobId, jobVersionId: versionId, parameters: { refuseClaim: "yes" } });
  const done = await waitForStatus(run.id, ["succeeded", "failed", "canceled", "timed_out"]);
  expect(done).toMatchObject({ status: "failed", workerId: null, attempt: 0 });
  expect(done.error).toMatch(/^the run never started: its queue job ended before a worker could claim it/);
  // A healthy run next to it is untouched by the sweep.
  const { jobId: okJob, versionId: okVersion } = await fixture.job(quick("claimed"));
  const { run: ok } = await enqueueRun(prisma, w.boss, { jobId: okJob, jobVersionId: okVersion, parameters: {} });
  expect((await waitForStatus(ok.id, ["succeeded", "failed"])).status).toBe("succeeded");
  await w.stop();
});

test("queue-policy runs waiting on an earlier run hold no worker slot: a concurrency-1 worker still executes an unrelated run", { timeout: 60_000 }, async () => {
  const w = await worker("worker-one-slot");
  const scheduled = await fixture.job(quick("scheduled"));
  const schedule = await createTestSchedule(prisma, { jobId: scheduled.jobId, timezone: "UTC", overlapPolicy: "queue", enabled: false });
  // The schedule's earlier run is still running on another, live worker.
  await createTestHeartbeat(prisma, { id: "worker-elsewhere" });
  const earlier = await createTestRun(prisma, scheduled, { scheduleId: schedule.id, trigger: "schedule", status: "running", workerId: "worker-elsewhere", attempt: 1 });
  const keepAlive = setInterval(() => void prisma.workerHeartbeat.update({ where: { id: "worker-elsewhere" }, data: { lastSeenAt: new Date() } }).catch(() => {}), 1_000);
  try {
    const { run: waiting } = await enqueueRun(prisma, w.boss, { jobId: scheduled.jobId, jobVersionId: scheduled.versionId, parameters: {}, scheduleId: schedule.id, trigger: "schedule" });
    await new Promise((r) => setTimeout(r, 2_000));
    const unrelated = await fixture.job(quick("unrelated"));
    const { run: other } = await enqueueRun(prisma, w.boss, { jobId: unrelated.jobId, jobVersionId: unrelated.versionId, parameters: {} });
    expect((await waitForStatus(other.id, ["succeeded", "failed"], 15_000)).status).toBe("succeeded");
    expect((await prisma.jobRun.findUniqueOrThrow({ where: { id: waiting.id } })).status).toBe("queued");

    await prisma.jobRun.update({ where: { id: earlier.id }, data: { status: "succeeded", finishedAt: new Date() } });
    expect(await waitForStatus(waiting.id, ["succeeded", "failed"], 20_000)).toMatchObject({ status: "succeeded", workerId: "worker-one-slot", attempt: 1 });
  } finally {
    clearInterval(keepAlive);
  }
});
