import pg from "pg";
import { parseJobDefinition } from "@opsconductor/core";
import { appendRunOutput, notifyRun, RUN_CONTROL_CHANNEL } from "@opsconductor/db";
import { createTestJob, createTestRun, createTestStep, finishTestRun, outputLines, until, writeRunOutput, type TestRunInput } from "@opsconductor/testing";
import { openEvents as openStream, startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();

const definition = parseJobDefinition({
  name: "Restart a service",
  parameters: { svc: "Spooler", password: { type: "secret", required: false } },
  steps: [
    { id: "stop", type: "winrm.exec", target: "srv-1", command: "Stop-Service {{ svc }}" },
    { id: "start", type: "winrm.exec", target: "srv-1", command: "Start-Service {{ svc }}" },
  ],
});
const newJob = (name?: string) => createTestJob(app.prisma, { name, definition, createdById: app.users.admin.id });
const newRun = (job: { id: string; currentVersionId: string | null }, setup: TestRunInput = {}) =>
  createTestRun(app.prisma, job, { parameters: { svc: "Spooler" }, requestedById: app.users.operator.id, ...setup });

async function addSteps(runId: string, count = 2) {
  const steps = [];
  for (let index = 0; index < count; index++) steps.push(await createTestStep(app.prisma, runId, { index, status: index === 0 ? "running" : "pending" }));
  return steps;
}

describe("GET /api/runs", () => {
  test("lists runs newest first with keyset pages and filters by job, status, trigger and time", async () => {
    const a = await newJob();
    const b = await newJob();
    const t0 = Date.parse("2026-01-01T00:00:00.000Z");
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);
    const runs = [
      await newRun(a, { status: "succeeded", queuedAt: at(1) }),
      await newRun(a, { status: "failed", queuedAt: at(2), trigger: "schedule" }),
      await newRun(b, { status: "running", queuedAt: at(3) }),
      await newRun(a, { status: "queued", queuedAt: at(4), trigger: "api" }),
      await newRun(b, { status: "queued", queuedAt: at(5) }),
    ];
    const window = `from=${at(1).toISOString()}&to=${at(6).toISOString()}`;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await app.request("GET", `/api/runs?limit=2&${window}${cursor ? `&cursor=${cursor}` : ""}`, { token: tokens.viewer });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((r) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(runs.map((r) => r.id).reverse());

    const first = await app.request("GET", `/api/runs?limit=1&${window}`, { token: tokens.viewer });
    expect(first.body.items[0]).toMatchObject({ id: runs[4]!.id, jobId: b.id, jobName: b.name, versionNumber: 1, status: "queued", trigger: "manual", requestedBy: { id: app.users.operator.id, username: "operator" }, queuedAt: at(5).toISOString() });

    const ids = async (query: string) => (await app.request("GET", `/api/runs?${window}&${query}`, { token: tokens.viewer })).body.items.map((r: { id: string }) => r.id);
    expect(await ids(`job=${a.id}`)).toEqual([runs[3]!.id, runs[1]!.id, runs[0]!.id]);
    expect(await ids("status=queued,failed")).toEqual([runs[4]!.id, runs[3]!.id, runs[1]!.id]);
    expect(await ids("status=running&status=succeeded")).toEqual([runs[2]!.id, runs[0]!.id]);
    expect(await ids("trigger=schedule")).toEqual([runs[1]!.id]);
    expect(await ids(`job=${b.id}&status=queued`)).toEqual([runs[4]!.id]);
    const narrow = await app.request("GET", `/api/runs?from=${at(2).toISOString()}&to=${at(4).toISOString()}`, { token: tokens.viewer });
    expect(narrow.body.items.map((r: { id: string }) => r.id)).toEqual([runs[2]!.id, runs[1]!.id]);
  });

  test("filters by target: runs with a step on it", async () => {
    const target = await app.create("/api/targets", tokens.admin, { name: `filtered-${Date.now()}`, hostname: "10.0.0.9", os: "windows", winrm: { transport: "https", auth: "ntlm" } });
    const job = await newJob();
    const on = await newRun(job, { status: "succeeded" });
    const off = await newRun(job, { status: "succeeded" });
    await createTestStep(app.prisma, on.id, { index: 0, targetId: target.id, targetName: target.name });
    await createTestStep(app.prisma, off.id, { index: 0 });
    const res = await app.request("GET", `/api/runs?target=${target.id}`, { token: tokens.viewer });
    expect(res.body.items.map((r: { id: string }) => r.id)).toEqual([on.id]);
    expect((await app.request("GET", "/api/runs?target=nope", { token: tokens.viewer })).body.error.details[0].path).toBe("query.target");
  });

  test("bad filters are a 400 naming the query field", async () => {
    const cases: [string, string][] = [
      ["status=bogus", "query.status"],
      ["trigger=cron", "query.trigger"],
      ["job=not-a-uuid", "query.job"],
      ["from=yesterday", "query.from"],
      ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "query.to"],
      ["limit=0", "query.limit"],
      ["cursor=garbage", "query.cursor"],
    ];
    for (const [query, path] of cases) {
      const res = await app.request("GET", `/api/runs?${query}`, { token: tokens.viewer });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: { path: string }) => d.path.replace(/\.\d+$/, ""))).toEqual([path]);
    }
  });

  test("needs a token", async () => {
    expect((await app.request("GET", "/api/runs")).status).toBe(401);
  });
});

describe("GET /api/runs/{id} and /steps", () => {
  test("a run comes with its job name, version number, masked secret parameters and requester", async () => {
    const job = await newJob("detailed job");
    const run = await newRun(job, { status: "failed", parameters: { svc: "W32Time", password: "***" } });
    await app.prisma.jobRun.update({ where: { id: run.id }, data: { error: "step 1 failed: exit code 1" } });
    const res = await app.request("GET", `/api/runs/${run.id}`, { token: tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: run.id,
      jobId: job.id,
      jobName: "detailed job",
      jobVersionId: job.currentVersionId,
      versionNumber: 1,
      parameters: { svc: "W32Time", password: "***" },
      status: "failed",
      trigger: "manual",
      requestedBy: { id: app.users.operator.id, username: "operator" },
      queuedAt: run.queuedAt.toISOString(),
      startedAt: run.startedAt!.toISOString(),
      finishedAt: run.finishedAt!.toISOString(),
      cancelRequestedAt: null,
      error: "step 1 failed: exit code 1",
    });
    expect((await app.request("GET", "/api/runs/00000000-0000-4000-8000-000000000000", { token: tokens.viewer })).status).toBe(404);
    const bad = await app.request("GET", "/api/runs/nope", { token: tokens.viewer });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("params.id");
  });

  test("steps come in index order with their output concatenated per stream", async () => {
    const run = await newRun(await newJob(), { status: "running" });
    const [s0, s1] = await addSteps(run.id);
    await appendRunOutput(app.prisma, run.id, [
      { stream: "system", sequence: 1, text: "claimed by worker-1\n" },
      { stepId: s0!.id, stream: "stdout", sequence: 2, text: "Stopping " },
      { stepId: s0!.id, stream: "stderr", sequence: 3, text: "warning\n" },
      { stepId: s0!.id, stream: "stdout", sequence: 4, text: "Spooler\n" },
      { stepId: s1!.id, stream: "stdout", sequence: 5, text: "Starting\n" },
    ]);
    const res = await app.request("GET", `/api/runs/${run.id}/steps`, { token: tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ runId: run.id, status: "running", lastSequence: 5, truncated: false, output: { stdout: "", stderr: "", system: "claimed by worker-1\n" } });
    expect(res.body.items.map((s: { index: number }) => s.index)).toEqual([0, 1]);
    expect(res.body.items[0]).toMatchObject({ id: s0!.id, name: "Step 0", type: "winrm.exec", targetName: "srv-1", status: "running", output: { stdout: "Stopping Spooler\n", stderr: "warning\n", system: "" } });
    expect(res.body.items[1].output).toEqual({ stdout: "Starting\n", stderr: "", system: "" });

    const later = await app.request("GET", `/api/runs/${run.id}/steps?afterSequence=3`, { token: tokens.viewer });
    expect(later.body.items[0].output.stdout).toBe("Spooler\n");
    expect(later.body.output.system).toBe("");
    expect(later.body.lastSequence).toBe(5);
    expect((await app.request("GET", `/api/runs/${run.id}/steps?afterSequence=x`, { token: tokens.viewer })).body.error.details[0].path).toBe("query.afterSequence");
  });

  test("big output comes in pages of at most 1 MB of text, marked truncated", async () => {
    const run = await newRun(await newJob(), { status: "succeeded" });
    const [step] = await addSteps(run.id, 1);
    const piece = (n: number) => String(n).repeat(300 * 1024);
    await appendRunOutput(app.prisma, run.id, [1, 2, 3, 4, 5].map((n) => ({ stepId: step!.id, stream: "stdout" as const, sequence: n, text: piece(n) })));
    const first = await app.request("GET", `/api/runs/${run.id}/steps`, { token: tokens.viewer });
    expect(first.body).toMatchObject({ truncated: true, lastSequence: 3 });
    expect(first.body.items[0].output.stdout).toBe(piece(1) + piece(2) + piece(3));
    const second = await app.request("GET", `/api/runs/${run.id}/steps?afterSequence=${first.body.lastSequence}`, { token: tokens.viewer });
    expect(second.body).toMatchObject({ truncated: false, lastSequence: 5 });
    expect(second.body.items[0].output.stdout).toBe(piece(4) + piece(5));
  });
});

// A LISTEN connection of the test's own, to see what the web app asks of workers.
async function listen(channel: string) {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  const received: unknown[] = [];
  client.on("notification", (m) => received.push(JSON.parse(m.payload ?? "null")));
  await client.connect();
  await client.query(`LISTEN ${channel}`);
  return { received, close: () => client.end() };
}

describe("POST /api/runs/{id}/cancel and /rerun", () => {
  test("a rerun queues a new run of the same version with the same parameters, exactly like a fresh one", async () => {
    const job = await newJob();
    const original = await newRun(job, { status: "failed", parameters: { svc: "Dnscache" } });
    const res = await app.request("POST", `/api/runs/${original.id}/rerun`, { token: tokens.operator });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ runId: expect.any(String), status: "queued" });
    const rerun = await app.prisma.jobRun.findUniqueOrThrow({ where: { id: res.body.runId } });
    expect(rerun).toMatchObject({ jobId: job.id, jobVersionId: job.currentVersionId, parameters: { svc: "Dnscache" }, status: "queued", requestedById: app.users.operator.id, queueJobId: rerun.id });
    const [queued] = await app.prisma.$queryRaw<{ state: string; data: unknown }[]>`SELECT state::text, data FROM pgboss.job WHERE id = ${rerun.id}::uuid`;
    expect(queued).toEqual({ state: "created", data: { runId: rerun.id } });
    const audit = await app.prisma.auditLog.findFirst({ where: { action: "run.rerun", entityId: rerun.id } });
    expect(audit).toMatchObject({ actorId: app.users.operator.id, details: expect.objectContaining({ rerunOf: original.id }) });

    // Cancelling that queued run ends it at once and takes its job off the queue.
    const cancel = await app.request("POST", `/api/runs/${rerun.id}/cancel`, { token: tokens.operator });
    expect(cancel.status).toBe(200);
    expect(cancel.body.run).toMatchObject({ id: rerun.id, status: "canceled", cancelRequestedAt: expect.any(String), finishedAt: expect.any(String) });
    const [after] = await app.prisma.$queryRaw<{ state: string }[]>`SELECT state::text FROM pgboss.job WHERE id = ${rerun.id}::uuid`;
    expect(after!.state).toBe("cancelled");
    expect(await app.prisma.auditLog.count({ where: { action: "run.cancel", entityId: rerun.id, actorId: app.users.operator.id } })).toBe(1);
  });

  test("a run that had secret parameters cannot be rerun from its row", async () => {
    const job = await newJob();
    const run = await newRun(job, { status: "succeeded", parameters: { svc: "Spooler", password: "***" } });
    const res = await app.request("POST", `/api/runs/${run.id}/rerun`, { token: tokens.admin });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("secret_parameters");
    expect(res.body.error.message).toContain(`POST /api/jobs/${job.id}/run`);
    expect(res.body.error.message).toContain("password");
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(1);
  });

  test("a running run is asked to stop: cancelRequestedAt is set and its worker is notified", async () => {
    const run = await newRun(await newJob(), { status: "running" });
    const control = await listen(RUN_CONTROL_CHANNEL);
    try {
      const res = await app.request("POST", `/api/runs/${run.id}/cancel`, { token: tokens.admin });
      expect(res.status).toBe(202);
      expect(res.body.run).toMatchObject({ status: "running", cancelRequestedAt: expect.any(String), finishedAt: null });
      await until(() => control.received.length > 0, "the cancel request");
      expect(control.received).toEqual([{ runId: run.id, action: "cancel" }]);
    } finally {
      await control.close();
    }
    const audit = await app.prisma.auditLog.findFirst({ where: { action: "run.cancel", entityId: run.id } });
    expect(audit).toMatchObject({ actorId: app.users.admin.id, details: { previousStatus: "running" } });
  });

  test("a finished run cannot be canceled; viewers may do neither; unknown runs are 404", async () => {
    const run = await newRun(await newJob(), { status: "succeeded" });
    const finished = await app.request("POST", `/api/runs/${run.id}/cancel`, { token: tokens.operator });
    expect(finished.status).toBe(409);
    expect(finished.body.error.code).toBe("run_finished");
    expect((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).cancelRequestedAt).toBeNull();
    const queued = await newRun(await newJob(), { status: "queued" });
    for (const action of ["cancel", "rerun"]) {
      const denied = await app.request("POST", `/api/runs/${queued.id}/${action}`, { token: tokens.viewer });
      expect(denied.status, action).toBe(403);
      expect((await app.request("POST", `/api/runs/00000000-0000-4000-8000-000000000000/${action}`, { token: tokens.admin })).status).toBe(404);
    }
    expect((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: queued.id } })).status).toBe("queued");
    expect(await app.prisma.auditLog.count({ where: { entityId: { in: [run.id, queued.id] } } })).toBe(0);
  });
});

const openEvents = (path: string, options: { token?: string; headers?: Record<string, string> } = {}) => openStream(app.url, path, options);

describe("GET /api/runs/{id}/events", () => {
  test("sends the snapshot, then live output in order, and ends after the run finishes", async () => {
    const run = await newRun(await newJob(), { status: "running" });
    const [s0] = await addSteps(run.id);
    await appendRunOutput(app.prisma, run.id, [{ stepId: s0!.id, stream: "stdout", sequence: 1, text: "before connect\n" }]);
    const stream = await openEvents(`/api/runs/${run.id}/events`, { token: tokens.viewer });
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(stream.res.headers.get("cache-control")).toContain("no-transform");
    try {
      await until(() => stream.outputs().length === 1, "the stored chunk");
      expect(stream.raw[0]).toMatch(/^retry: \d+$/);
      expect(stream.events.slice(0, 3).map((e) => e.event)).toEqual(["run", "step", "step"]);
      expect(JSON.parse(stream.events[0]!.data)).toMatchObject({ id: run.id, status: "running", jobName: expect.any(String) });
      expect(stream.events.slice(1, 3).map((e) => JSON.parse(e.data).index)).toEqual([0, 1]);

      // The worker's part: batches of chunks, a step change and the end of the run, each with a notice.
      await writeRunOutput(app.prisma, run.id, [
        { stepId: s0!.id, stream: "stdout", sequence: 2, text: "two\n" },
        { stepId: s0!.id, stream: "stderr", sequence: 3, text: "three\n" },
      ]);
      await until(() => stream.outputs().length === 3, "the first live batch");
      await app.prisma.jobRunStep.update({ where: { id: s0!.id }, data: { status: "succeeded", exitCode: 0, finishedAt: new Date() } });
      await notifyRun(app.prisma, { runId: run.id, kind: "step" });
      await until(() => stream.events.some((e) => e.event === "step" && JSON.parse(e.data).status === "succeeded"), "the step change");
      await writeRunOutput(app.prisma, run.id, [{ stream: "system", sequence: 4, text: "done\n" }]);
      await finishTestRun(app.prisma, run.id);
      await until(() => stream.ended(), "the end of the stream");

      const outputs = stream.outputs();
      expect(outputs.map((o) => o.sequence)).toEqual([1, 2, 3, 4]);
      expect(outputs.map((o) => o.id)).toEqual(["1", "2", "3", "4"]);
      expect(outputs[2]).toMatchObject({ stepId: s0!.id, stream: "stderr", text: "three\n", at: expect.any(String) });
      expect(outputs[3]).toMatchObject({ stepId: null, stream: "system", text: "done\n" });
      const last = stream.events.at(-1)!;
      expect(last.event).toBe("end");
      expect(JSON.parse(last.data)).toEqual({ runId: run.id, status: "succeeded", lastSequence: 4 });
      const runEvents = stream.events.filter((e) => e.event === "run").map((e) => JSON.parse(e.data).status);
      expect(runEvents.at(-1)).toBe("succeeded");
    } finally {
      await stream.close();
    }
  });

  test("reconnecting with Last-Event-ID gets exactly the missing chunks, then follows live", async () => {
    const run = await newRun(await newJob(), { status: "running" });
    await appendRunOutput(app.prisma, run.id, outputLines(1, 2));
    const first = await openEvents(`/api/runs/${run.id}/events`, { token: tokens.operator });
    await until(() => first.outputs().length === 2, "the first two chunks");
    await first.close();
    // Output written while the client was away.
    await writeRunOutput(app.prisma, run.id, outputLines(3, 5));

    const second = await openEvents(`/api/runs/${run.id}/events`, { token: tokens.operator, headers: { "last-event-id": first.outputs().at(-1)!.id } });
    try {
      await until(() => second.outputs().length === 3, "the missed chunks");
      await writeRunOutput(app.prisma, run.id, outputLines(6, 6));
      await until(() => second.outputs().length === 4, "the next live chunk");
      await finishTestRun(app.prisma, run.id, { status: "failed", error: "boom" });
      await until(() => second.ended(), "the end of the stream");
      expect(second.outputs().map((o) => o.sequence)).toEqual([3, 4, 5, 6]);
      expect(second.events.at(-1)!.event).toBe("end");
    } finally {
      await second.close();
    }

    // A finished run replays from ?lastEventId= and ends at once.
    const replay = await openEvents(`/api/runs/${run.id}/events?lastEventId=4`, { token: tokens.viewer });
    await until(() => replay.ended(), "the replay to end");
    expect(replay.outputs().map((o) => o.text)).toEqual(["line 5\n", "line 6\n"]);
    expect(replay.events.map((e) => e.event)).toEqual(["run", "output", "output", "end"]);
  });

  test("a client that goes away is dropped without trouble; bad requests get JSON errors", async () => {
    const run = await newRun(await newJob(), { status: "running" });
    const stream = await openEvents(`/api/runs/${run.id}/events`, { token: tokens.viewer });
    await until(() => stream.events.length > 0, "the snapshot");
    await stream.close();
    await writeRunOutput(app.prisma, run.id, [{ stream: "stdout", sequence: 1, text: "nobody listens\n" }]);
    // Another stream of the same run still works after the first one left.
    const other = await openEvents(`/api/runs/${run.id}/events`, { token: tokens.viewer });
    await until(() => other.outputs().length === 1, "the chunk on the second stream");
    await other.close();
    expect(app.output()).not.toMatch(/\[run-events\]|Invalid state|unexpected error/);

    const anonymous = await app.request("GET", `/api/runs/${run.id}/events`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("unauthenticated");
    expect((await app.request("GET", "/api/runs/00000000-0000-4000-8000-000000000000/events", { token: tokens.viewer })).status).toBe(404);
    const badId = await app.request("GET", `/api/runs/${run.id}/events`, { token: tokens.viewer, headers: { "last-event-id": "abc" } });
    expect(badId.status).toBe(400);
    expect(badId.body.error.details[0].path).toBe("headers.last-event-id");
  });

  test("the shared listener reconnects when its connection drops, and open streams catch up", async () => {
    const run = await newRun(await newJob(), { status: "running" });
    const stream = await openEvents(`/api/runs/${run.id}/events`, { token: tokens.viewer });
    try {
      await until(() => stream.events.length > 0, "the snapshot");
      const listeners = async () =>
        (await app.prisma.$queryRaw<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = 'opsconductor-web-run-events' AND datname = current_database()`).map((r) => r.pid);
      const [before] = await listeners();
      expect(before).toBeDefined();
      await app.prisma.$queryRaw`SELECT pg_terminate_backend(${before}::int)`;
      // Written while nobody listens: its notice is lost, the re-read after the reconnect finds it.
      await writeRunOutput(app.prisma, run.id, [{ stream: "stdout", sequence: 1, text: "while away\n" }]);
      await until(() => stream.outputs().length === 1, "the chunk written while the listener was down");
      await until(async () => (await listeners()).length === 1, "a new listener connection");
      expect(await listeners()).not.toContain(before);
      await writeRunOutput(app.prisma, run.id, [{ stream: "stdout", sequence: 2, text: "live again\n" }]);
      await until(() => stream.outputs().length === 2, "a live chunk after the reconnect");
      expect(stream.outputs().map((o) => o.sequence)).toEqual([1, 2]);
      expect(app.output()).toContain("lost the run events connection");
    } finally {
      await stream.close();
    }
  });
});
