// The audit log reader and the executor status over HTTP.
import { RUN_QUEUE } from "@opsconductor/db";
import { startApp } from "@opsconductor/testing/web";
import { beforeAll, describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();

const definition = (name: string) => ({ name, steps: [{ type: "winrm.exec", target: "web-01", command: "hostname" }] });

describe("GET /api/executor/status", () => {
  test("before anything was queued every count is zero", async () => {
    const res = await app.request("GET", "/api/executor/status", { token: tokens.viewer });
    expect(res.status).toBe(200);
    const zero = { created: 0, retry: 0, active: 0, completed: 0, cancelled: 0, failed: 0 };
    expect(res.body).toMatchObject({ queue: { name: RUN_QUEUE, counts: zero }, deadLetter: { counts: zero }, activeRuns: [], workers: [] });
  });

  test("counts the run queue by state, lists running runs with their job, and tells online from stale workers", async () => {
    const job = await app.request("POST", "/api/jobs", { token: tokens.operator, body: definition("Executor probe") });
    const first = await app.request("POST", `/api/jobs/${job.body.id}/run`, { token: tokens.operator });
    const second = await app.request("POST", `/api/jobs/${job.body.id}/run`, { token: tokens.operator });
    expect([first.status, second.status]).toEqual([202, 202]);
    // What a worker does when it claims the second run.
    const startedAt = new Date();
    await app.prisma.$executeRawUnsafe(`UPDATE pgboss.job SET state = 'active', started_on = now() WHERE name = $1 AND id = $2::uuid`, RUN_QUEUE, second.body.runId);
    await app.prisma.jobRun.update({ where: { id: second.body.runId }, data: { status: "running", startedAt, workerId: "worker-a", attempt: 1 } });
    const now = Date.now();
    await app.prisma.workerHeartbeat.createMany({
      data: [
        { id: "worker-a", host: "ops-1", pid: 101, version: "0.1.0", concurrency: 4, startedAt: new Date(now - 600_000), lastSeenAt: new Date(now - 2_000) },
        { id: "worker-b", host: "ops-2", pid: 202, version: "0.1.0", startedAt: new Date(now - 900_000), lastSeenAt: new Date(now - 120_000) },
      ],
    });

    const res = await app.request("GET", "/api/executor/status", { token: tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body.queue.counts).toEqual({ created: 1, retry: 0, active: 1, completed: 0, cancelled: 0, failed: 0 });
    expect(res.body.activeRuns).toEqual([
      expect.objectContaining({ id: second.body.runId, jobId: job.body.id, jobName: "Executor probe", workerId: "worker-a", attempt: 1, startedAt: startedAt.toISOString() }),
    ]);
    expect(res.body.workers.map((w: { id: string; online: boolean; host: string }) => [w.id, w.host, w.online])).toEqual([
      ["worker-b", "ops-2", false],
      ["worker-a", "ops-1", true],
    ]);
  });

  test("needs a signed-in user", async () => {
    expect((await app.request("GET", "/api/executor/status")).status).toBe(401);
  });
});

describe("GET /api/audit", () => {
  let jobId = "";
  beforeAll(async () => {
    const job = await app.request("POST", "/api/jobs", { token: tokens.operator, body: definition("Audited job") });
    jobId = job.body.id;
    await app.request("PATCH", `/api/jobs/${jobId}`, { token: tokens.operator, body: { active: false } });
    await app.request("PATCH", `/api/jobs/${jobId}`, { token: tokens.admin, body: { active: true } });
    await app.request("POST", "/api/login", { body: { username: "viewer", password: "wrong" } });
  });

  test("is for admins only", async () => {
    expect((await app.request("GET", "/api/audit", { token: tokens.operator })).status).toBe(403);
    expect((await app.request("GET", "/api/audit", { token: tokens.viewer })).status).toBe(403);
    expect((await app.request("GET", "/api/audit")).status).toBe(401);
  });

  test("answers every entry newest first with string ids, walking pages without gaps or repeats", async () => {
    const total = await app.prisma.auditLog.count();
    const seen: { id: string; at: string }[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { id: string; at: string }[]; nextCursor: string | null } } = await app.request("GET", `/api/audit?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { token: tokens.admin });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    // The admin's own reads write no audit rows, so the log did not grow while paging.
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((e) => e.id)).size).toBe(total);
    for (const entry of seen) expect(entry.id).toMatch(/^\d+$/);
    const order = seen.map((e) => [Date.parse(e.at), BigInt(e.id)] as const);
    for (let i = 1; i < order.length; i++) {
      const [prevAt, prevId] = order[i - 1]!;
      const [at, id] = order[i]!;
      expect(at < prevAt || (at === prevAt && id < prevId)).toBe(true);
    }
  });

  test("filters by actor id or username, whatever its case", async () => {
    const byName = await app.request("GET", "/api/audit?actor=OPERATOR&limit=200", { token: tokens.admin });
    expect(byName.status).toBe(200);
    const expected = await app.prisma.auditLog.count({ where: { actorId: app.users.operator.id } });
    expect(byName.body.items).toHaveLength(expected);
    expect(new Set(byName.body.items.map((e: { actorId: string }) => e.actorId))).toEqual(new Set([app.users.operator.id]));
    const byId = await app.request("GET", `/api/audit?actor=${app.users.operator.id}&limit=200`, { token: tokens.admin });
    expect(byId.body.items.map((e: { id: string }) => e.id)).toEqual(byName.body.items.map((e: { id: string }) => e.id));
  });

  test("filters by exact action or by a prefix", async () => {
    const exact = await app.request("GET", "/api/audit?action=job.update", { token: tokens.admin });
    expect(exact.body.items.map((e: { action: string; actorName: string }) => [e.action, e.actorName])).toEqual([
      ["job.update", "admin"],
      ["job.update", "operator"],
    ]);
    const prefix = await app.request("GET", "/api/audit?action=auth.&limit=200", { token: tokens.admin });
    const actions = new Set(prefix.body.items.map((e: { action: string }) => e.action));
    expect(actions).toEqual(new Set(["auth.login", "auth.login_failed"]));
    const star = await app.request("GET", "/api/audit?action=auth.*&limit=200", { token: tokens.admin });
    expect(star.body.items).toHaveLength(prefix.body.items.length);
    expect((await app.request("GET", "/api/audit?action=auth", { token: tokens.admin })).body.items).toEqual([]);
  });

  test("filters by entity type and id", async () => {
    const res = await app.request("GET", `/api/audit?entityType=job&entityId=${jobId}`, { token: tokens.admin });
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual(["job.update", "job.update", "job.create"]);
    const allJobs = await app.request("GET", "/api/audit?entityType=job&limit=200", { token: tokens.admin });
    expect(allJobs.body.items.length).toBe(await app.prisma.auditLog.count({ where: { entityType: "job" } }));
    const alone = await app.request("GET", `/api/audit?entityId=${jobId}`, { token: tokens.admin });
    expect(alone.status).toBe(400);
    expect(alone.body.error.details[0].path).toBe("query.entityId");
  });

  test("filters by time range, and invalid times are 400s naming the field", async () => {
    await app.prisma.auditLog.createMany({
      data: [
        { action: "test.old", summary: "long ago", at: new Date("2020-01-01T10:00:00Z") },
        { action: "test.old", summary: "a bit later", at: new Date("2020-01-02T10:00:00Z") },
        { action: "test.old", summary: "later still", at: new Date("2020-01-03T10:00:00Z") },
      ],
    });
    const range = await app.request("GET", "/api/audit?from=2020-01-01T12:00:00Z&to=2020-01-03T10:00:00%2B00:00", { token: tokens.admin });
    expect(range.status).toBe(200);
    expect(range.body.items.map((e: { summary: string }) => e.summary)).toEqual(["later still", "a bit later"]);
    const until = await app.request("GET", "/api/audit?to=2020-01-01T10:00:00Z", { token: tokens.admin });
    expect(until.body.items.map((e: { summary: string }) => e.summary)).toEqual(["long ago"]);

    const bad = await app.request("GET", "/api/audit?from=yesterday&to=2020-13-01T00:00:00Z", { token: tokens.admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["query.from", "query.to"]);
    const reversed = await app.request("GET", "/api/audit?from=2020-01-03T00:00:00Z&to=2020-01-01T00:00:00Z", { token: tokens.admin });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.details).toEqual([{ path: "query.to", message: "query.to must not be before query.from" }]);
    const cursor = await app.request("GET", "/api/audit?cursor=bm9wZQ", { token: tokens.admin });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.details[0].path).toBe("query.cursor");
  });
});

test("the server logged no unexpected error", () => {
  expect(app.output()).not.toContain("unexpected error");
  expect(app.output()).not.toContain("[queue]");
});
