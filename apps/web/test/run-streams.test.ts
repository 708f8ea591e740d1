// Live run streams under load and over time: caps per user and in total, one read per notice for all
// streams of a run, and the periodic re-authorization that ends streams of revoked sessions.
import { parseJobDefinition } from "@opsconductor/core";
import { appendRunOutput, notifyRun, type Db } from "@opsconductor/db";
import { createLocalUser as createUser } from "../app/services/auth/local-users.server.ts";
import { createTestJob, createTestRun, createTestStep, finishTestRun, outputLines, until, writeRunOutput } from "@opsconductor/testing";
import { cookieHeader, openEvents, startApp, type OpenedEvents, type TestApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const REAUTH_SEC = 1;
const app = await startApp({ RUN_STREAMS_PER_USER: "3", RUN_STREAMS_TOTAL: "5", RUN_STREAM_REAUTH_SEC: String(REAUTH_SEC) });

const definition = parseJobDefinition({ name: "Tail a log", steps: [{ id: "tail", type: "winrm.exec", target: "srv-1", command: "Get-Content app.log -Wait" }] });

async function newRunningRun(on: TestApp) {
  const job = await createTestJob(on.prisma, { definition, createdById: on.users.admin.id });
  const run = await createTestRun(on.prisma, job, { status: "running", requestedById: on.users.operator.id });
  await createTestStep(on.prisma, run.id, { stepKey: "tail", name: "tail", status: "running" });
  return run;
}

let userCount = 0;
/** A fresh viewer of `on`, signed in: its bearer token and its browser cookies. */
async function newViewer(on: TestApp) {
  const username = `watcher${++userCount}`;
  const password = `watcher-password-${userCount}`;
  const user = await createUser(on.prisma, { username, password, role: "viewer" });
  const res = await on.request("POST", "/api/login", { body: { username, password } });
  expect(res.status).toBe(200);
  return { id: user.id, username, password, token: res.body.accessToken as string, cookies: res.headers.getSetCookie() };
}

/** Opens a stream and waits for its snapshot. */
async function watch(on: TestApp, runId: string, auth: { token?: string; headers?: Record<string, string> }, lastEventId?: number) {
  const stream = await openEvents(on.url, `/api/runs/${runId}/events${lastEventId === undefined ? "" : `?lastEventId=${lastEventId}`}`, auth);
  expect(stream.res.status).toBe(200);
  await until(() => stream.events.some((e) => e.event === "run"), "the snapshot");
  return stream;
}

async function refused(on: TestApp, runId: string, token: string) {
  // Opened as a stream: were it accepted, the test fails at once instead of reading it forever.
  const res = await openEvents(on.url, `/api/runs/${runId}/events`, { token });
  await until(() => res.ended(), "the answer", 2_000).finally(() => res.close());
  expect(res.res.status).toBe(429);
  const body = JSON.parse(res.text());
  expect(body.error.code).toBe("too_many_streams");
  expect(Number(res.res.headers.get("retry-after"))).toBeGreaterThan(0);
  return body.error.message as string;
}

/** Retries opening a stream for at most `ms`: a slot must free up within that. */
async function opensWithin(on: TestApp, runId: string, token: string, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const stream = await openEvents(on.url, `/api/runs/${runId}/events`, { token });
    if (stream.res.status === 200) return stream;
    await stream.close();
    if (Date.now() > deadline) throw new Error(`no slot freed within ${ms} ms (last status ${stream.res.status})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const closeAll = (streams: OpenedEvents[]) => Promise.all(streams.map((s) => s.close()));

describe("stream caps", () => {
  test("past RUN_STREAMS_PER_USER a user's next stream is a 429 with Retry-After; a closed or finished stream frees its slot at once", async () => {
    const run = await newRunningRun(app);
    const viewer = await newViewer(app);
    const open = [await watch(app, run.id, viewer), await watch(app, run.id, viewer), await watch(app, run.id, viewer)];
    try {
      expect(await refused(app, run.id, viewer.token)).toMatch(/RUN_STREAMS_PER_USER/);
      // The cap is the user's: somebody else still gets a stream.
      const other = await newViewer(app);
      const theirs = await watch(app, run.id, other);
      await theirs.close();

      // The client goes away: its slot is free for the next request at once.
      await open.shift()!.close();
      open.push(await opensWithin(app, run.id, viewer.token, 500));
      await refused(app, run.id, viewer.token);

      // The run ends: the server ends every stream of it, and their slots are free.
      await finishTestRun(app.prisma, run.id);
      await until(() => open.every((s) => s.ended()), "the streams of the finished run to end");
      expect(open.map((s) => s.events.at(-1)!.event)).toEqual(["end", "end", "end"]);
      const next = await newRunningRun(app);
      await closeAll(open.splice(0));
      open.push(await opensWithin(app, next.id, viewer.token, 500), await watch(app, next.id, viewer), await watch(app, next.id, viewer));
      await refused(app, next.id, viewer.token);
    } finally {
      await closeAll(open);
    }
  });

  test("past RUN_STREAMS_TOTAL every user gets a 429 until any stream closes", async () => {
    const run = await newRunningRun(app);
    const [a, b, c] = [await newViewer(app), await newViewer(app), await newViewer(app)];
    const open = [await watch(app, run.id, a), await watch(app, run.id, a), await watch(app, run.id, a), await watch(app, run.id, b), await watch(app, run.id, b)];
    try {
      expect(await refused(app, run.id, c.token)).toMatch(/RUN_STREAMS_TOTAL/);
      await open.pop()!.close();
      open.push(await opensWithin(app, run.id, c.token, 500));
      await refused(app, run.id, b.token);
    } finally {
      await closeAll(open);
    }
  });
});

describe("re-authorization", () => {
  // Within one interval of the check, plus the time the check's query and the close take.
  const deadline = REAUTH_SEC * 1000 + 1_500;

  async function endsWith(stream: OpenedEvents, code: string, since: number) {
    await until(() => stream.ended(), `the stream to end with ${code}`, deadline + 3_000);
    expect(Date.now() - since).toBeLessThan(deadline);
    const last = stream.events.at(-1)!;
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data)).toEqual({ error: { code, message: expect.any(String) } });
  }

  test("revoke-all ends the user's streams within the interval, telling why; their slots free up; others keep streaming", async () => {
    const run = await newRunningRun(app);
    const [victim, bystander] = [await newViewer(app), await newViewer(app)];
    const streams = [await watch(app, run.id, victim), await watch(app, run.id, victim), await watch(app, run.id, victim)];
    const unaffected = await watch(app, run.id, bystander);
    try {
      const revoked = await app.request("POST", "/api/revoke-all", { token: victim.token });
      expect(revoked.status).toBe(200);
      const since = Date.now();
      await Promise.all(streams.map((s) => endsWith(s, "session_revoked", since)));
      // Two more intervals: a session that holds is never ended.
      await new Promise((r) => setTimeout(r, 2 * REAUTH_SEC * 1000 + 200));
      expect(unaffected.ended()).toBe(false);
      await writeRunOutput(app.prisma, run.id, [{ stream: "stdout", sequence: 1, text: "still here\n" }]);
      await until(() => unaffected.outputs().length === 1, "live output after the others ended");
      // Signed in again, the user has all their slots back.
      const again = await app.request("POST", "/api/login", { body: { username: victim.username, password: victim.password } });
      streams.push(await watch(app, run.id, { token: again.body.accessToken }), await watch(app, run.id, { token: again.body.accessToken }), await watch(app, run.id, { token: again.body.accessToken }));
    } finally {
      await closeAll([...streams, unaffected]);
    }
  });

  test("disabling or deleting a user ends their streams within the interval", async () => {
    const admin = (await app.login("admin")).accessToken;
    const run = await newRunningRun(app);
    const [disabled, deleted] = [await newViewer(app), await newViewer(app)];
    const streams = [await watch(app, run.id, disabled), await watch(app, run.id, deleted)];
    try {
      expect((await app.request("PATCH", `/api/users/${disabled.id}`, { token: admin, body: { disabled: true } })).status).toBe(200);
      const disabledAt = Date.now();
      await endsWith(streams[0]!, "user_disabled", disabledAt);
      expect((await app.request("DELETE", `/api/users/${deleted.id}`, { token: admin })).status).toBe(204);
      await endsWith(streams[1]!, "user_deleted", Date.now());
    } finally {
      await closeAll(streams);
    }
  });

  test("a browser session's stream (cookies) ends when the user changes the password in another session", async () => {
    const run = await newRunningRun(app);
    const viewer = await newViewer(app);
    const stream = await watch(app, run.id, { headers: { cookie: cookieHeader(viewer.cookies) } });
    try {
      await new Promise((r) => setTimeout(r, REAUTH_SEC * 1000 + 200));
      expect(stream.ended()).toBe(false);
      const changed = await app.request("POST", "/api/users/me/password", { token: viewer.token, body: { currentPassword: viewer.password, newPassword: "a-brand-new-password-1" } });
      expect(changed.status).toBe(200);
      await endsWith(stream, "session_revoked", Date.now());
    } finally {
      await stream.close();
    }
  });

  test("a stream lives no longer than the access token that opened it: it ends with token_expired, and a fresh token resumes it", async () => {
    const shortLived = await startApp({ ACCESS_TOKEN_TTL_SEC: "3", RUN_STREAM_REAUTH_SEC: "1" });
    const run = await newRunningRun(shortLived);
    await appendRunOutput(shortLived.prisma, run.id, outputLines(1, 2));
    const viewer = await newViewer(shortLived);
    const stream = await watch(shortLived, run.id, viewer);
    try {
      await until(() => stream.outputs().length === 2, "the stored output");
      await until(() => stream.ended(), "the stream to end", 8_000);
      expect(JSON.parse(stream.events.at(-1)!.data).error.code).toBe("token_expired");
      const fresh = await shortLived.request("POST", "/api/login", { body: { username: viewer.username, password: viewer.password } });
      await writeRunOutput(shortLived.prisma, run.id, outputLines(3, 3));
      const resumed = await openEvents(shortLived.url, `/api/runs/${run.id}/events`, { token: fresh.body.accessToken, headers: { "last-event-id": "2" } });
      await until(() => resumed.outputs().length === 1, "the chunk written meanwhile");
      expect(resumed.outputs()[0].sequence).toBe(3);
      await resumed.close();
    } finally {
      await stream.close();
    }
  });
});

describe("one reader per run", () => {
  test(
    "fifty streams of one run cost one read of the run per notice, not fifty; each gets every chunk once, in order, from where it resumed",
    { timeout: 120_000 },
    async () => {
      const wide = await startApp({ RUN_STREAMS_PER_USER: "100" });
      const token = (await wide.login("viewer")).accessToken;
      const run = await newRunningRun(wide);
      await appendRunOutput(wide.prisma, run.id, outputLines(1, 1200));
      // Resume points from the start to the end of a backlog several read batches long.
      const resumeAt = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? undefined : (i * 97) % 1200));
      const streams = await Promise.all(resumeAt.map((from) => watch(wide, run.id, { token }, from)));
      try {
        await until(() => streams.every((s) => s.outputs().at(-1)?.sequence === 1200), "every stream to catch up", 30_000);

        // Reads of the run row and its steps by the web app, from PostgreSQL's statistics. Each
        // backend reports its counts at most 10 s late (PGSTAT_IDLE_INTERVAL), so wait that out.
        const settle = () => new Promise((r) => setTimeout(r, 11_000));
        const reads = async () => {
          const rows = await wide.prisma.$queryRaw<{ relname: string; scans: bigint }[]>`
            SELECT relname, COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) AS scans FROM pg_stat_user_tables WHERE relname IN ('job_runs', 'job_run_steps')`;
          return Object.fromEntries(rows.map((r) => [r.relname, Number(r.scans)])) as Record<"job_runs" | "job_run_steps", number>;
        };
        await settle();
        const before = await reads();
        // Notices of a step change with nothing new behind them: each costs whatever the streams read
        // in answer, and nothing the test does touches these tables meanwhile.
        const notices = 10;
        for (let i = 0; i < notices; i++) {
          await notifyRun(wide.prisma, { runId: run.id, kind: "step" });
          await new Promise((r) => setTimeout(r, 200));
        }
        await settle();
        const after = await reads();
        const runReads = after.job_runs - before.job_runs;
        const stepReads = after.job_run_steps - before.job_run_steps;
        // At least one read per notice shows the measurement sees the reads; a periodic re-read
        // (every 15 s) may add one or two.
        expect(runReads, `job_runs read ${runReads} times for ${notices} notices`).toBeGreaterThanOrEqual(notices / 2);
        expect(runReads, `job_runs read ${runReads} times for ${notices} notices`).toBeLessThanOrEqual(notices + 3);
        expect(stepReads, `job_run_steps read ${stepReads} times for ${notices} notices`).toBeLessThanOrEqual(notices + 3);

        // Live output while the run goes on, then its end: every stream sees each chunk once, in order.
        for (let n = 1201; n <= 1800; n += 100) {
          await writeRunOutput(wide.prisma, run.id, outputLines(n, n + 99));
        }
        await finishTestRun(wide.prisma, run.id);
        await until(() => streams.every((s) => s.ended()), "every stream to end", 30_000);
        streams.forEach((stream, i) => {
          const from = resumeAt[i] ?? 0;
          const sequences = stream.outputs().map((o) => o.sequence);
          expect(sequences.length, `stream ${i} (after ${from})`).toBe(1800 - from);
          expect(sequences.every((s, k) => s === from + 1 + k), `stream ${i} (after ${from}) in order, none lost or twice`).toBe(true);
          const last = stream.events.at(-1)!;
          expect(last.event).toBe("end");
          expect(JSON.parse(last.data)).toEqual({ runId: run.id, status: "succeeded", lastSequence: 1800 });
        });
        expect(wide.output()).not.toMatch(/\[run-events\]|unexpected error/);
      } finally {
        await closeAll(streams);
      }
    },
  );
});

describe("notices of output", () => {
  // Reads by the web app of each table, from PostgreSQL's statistics; each backend reports its
  // counts at most 10 s late (PGSTAT_IDLE_INTERVAL), so the caller waits that out before each look.
  const scans = async (db: Db) => {
    const rows = await db.$queryRaw<{ relname: string; scans: bigint }[]>`
      SELECT relname, COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) AS scans FROM pg_stat_user_tables WHERE relname IN ('job_runs', 'job_run_steps', 'run_output_chunks')`;
    return Object.fromEntries(rows.map((r) => [r.relname, Number(r.scans)])) as Record<"job_runs" | "job_run_steps" | "run_output_chunks", number>;
  };
  const settle = () => new Promise((r) => setTimeout(r, 11_000));

  test(
    "a notice of new output reads only the output, not the run and its steps, and one of output already sent reads nothing; step and run changes still arrive",
    { timeout: 90_000 },
    async () => {
      const viewer = await newViewer(app);
      const run = await newRunningRun(app);
      await appendRunOutput(app.prisma, run.id, outputLines(1, 100));
      const streams = [await watch(app, run.id, { token: viewer.token }), await watch(app, run.id, { token: viewer.token })];
      try {
        await until(() => streams.every((s) => s.outputs().at(-1)?.sequence === 100), "both streams to catch up");
        await settle();
        const before = await scans(app.prisma);
        const notices = 10;
        for (let i = 0; i < notices; i++) {
          // A worker's notice of output the streams already have, then one that names no sequence.
          await notifyRun(app.prisma, { runId: run.id, kind: "output", sequence: 100 });
          await notifyRun(app.prisma, { runId: run.id, kind: "output" });
          await new Promise((r) => setTimeout(r, 200));
        }
        await settle();
        const after = await scans(app.prisma);
        const [runReads, stepReads, chunkReads] = [after.job_runs - before.job_runs, after.job_run_steps - before.job_run_steps, after.run_output_chunks - before.run_output_chunks];
        // The feed's periodic re-read (every 15 s) may come once in this window.
        expect(runReads, `job_runs read ${runReads} times for ${2 * notices} output notices`).toBeLessThanOrEqual(1);
        expect(stepReads, `job_run_steps read ${stepReads} times for ${2 * notices} output notices`).toBeLessThanOrEqual(1);
        // One read for each notice without a sequence shows the measurement sees the reads; the ones of output already sent add none.
        expect(chunkReads, `run_output_chunks read ${chunkReads} times`).toBeGreaterThanOrEqual(notices / 2);
        expect(chunkReads, `run_output_chunks read ${chunkReads} times`).toBeLessThanOrEqual(notices + 1);

        // New output, a step's change and the run's end, each announced as the worker does.
        await writeRunOutput(app.prisma, run.id, outputLines(101, 150));
        await until(() => streams.every((s) => s.outputs().at(-1)?.sequence === 150), "the new output");
        await app.prisma.jobRunStep.updateMany({ where: { runId: run.id }, data: { status: "succeeded", exitCode: 0, finishedAt: new Date() } });
        await notifyRun(app.prisma, { runId: run.id, kind: "step" });
        await until(() => streams.every((s) => s.events.some((e) => e.event === "step" && JSON.parse(e.data).status === "succeeded")), "the step's change");
        await writeRunOutput(app.prisma, run.id, outputLines(151, 160));
        await finishTestRun(app.prisma, run.id);
        await until(() => streams.every((s) => s.ended()), "both streams to end");
        for (const stream of streams) {
          expect(stream.outputs().map((o) => o.sequence)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
          expect(JSON.parse(stream.events.at(-1)!.data)).toEqual({ runId: run.id, status: "succeeded", lastSequence: 160 });
        }
      } finally {
        await closeAll(streams);
      }
    },
  );

  test("busy runs read together: each stream of several runs written at once gets its own run's output, every chunk once, in order, in the same form", { timeout: 60_000 }, async () => {
    const viewers = [await newViewer(app), await newViewer(app)];
    const runs = await Promise.all(Array.from({ length: 3 }, () => newRunningRun(app)));
    const streams = await Promise.all(runs.map((run, i) => watch(app, run.id, { token: viewers[i % 2]!.token })));
    try {
      // Notices of all three runs at once, so their feeds' reads overlap and are answered together.
      for (let n = 1; n <= 200; n += 20) await Promise.all(runs.map((run, i) => writeRunOutput(app.prisma, run.id, outputLines(n, n + 19).map((c) => ({ ...c, text: `run ${i} ${c.text}` })))));
      await Promise.all(runs.map((run) => finishTestRun(app.prisma, run.id)));
      await until(() => streams.every((s) => s.ended()), "every stream to end");
      const stored = await app.prisma.runOutputChunk.findFirstOrThrow({ where: { runId: runs[0]!.id, sequence: 200 }, select: { at: true } });
      streams.forEach((stream, i) => {
        const outputs = stream.outputs();
        expect(outputs.map((o) => o.sequence)).toEqual(Array.from({ length: 200 }, (_, k) => k + 1));
        expect(outputs.every((o) => o.text === `run ${i} line ${o.sequence}\n` && o.stream === "stdout" && o.stepId === null && o.id === String(o.sequence))).toBe(true);
        expect(JSON.parse(stream.events.at(-1)!.data)).toEqual({ runId: runs[i]!.id, status: "succeeded", lastSequence: 200 });
      });
      expect(streams[0]!.outputs().at(-1)).toEqual({ id: "200", stepId: null, stream: "stdout", sequence: 200, text: "run 0 line 200\n", at: stored.at.toISOString() });
    } finally {
      await closeAll(streams);
    }
  });
});
