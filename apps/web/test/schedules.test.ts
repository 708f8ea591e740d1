// Schedules and the scheduler switch over HTTP: cron and zone validation, next instants, parameter
// checks against the job, NOTIFY to workers on every change, audit rows.
import pg from "pg";
import { SCHEDULES_CHANNEL } from "@opsconductor/db";
import { startApp } from "@opsconductor/testing/web";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();
let jobId = "";
const MISSING = "00000000-0000-4000-8000-000000000000";

const { Client } = pg;

// Listens on the schedules channel for the whole file; each test counts what arrived during it.
const listener = new Client({ connectionString: app.databaseUrl });
const notices: string[] = [];
beforeAll(async () => {
  await listener.connect();
  listener.on("notification", (n) => notices.push(n.channel));
  await listener.query(`LISTEN ${SCHEDULES_CHANNEL}`);
  const job = await app.create("/api/jobs", tokens.operator, {
    name: "Nightly cleanup",
    parameters: { path: "C:\\Temp", days: { type: "number", min: 1, default: 7 }, token: { type: "secret", required: false } },
    steps: [{ type: "winrm.exec", target: "file-01", command: "Remove-Old {{ path }} {{ days }}" }],
  });
  jobId = job.id;
});
afterAll(() => listener.end());

async function expectNotice(before: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (notices.length <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(notices.length).toBeGreaterThan(before);
}

const createSchedule = (body: Record<string, unknown> = {}) => app.create("/api/schedules", tokens.operator, { jobId, cron: "0 3 * * *", ...body });

describe("POST /api/schedules", () => {
  test("stores the schedule with defaults and nextRunAt, answers the next 5 instants in its zone, notifies and audits", async () => {
    const before = notices.length;
    const started = Date.now();
    const res = await app.request("POST", "/api/schedules", {
      token: tokens.operator,
      body: { jobId, name: "early", cron: "0 30 2 * * *", timezone: "America/New_York", parameters: { days: "14" } },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      jobId,
      jobName: "Nightly cleanup",
      name: "early",
      cron: "0 30 2 * * *",
      timezone: "America/New_York",
      parameters: { days: "14" },
      enabled: true,
      misfirePolicy: "fire_once",
      overlapPolicy: "skip",
      misfireMaxAgeSec: 3600,
      lastRunAt: null,
    });
    const next: string[] = res.body.nextRuns;
    expect(next).toHaveLength(5);
    for (const instant of next) {
      // 02:30 in New York is 07:30 UTC in winter and 06:30 UTC in summer.
      const local = new Intl.DateTimeFormat("en-GB", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(instant));
      expect(local).toBe("02:30:00");
      expect(instant).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(new Date(next[0]!).getTime()).toBeGreaterThan(started - 1000);
    expect(new Date(next[1]!).getTime() - new Date(next[0]!).getTime()).toBeGreaterThanOrEqual(23 * 3600_000);
    expect(res.body.nextRunAt).toBe(next[0]);
    const row = await app.prisma.schedule.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.nextRunAt?.toISOString()).toBe(next[0]);
    expect(row.createdById).toBe(app.users.operator.id);
    await expectNotice(before);
    expect(await app.prisma.auditLog.findFirst({ where: { action: "schedule.create", entityId: res.body.id } })).toMatchObject({
      actorId: app.users.operator.id,
      entityType: "schedule",
      details: { jobId, cron: "0 30 2 * * *", timezone: "America/New_York", enabled: true },
    });
  });

  test("accepts 6-field expressions with seconds and fixes the letter case of the zone name", async () => {
    const res = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "*/15 * * * * *", timezone: "europe/london" } });
    expect(res.status).toBe(201);
    expect(res.body.timezone).toBe("Europe/London");
    const gaps = res.body.nextRuns.slice(1).map((t: string, i: number) => new Date(t).getTime() - new Date(res.body.nextRuns[i]).getTime());
    expect(gaps).toEqual([15_000, 15_000, 15_000, 15_000]);
  });

  test("an invalid cron and zone are 400s naming body.cron and body.timezone with the reason; nothing is stored", async () => {
    const before = await app.prisma.schedule.count();
    const both = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "61 * * * *", timezone: "Mars/Olympus_Mons" } });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe("validation_failed");
    expect(both.body.error.details).toEqual([
      { path: "body.timezone", message: expect.stringContaining('"Mars/Olympus_Mons" is not an IANA time zone') },
      { path: "body.cron", message: expect.stringMatching(/^body\.cron is not a valid cron expression: .*61/) },
    ]);
    const fields = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "* * *" } });
    expect(fields.status).toBe(400);
    expect(fields.body.error.details).toEqual([{ path: "body.cron", message: expect.stringContaining("must have 5 fields") }]);
    const never = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "0 0 31 2 *" } });
    expect(never.status).toBe(400);
    expect(never.body.error.details[0].path).toBe("body.cron");
    const empty = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: " " } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0].path).toBe("body.cron");
    expect(await app.prisma.schedule.count()).toBe(before);
  });

  test("parameters are checked against the job's current version, and secret values are refused", async () => {
    const bad = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "0 3 * * *", parameters: { days: 0, colour: "red" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual(
      expect.arrayContaining([
        { path: "body.parameters.days", message: "body.parameters.days must be at least 1" },
        { path: "body.parameters.colour", message: "body.parameters.colour is not a parameter of this job" },
      ]),
    );
    const secret = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "0 3 * * *", parameters: { token: "s3cr3t-value" } } });
    expect(secret.status).toBe(400);
    expect(secret.body.error.details).toEqual([{ path: "body.parameters.token", message: expect.stringContaining("secret") }]);
    expect(JSON.stringify(secret.body)).not.toContain("s3cr3t-value");
  });

  test("bad bodies: unknown job, unknown field, bad policy, and a viewer may not write", async () => {
    const missing = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId: MISSING, cron: "0 3 * * *" } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ path: "body.jobId", message: "body.jobId is not an existing job" }]);
    const extra = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "0 3 * * *", timeZone: "UTC" } });
    expect(extra.status).toBe(400);
    const policy = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId, cron: "0 3 * * *", overlapPolicy: "whatever" } });
    expect(policy.status).toBe(400);
    expect(policy.body.error.details[0].path).toBe("body.overlapPolicy");
    expect((await app.request("POST", "/api/schedules", { token: tokens.viewer, body: { jobId, cron: "0 3 * * *" } })).status).toBe(403);
  });

  test("a disabled schedule has no nextRunAt but still previews its instants", async () => {
    const s = await createSchedule({ enabled: false });
    expect(s.nextRunAt).toBeNull();
    expect(s.nextRuns).toHaveLength(5);
  });
});

describe("GET/PATCH/DELETE /api/schedules", () => {
  test("lists newest first, filters by job and enabled, and pages", async () => {
    const other = await app.request("POST", "/api/jobs", { token: tokens.operator, body: { name: "Other job", steps: [{ type: "winrm.exec", target: "x", command: "hostname" }] } });
    const a = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId: other.body.id, cron: "0 1 * * *" } });
    const b = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId: other.body.id, cron: "0 2 * * *", enabled: false } });
    const all = await app.request("GET", `/api/schedules?jobId=${other.body.id}`, { token: tokens.viewer });
    expect(all.status).toBe(200);
    expect(all.body.items.map((s: { id: string }) => s.id)).toEqual([b.body.id, a.body.id]);
    expect(all.body.items[0].nextRuns).toHaveLength(5);
    const enabled = await app.request("GET", `/api/schedules?jobId=${other.body.id}&enabled=true`, { token: tokens.viewer });
    expect(enabled.body.items.map((s: { id: string }) => s.id)).toEqual([a.body.id]);
    const page = await app.request("GET", `/api/schedules?jobId=${other.body.id}&limit=1`, { token: tokens.viewer });
    const next = await app.request("GET", `/api/schedules?jobId=${other.body.id}&limit=1&cursor=${page.body.nextCursor}`, { token: tokens.viewer });
    expect(next.body).toEqual({ items: [expect.objectContaining({ id: a.body.id })], nextCursor: null });
    const bad = await app.request("GET", "/api/schedules?jobId=nope&enabled=yes", { token: tokens.viewer });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["query.enabled", "query.jobId"]);
  });

  test("GET one, 404 for an unknown id, and 401 without a token", async () => {
    const s = await createSchedule();
    const got = await app.request("GET", `/api/schedules/${s.id}`, { token: tokens.viewer });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: s.id, cron: "0 3 * * *", timezone: "UTC" });
    expect(got.body.nextRuns).toHaveLength(5);
    expect((await app.request("GET", `/api/schedules/${MISSING}`, { token: tokens.viewer })).status).toBe(404);
    expect((await app.request("GET", `/api/schedules/${s.id}`)).status).toBe(401);
  });

  test("PATCH recomputes nextRunAt when the timing changes, clears it when disabled, notifies and audits", async () => {
    const s = await createSchedule();
    let before = notices.length;
    const changed = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { cron: "0 9 * * 1-5", timezone: "Asia/Kolkata", overlapPolicy: "queue" } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ cron: "0 9 * * 1-5", timezone: "Asia/Kolkata", overlapPolicy: "queue", enabled: true });
    for (const t of changed.body.nextRuns as string[]) expect(t).toMatch(/T03:30:00\.000Z$/); // 09:00 IST
    expect(changed.body.nextRunAt).toBe(changed.body.nextRuns[0]);
    await expectNotice(before);

    before = notices.length;
    const off = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, nextRunAt: null });
    await expectNotice(before);
    const on = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { enabled: true } });
    expect(on.body.nextRunAt).toBe(on.body.nextRuns[0]);

    // A rename leaves the stored nextRunAt alone (the scheduler may be catching up on it).
    const stamp = new Date("2026-01-01T00:00:00.000Z");
    await app.prisma.schedule.update({ where: { id: s.id }, data: { nextRunAt: stamp } });
    const renamed = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { name: "weekday mornings" } });
    expect(renamed.body).toMatchObject({ name: "weekday mornings", nextRunAt: stamp.toISOString() });

    const audits = await app.prisma.auditLog.findMany({ where: { action: "schedule.update", entityId: s.id }, orderBy: { id: "asc" } });
    expect(audits).toHaveLength(4);
    expect(audits[0]!.details).toEqual({ changed: ["cron", "timezone", "overlapPolicy"] });
  });

  test("PATCH validates like POST and changes nothing on failure", async () => {
    const s = await createSchedule();
    const bad = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { timezone: "Nowhere/Land", parameters: { days: "many" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: "body.timezone", message: expect.stringContaining("IANA") }]);
    const params = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { parameters: { days: "many" } } });
    expect(params.status).toBe(400);
    expect(params.body.error.details).toEqual([{ path: "body.parameters.days", message: "body.parameters.days must be a number" }]);
    const jobChange = await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.operator, body: { jobId } });
    expect(jobChange.status).toBe(400);
    expect(await app.prisma.schedule.findUniqueOrThrow({ where: { id: s.id } })).toMatchObject({ timezone: "UTC", parameters: {} });
    expect((await app.request("PATCH", `/api/schedules/${s.id}`, { token: tokens.viewer, body: { enabled: false } })).status).toBe(403);
    expect((await app.request("PATCH", `/api/schedules/${MISSING}`, { token: tokens.operator, body: { enabled: false } })).status).toBe(404);
  });

  test("DELETE removes it, notifies and audits; a second DELETE is a 404", async () => {
    const s = await createSchedule();
    expect((await app.request("DELETE", `/api/schedules/${s.id}`, { token: tokens.viewer })).status).toBe(403);
    const before = notices.length;
    const res = await app.request("DELETE", `/api/schedules/${s.id}`, { token: tokens.operator });
    expect(res.status).toBe(204);
    await expectNotice(before);
    expect(await app.prisma.schedule.findUnique({ where: { id: s.id } })).toBeNull();
    expect(await app.prisma.auditLog.count({ where: { action: "schedule.delete", entityId: s.id } })).toBe(1);
    expect((await app.request("DELETE", `/api/schedules/${s.id}`, { token: tokens.operator })).status).toBe(404);
  });
});

test("deleting a job deletes its schedules and notifies workers", async () => {
  const job = await app.request("POST", "/api/jobs", { token: tokens.operator, body: { name: "Short-lived", steps: [{ type: "winrm.exec", target: "x", command: "hostname" }] } });
  const s = await app.request("POST", "/api/schedules", { token: tokens.operator, body: { jobId: job.body.id, cron: "@hourly" } });
  expect(s.status).toBe(201);
  const before = notices.length;
  expect((await app.request("DELETE", `/api/jobs/${job.body.id}`, { token: tokens.operator })).status).toBe(204);
  await expectNotice(before);
  expect(await app.prisma.schedule.findUnique({ where: { id: s.body.id } })).toBeNull();
});

describe("/api/scheduler", () => {
  test("status shows the switch, the last tick and the enabled schedules due next, soonest first", async () => {
    await app.prisma.schedulerState.update({ where: { id: 1 }, data: { lastTickAt: new Date("2026-11-26T10:00:00.000Z"), lastLagMs: 12 } });
    const soon = await createSchedule();
    await app.prisma.schedule.update({ where: { id: soon.id }, data: { nextRunAt: new Date("2000-01-01T00:00:00.000Z") } });
    const off = await createSchedule({ enabled: false });
    const res = await app.request("GET", "/api/scheduler/status", { token: tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ enabled: true, lastTickAt: "2026-11-26T10:00:00.000Z", lastLagMs: 12 });
    const due: { id: string; nextRunAt: string }[] = res.body.due;
    expect(due[0]).toMatchObject({ id: soon.id, jobId, jobName: "Nightly cleanup", nextRunAt: "2000-01-01T00:00:00.000Z" });
    expect(due.map((d) => d.nextRunAt)).toEqual([...due.map((d) => d.nextRunAt)].sort());
    expect(due.map((d) => d.id)).not.toContain(off.id);
  });

  test("stop and start are admin-only, flip the state row, notify workers and are audited", async () => {
    expect((await app.request("POST", "/api/scheduler/stop", { token: tokens.operator })).status).toBe(403);
    expect((await app.request("POST", "/api/scheduler/stop", { token: tokens.viewer })).status).toBe(403);
    let before = notices.length;
    const stopped = await app.request("POST", "/api/scheduler/stop", { token: tokens.admin });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ enabled: false, changedById: app.users.admin.id });
    expect(await app.prisma.schedulerState.findUniqueOrThrow({ where: { id: 1 } })).toMatchObject({ enabled: false, changedById: app.users.admin.id });
    await expectNotice(before);
    expect((await app.request("GET", "/api/scheduler/status", { token: tokens.viewer })).body.enabled).toBe(false);

    before = notices.length;
    const started = await app.request("POST", "/api/scheduler/start", { token: tokens.admin });
    expect(started.body.enabled).toBe(true);
    await expectNotice(before);
    const audits = await app.prisma.auditLog.findMany({ where: { action: { in: ["scheduler.start", "scheduler.stop"] } }, orderBy: { id: "asc" } });
    expect(audits.map((a) => [a.action, a.actorId])).toEqual([
      ["scheduler.stop", app.users.admin.id],
      ["scheduler.start", app.users.admin.id],
    ]);
  });
});

test("the server logged no unexpected error", () => {
  expect(app.output()).not.toContain("unexpected error");
});
