// Jobs over HTTP: definitions validated by core, immutable versions, runs queued with their
// pg-boss job in one transaction.
import { createKeyring, decryptSecret, type SealedSecret } from "@opsconductor/core";
import { parseMasterKeys, RUN_QUEUE } from "@opsconductor/db";
import { startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();

let counter = 0;
function definition(overrides: Record<string, unknown> = {}) {
  counter += 1;
  return {
    name: `Restart spooler ${counter}`,
    description: "Restarts the print spooler",
    parameters: {
      svc: "Spooler",
      retries: { type: "number", min: 0, max: 5, default: 1 },
      adminPassword: { type: "secret", required: false },
      mode: { type: "enum", values: ["fast", "safe"], default: "safe" },
    },
    steps: [{ type: "winrm.exec", target: "web-01", command: "Restart-Service {{ svc }}" }],
    ...overrides,
  };
}

const createJob = (overrides: Record<string, unknown> = {}) => app.create<{ id: string; name: string; version: number }>("/api/jobs", tokens.operator, definition(overrides));

async function pgbossJobsFor(runId: string): Promise<number> {
  const rows = await app.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND id = $2::uuid`, RUN_QUEUE, runId);
  return Number(rows[0]!.n);
}

async function pgbossJobCount(): Promise<number> {
  const exists = await app.prisma.$queryRawUnsafe<{ t: string | null }[]>(`SELECT to_regclass('pgboss.job')::text AS t`);
  if (!exists[0]!.t) return 0;
  const rows = await app.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM pgboss.job WHERE name = $1`, RUN_QUEUE);
  return Number(rows[0]!.n);
}

describe("POST /api/jobs", () => {
  test("creates a job named after its definition with version 1, and audits it", async () => {
    const body = definition();
    const res = await app.request("POST", "/api/jobs", { token: tokens.operator, body });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: body.name, description: "Restarts the print spooler", active: true, version: 1, createdById: app.users.operator.id });
    // Stored as parsed: defaults applied, shorthand parameters expanded.
    expect(res.body.definition.steps[0]).toMatchObject({ timeoutSec: 3600, shell: "powershell", continueOnError: false });
    expect(res.body.definition.parameters.svc).toEqual({ type: "string", required: false, default: "Spooler" });
    const versions = await app.prisma.jobVersion.findMany({ where: { jobId: res.body.id } });
    expect(versions.map((v) => v.number)).toEqual([1]);
    const audit = await app.prisma.auditLog.findFirst({ where: { action: "job.create", entityId: res.body.id } });
    expect(audit).toMatchObject({ actorId: app.users.operator.id, entityType: "job", details: { name: body.name, version: 1 } });
  });

  test("an invalid definition is a 400 listing every problem with its path, and nothing is stored", async () => {
    const before = await app.prisma.job.count();
    const res = await app.request("POST", "/api/jobs", {
      token: tokens.operator,
      body: { name: "", parameters: { "bad name": "x" }, steps: [{ type: "winrm.exec", target: "web-01", command: "echo {{ nope }}", timeoutSec: 0 }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["body.name", 'body.parameters["bad name"]', "body.steps[0].timeoutSec", "body.steps[0].command"]));
    const timeout = res.body.error.details.find((d: { path: string }) => d.path === "body.steps[0].timeoutSec");
    expect(timeout.message).toBe("body.steps[0].timeoutSec must be between 1 and 86400");
    expect(await app.prisma.job.count()).toBe(before);
  });

  test("a non-object body and a duplicate name are refused", async () => {
    const array = await app.request("POST", "/api/jobs", { token: tokens.operator, body: [1, 2] });
    expect(array.status).toBe(400);
    expect(array.body.error.details[0].path).toBe("body");
    const first = await createJob();
    const again = await app.request("POST", "/api/jobs", { token: tokens.operator, body: definition({ name: first.name.toUpperCase() }) });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "conflict", details: [{ path: "body.name" }] });
  });

  test("a viewer may read jobs but not create them; no token is a 401", async () => {
    const denied = await app.request("POST", "/api/jobs", { token: tokens.viewer, body: definition() });
    expect(denied.status).toBe(403);
    expect((await app.request("GET", "/api/jobs", { token: tokens.viewer })).status).toBe(200);
    expect((await app.request("GET", "/api/jobs")).status).toBe(401);
  });
});

describe("GET /api/jobs", () => {
  test("lists newest first with keyset pagination and filters by search and active flag", async () => {
    const marker = `paging-${Date.now()}`;
    const a = await createJob({ name: `${marker} a` });
    const b = await createJob({ name: `${marker} b` });
    const c = await createJob({ name: `${marker} c`, description: "the third" });
    await app.request("PATCH", `/api/jobs/${b.id}`, { token: tokens.operator, body: { active: false } });

    const page1 = await app.request("GET", `/api/jobs?q=${marker}&limit=2`, { token: tokens.viewer });
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((j: { id: string }) => j.id)).toEqual([c.id, b.id]);
    expect(page1.body.items[0]).toMatchObject({ version: 1, active: true });
    expect(page1.body.items[0].definition).toBeUndefined();
    const page2 = await app.request("GET", `/api/jobs?q=${marker}&limit=2&cursor=${page1.body.nextCursor}`, { token: tokens.viewer });
    expect(page2.body).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });

    const inactive = await app.request("GET", `/api/jobs?q=${marker}&active=false`, { token: tokens.viewer });
    expect(inactive.body.items.map((j: { id: string }) => j.id)).toEqual([b.id]);
    const byDescription = await app.request("GET", `/api/jobs?q=THE%20THIRD`, { token: tokens.viewer });
    expect(byDescription.body.items.map((j: { id: string }) => j.id)).toEqual([c.id]);
  });

  test("bad query values are 400s naming the field", async () => {
    const res = await app.request("GET", "/api/jobs?active=maybe&limit=0", { token: tokens.viewer });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["query.active", "query.limit"]);
    const cursor = await app.request("GET", "/api/jobs?cursor=garbage", { token: tokens.viewer });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.details[0].path).toBe("query.cursor");
  });
});

describe("GET/PUT/PATCH/DELETE /api/jobs/{id}", () => {
  test("PUT adds an immutable version, renames the job, and the old version stays readable", async () => {
    const job = await createJob();
    const next = definition({ description: "now with two steps" });
    next.steps.push({ type: "winrm.exec", target: "web-02", command: "Get-Service {{ svc }}" });
    const res = await app.request("PUT", `/api/jobs/${job.id}`, { token: tokens.operator, body: next });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: job.id, name: next.name, description: "now with two steps", version: 2 });
    expect(res.body.definition.steps).toHaveLength(2);

    const got = await app.request("GET", `/api/jobs/${job.id}`, { token: tokens.viewer });
    expect(got.body).toMatchObject({ version: 2, name: next.name });

    const versions = await app.request("GET", `/api/jobs/${job.id}/versions`, { token: tokens.viewer });
    expect(versions.body.items.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    const paged = await app.request("GET", `/api/jobs/${job.id}/versions?limit=1`, { token: tokens.viewer });
    const rest = await app.request("GET", `/api/jobs/${job.id}/versions?limit=1&cursor=${paged.body.nextCursor}`, { token: tokens.viewer });
    expect(rest.body.items.map((v: { number: number }) => v.number)).toEqual([1]);

    const v1 = await app.request("GET", `/api/jobs/${job.id}/versions/1`, { token: tokens.viewer });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ number: 1, current: false, definition: { name: job.name } });
    expect(v1.body.definition.steps).toHaveLength(1);
    expect((await app.request("GET", `/api/jobs/${job.id}/versions/2`, { token: tokens.viewer })).body.current).toBe(true);
    expect((await app.request("GET", `/api/jobs/${job.id}/versions/3`, { token: tokens.viewer })).status).toBe(404);
    const badNumber = await app.request("GET", `/api/jobs/${job.id}/versions/first`, { token: tokens.viewer });
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.error.details[0].path).toBe("params.number");

    const audit = await app.prisma.auditLog.findFirst({ where: { action: "job.version", entityId: job.id } });
    expect(audit).toMatchObject({ actorId: app.users.operator.id, details: { version: 2, previousName: job.name, name: next.name } });
  });

  test("PUT with an invalid definition or a taken name adds no version; unknown ids are 404s", async () => {
    const job = await createJob();
    const other = await createJob();
    const taken = await app.request("PUT", `/api/jobs/${job.id}`, { token: tokens.operator, body: definition({ name: other.name }) });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details).toEqual([{ path: "body.name", message: expect.stringContaining(other.name) }]);
    const res = await app.request("PUT", `/api/jobs/${job.id}`, { token: tokens.operator, body: { name: "x", steps: [] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: "body.steps", message: "body.steps must have at least one step" }]);
    expect(await app.prisma.jobVersion.count({ where: { jobId: job.id } })).toBe(1);
    const missing = "00000000-0000-4000-8000-000000000000";
    expect((await app.request("GET", `/api/jobs/${missing}`, { token: tokens.viewer })).status).toBe(404);
    expect((await app.request("PUT", `/api/jobs/${missing}`, { token: tokens.operator, body: definition() })).status).toBe(404);
    const notUuid = await app.request("GET", "/api/jobs/123", { token: tokens.viewer });
    expect(notUuid.status).toBe(400);
    expect(notUuid.body.error.details[0].path).toBe("params.id");
  });

  test("simultaneous PUTs each get their own version number", async () => {
    const job = await createJob();
    const answers = await Promise.all([1, 2, 3].map(() => app.request("PUT", `/api/jobs/${job.id}`, { token: tokens.operator, body: definition({ name: job.name }) })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const numbers = await app.prisma.jobVersion.findMany({ where: { jobId: job.id }, select: { number: true }, orderBy: { number: "asc" } });
    expect(numbers.map((v) => v.number)).toEqual([1, 2, 3, 4]);
    expect((await app.request("GET", `/api/jobs/${job.id}`, { token: tokens.viewer })).body.version).toBe(4);
  });

  test("PATCH toggles the active flag and audits job.update; it takes only { active }", async () => {
    const job = await createJob();
    const off = await app.request("PATCH", `/api/jobs/${job.id}`, { token: tokens.operator, body: { active: false } });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ active: false, version: 1 });
    expect(await app.prisma.auditLog.count({ where: { action: "job.update", entityId: job.id } })).toBe(1);
    const extra = await app.request("PATCH", `/api/jobs/${job.id}`, { token: tokens.operator, body: { active: true, name: "sneaky" } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.details[0].path).toBe("body");
    expect((await app.request("PATCH", `/api/jobs/${job.id}`, { token: tokens.viewer, body: { active: true } })).status).toBe(403);
  });

  test("DELETE is refused while a run is queued, then removes the job and audits it", async () => {
    const job = await createJob();
    const run = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: {} });
    expect(run.status).toBe(202);
    const busy = await app.request("DELETE", `/api/jobs/${job.id}`, { token: tokens.operator });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe("job_busy");
    await app.prisma.jobRun.update({ where: { id: run.body.runId }, data: { status: "succeeded", finishedAt: new Date() } });
    expect((await app.request("DELETE", `/api/jobs/${job.id}`, { token: tokens.viewer })).status).toBe(403);
    const gone = await app.request("DELETE", `/api/jobs/${job.id}`, { token: tokens.operator });
    expect(gone.status).toBe(204);
    expect(await app.prisma.job.findUnique({ where: { id: job.id } })).toBeNull();
    expect(await app.prisma.jobVersion.count({ where: { jobId: job.id } })).toBe(0);
    expect(await app.prisma.auditLog.count({ where: { action: "job.delete", entityId: job.id } })).toBe(1);
    expect((await app.request("DELETE", `/api/jobs/${job.id}`, { token: tokens.operator })).status).toBe(404);
  });
});

describe("POST /api/jobs/{id}/run", () => {
  test("queues exactly one run and one pg-boss job, masks secret values, and audits run.request", async () => {
    const job = await createJob();
    const jobsBefore = await pgbossJobCount();
    const res = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: { parameters: { svc: "W3SVC", retries: "3", adminPassword: "Hunter2!" } } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ runId: expect.any(String), status: "queued", created: true });
    const runs = await app.prisma.jobRun.findMany({ where: { jobId: job.id } });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: res.body.runId, status: "queued", trigger: "api", requestedById: app.users.operator.id, queueJobId: res.body.runId });
    expect(runs[0]!.parameters).toEqual({ svc: "W3SVC", retries: 3, mode: "safe", adminPassword: "***" });
    expect(await pgbossJobsFor(res.body.runId)).toBe(1);
    expect(await pgbossJobCount()).toBe(jobsBefore + 1);
    const audit = await app.prisma.auditLog.findFirst({ where: { action: "run.request", entityId: res.body.runId } });
    expect(audit).toMatchObject({ actorId: app.users.operator.id, entityType: "run", details: { jobId: job.id, version: 1 } });
    const audits = await app.prisma.auditLog.findMany({ where: { entityId: res.body.runId } });
    const queued = await app.prisma.$queryRawUnsafe<{ data: unknown }[]>(`SELECT data FROM pgboss.job WHERE name = $1`, RUN_QUEUE);
    const everything = JSON.stringify([await app.prisma.jobRun.findMany(), audits.map((a) => [a.summary, a.details]), queued]);
    expect(everything).not.toContain("Hunter2!");
    expect(app.output()).not.toContain("Hunter2!");
    // The worker gets the secret value sealed in the queue job, bound to this run.
    const [job0] = await app.prisma.$queryRawUnsafe<{ data: { sealedSecretParameters: SealedSecret } }[]>(`SELECT data FROM pgboss.job WHERE name = $1 AND id::text = $2`, RUN_QUEUE, res.body.runId);
    const keyring = createKeyring(parseMasterKeys(app.masterKey));
    expect(JSON.parse(decryptSecret(keyring, job0!.data.sealedSecretParameters, { aad: `run-parameters:${res.body.runId}` }))).toEqual({ adminPassword: "Hunter2!" });
    expect(() => decryptSecret(keyring, job0!.data.sealedSecretParameters, { aad: "run-parameters:another-run" })).toThrow();
  });

  test("a repeated idempotency key answers 200 with the same run and sends no second job", async () => {
    const job = await createJob();
    const first = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: { idempotencyKey: "deploy-42" } });
    expect(first.status).toBe(202);
    const jobsBefore = await pgbossJobCount();
    const again = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: { idempotencyKey: "deploy-42" } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ runId: first.body.runId, status: "queued", created: false });
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(1);
    expect(await pgbossJobsFor(first.body.runId)).toBe(1);
    expect(await pgbossJobCount()).toBe(jobsBefore);
    expect(await app.prisma.auditLog.count({ where: { action: "run.request", entityId: first.body.runId } })).toBe(1);
  });

  test("two simultaneous requests with one new idempotency key queue one run and one job", async () => {
    const job = await createJob();
    const body = { idempotencyKey: "simultaneous" };
    const answers = await Promise.all([1, 2].map(() => app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
    expect(answers[0]!.body.runId).toBe(answers[1]!.body.runId);
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(1);
    expect(await pgbossJobsFor(answers[0]!.body.runId)).toBe(1);
  });

  test("bad parameters are a 400 naming each one, with no run and no queue job", async () => {
    const job = await createJob();
    const jobsBefore = await pgbossJobCount();
    const res = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: { parameters: { retries: 9, mode: "reckless", colour: "red" } } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        { path: "body.parameters.retries", message: "body.parameters.retries must be at most 5" },
        { path: "body.parameters.mode", message: expect.stringContaining("must be one of") },
        { path: "body.parameters.colour", message: "body.parameters.colour is not a parameter of this job" },
      ]),
    );
    expect(res.body.error.details).toHaveLength(3);
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);
    expect(await pgbossJobCount()).toBe(jobsBefore);
  });

  test("an inactive job is a 409, an unknown job a 404, and a viewer may not run jobs", async () => {
    const job = await createJob();
    await app.request("PATCH", `/api/jobs/${job.id}`, { token: tokens.operator, body: { active: false } });
    const inactive = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator });
    expect(inactive.status).toBe(409);
    expect(inactive.body.error.code).toBe("job_inactive");
    expect((await app.request("POST", "/api/jobs/00000000-0000-4000-8000-000000000000/run", { token: tokens.admin })).status).toBe(404);
    await app.request("PATCH", `/api/jobs/${job.id}`, { token: tokens.operator, body: { active: true } });
    expect((await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.viewer })).status).toBe(403);
    const unknownField = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: { params: {} } });
    expect(unknownField.status).toBe(400);
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);
  });

  test("runs use the job's current version", async () => {
    const job = await createJob();
    await app.request("PUT", `/api/jobs/${job.id}`, { token: tokens.operator, body: definition({ parameters: { svc: "Spooler", extra: { type: "string" } } }) });
    const missing = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.operator, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ path: "body.parameters.extra", message: "body.parameters.extra is required" }]);
    const ok = await app.request("POST", `/api/jobs/${job.id}/run`, { token: tokens.admin, body: { parameters: { extra: "x" } } });
    expect(ok.status).toBe(202);
    const run = await app.prisma.jobRun.findUniqueOrThrow({ where: { id: ok.body.runId }, include: { jobVersion: true } });
    expect(run.jobVersion.number).toBe(2);
  });
});

test("the server logged no unexpected error", () => {
  expect(app.output()).not.toContain("unexpected error");
  expect(app.output()).not.toContain("[queue]");
});
