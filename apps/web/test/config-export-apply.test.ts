// Configuration as code over HTTP: GET /api/export writes jobs, targets, schedules and file
// references as one document without secrets; POST /api/apply makes another instance hold the same
// configuration, in one transaction, answering the diff; applying a document twice changes nothing.
import { startApp, type TestApp } from "@opsconductor/testing/web";
import { beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { configDocument } from "../app/schemas/config-document.ts";

const source = await startApp();
const target = await startApp();
const src = await source.signInAll();
const dst = await target.signInAll();
const PASSWORD = "winrm-credential-password-do-not-export";
const FILE_TEXT = "Write-Output 'set up'\r\n";

async function upload(app: TestApp, token: string, name: string, text: string) {
  const res = await fetch(`${app.url}/api/files?name=${encodeURIComponent(name)}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" }, body: text });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; sha256: string };
}

async function exported(app: TestApp, token: string, format: "yaml" | "json" = "json") {
  const res = await fetch(`${app.url}/api/export?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, contentType: res.headers.get("content-type") ?? "", document: (format === "json" ? JSON.parse(text) : parse(text)) as Record<string, unknown> & { metadata?: unknown } };
}

const withoutMetadata = ({ metadata: _metadata, ...rest }: Record<string, unknown>) => rest;

beforeAll(async () => {
  await source.create("/api/credentials", src.admin, { name: "winrm-admin", type: "winrm", username: "Administrator", secret: { password: PASSWORD } });
  const file = await upload(source, src.operator, "setup.ps1", FILE_TEXT);
  const db = await source.create("/api/targets", src.admin, { name: "db-01", hostname: "db-01.example.test", tags: ["db"] });
  await source.create("/api/targets", src.admin, {
    name: "web-01",
    hostname: "web-01.example.test",
    port: 5986,
    winrm: { transport: "https", auth: "ntlm" },
    credentialId: (await source.prisma.credential.findFirstOrThrow()).id,
    tags: ["web", "prod"],
    description: "front end",
    dependsOn: [db.id],
  });
  const deploy = await source.create("/api/jobs", src.operator, {
    name: "Deploy",
    description: "copies and runs the setup script",
    parameters: { svc: "Spooler", apiKey: { type: "secret", required: false } },
    steps: [
      { type: "winrm.copy", target: "web-01", file: "setup.ps1", destination: "C:\\setup.ps1" },
      { type: "winrm.exec", target: db.id, command: "Restart-Service {{ svc }}" },
    ],
  });
  expect(deploy.currentVersion?.definition?.steps?.[0]?.file ?? file.id).toBe(file.id);
  const old = await source.create("/api/jobs", src.operator, { name: "Old report", steps: [{ type: "winrm.exec", target: "db-01", command: "Get-Date" }] });
  await source.request("PATCH", `/api/jobs/${old.id}`, { token: src.operator, body: { active: false } });
  await source.create("/api/schedules", src.operator, { jobId: deploy.id, name: "nightly", cron: "0 2 * * *", timezone: "Europe/London", parameters: { svc: "W32Time" } });
  await source.create("/api/schedules", src.operator, { jobId: old.id, cron: "0 6 * * 1", enabled: false, overlapPolicy: "queue" });
});

describe("GET /api/export", () => {
  test("one YAML document of jobs, targets (credentials by name), schedules and file references, valid against the shared schema, without secrets or ids", async () => {
    const { text, contentType, document } = await exported(source, src.operator, "yaml");
    expect(contentType).toContain("application/yaml");
    const parsed = configDocument.parse(document);
    expect(parsed.targets.map((t) => t.name)).toEqual(["db-01", "web-01"]);
    expect(parsed.targets[1]).toMatchObject({ credential: "winrm-admin", port: 5986, winrm: { transport: "https" }, dependsOn: ["db-01"], tags: ["web", "prod"] });
    expect(parsed.jobs.map((j) => [j.definition.name, j.active])).toEqual([["Deploy", true], ["Old report", false]]);
    const steps = parsed.jobs[0]!.definition.steps as Record<string, unknown>[];
    expect(steps[0]).toMatchObject({ file: "setup.ps1", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // A step that named its target by id names it by name in the document.
    expect(steps[1]!.target).toBe("db-01");
    expect(parsed.schedules).toEqual([
      expect.objectContaining({ job: "Deploy", name: "nightly", cron: "0 2 * * *", timezone: "Europe/London", parameters: { svc: "W32Time" } }),
      expect.objectContaining({ job: "Old report", name: null, enabled: false, overlapPolicy: "queue" }),
    ]);
    expect(parsed.files).toEqual([{ name: "setup.ps1", sha256: steps[0]!.sha256, size: FILE_TEXT.length }]);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });

  test("viewers may not export (403); a bad format is a 400 naming it", async () => {
    expect((await source.request("GET", "/api/export", { token: src.viewer })).status).toBe(403);
    const bad = await source.request("GET", "/api/export?format=xml", { token: src.admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("query.format");
  });
});

describe("POST /api/apply", () => {
  test("export then a dry run on the same instance reports no change, and a real apply writes nothing", async () => {
    const { document } = await exported(source, src.operator);
    const auditBefore = await source.prisma.auditLog.count();
    const dry = await source.request("POST", "/api/apply?dryRun=true", { token: src.operator, body: document });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.summary).toEqual({ create: 0, change: 0, unchanged: 6, delete: 0 });
    expect(dry.body.changes.every((c: { action: string }) => c.action === "unchanged")).toBe(true);
    const real = await source.request("POST", "/api/apply?prune=true", { token: src.operator, body: document });
    expect(real.body.summary).toEqual({ create: 0, change: 0, unchanged: 6, delete: 0 });
    expect(await source.prisma.jobVersion.count()).toBe(2);
    expect(await source.prisma.auditLog.count()).toBe(auditBefore);
  });

  test("onto an empty instance: a credential it names must exist (400 naming it, nothing written); then it recreates the same jobs, targets and schedules", async () => {
    const { document } = await exported(source, src.operator);
    const missing = await target.request("POST", "/api/apply", { token: dst.admin, body: document });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.files[0]" })]));
    await upload(target, dst.operator, "setup.ps1", FILE_TEXT);
    const noCredential = await target.request("POST", "/api/apply", { token: dst.admin, body: document });
    expect(noCredential.status).toBe(400);
    expect(noCredential.body.error.details).toEqual([expect.objectContaining({ path: "body.targets[1].credential", message: expect.stringContaining("winrm-admin") })]);
    expect(await target.prisma.target.count()).toBe(0);
    expect(await target.prisma.job.count()).toBe(0);

    await target.create("/api/credentials", dst.admin, { name: "winrm-admin", type: "winrm", username: "Administrator", secret: { password: "another-instance-password" } });
    const dry = await target.request("POST", "/api/apply?dryRun=true", { token: dst.admin, body: document });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.summary).toEqual({ create: 6, change: 0, unchanged: 0, delete: 0 });
    expect(await target.prisma.target.count()).toBe(0);

    const applied = await target.request("POST", "/api/apply", { token: dst.admin, body: document });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body.changes).toEqual(
      expect.arrayContaining([
        { kind: "target", name: "web-01", action: "create" },
        { kind: "job", name: "Deploy", action: "create" },
        { kind: "schedule", name: "Deploy: nightly", action: "create" },
      ]),
    );
    const again = await exported(target, dst.admin);
    expect(withoutMetadata(again.document)).toEqual(withoutMetadata(document));
    const schedule = await target.prisma.schedule.findFirstOrThrow({ where: { name: "nightly" } });
    expect(schedule.nextRunAt).not.toBeNull();
    expect(await target.prisma.auditLog.count({ where: { action: "config.apply" } })).toBe(1);

    const second = await target.request("POST", "/api/apply", { token: dst.admin, body: again.document });
    expect(second.body.summary).toEqual({ create: 0, change: 0, unchanged: 6, delete: 0 });
  });

  test("changes and prune: a dry run says what would change and be deleted, the apply does it", async () => {
    const { document } = await exported(target, dst.admin);
    const doc = structuredClone(document) as { targets: { name: string; port: number }[]; schedules: { job: string }[]; jobs: { definition: { name: string; description?: string } }[] };
    doc.targets.find((t) => t.name === "db-01")!.port = 5999;
    doc.jobs.find((j) => j.definition.name === "Deploy")!.definition.description = "a new description";
    doc.schedules = doc.schedules.filter((s) => s.job !== "Old report");
    const dry = await target.request("POST", "/api/apply?dryRun=true&prune=true", { token: dst.operator, body: doc });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, prune: true, summary: { create: 0, change: 2, unchanged: 3, delete: 1 } });
    expect(dry.body.changes).toEqual(
      expect.arrayContaining([
        { kind: "target", name: "db-01", action: "change", fields: ["port"] },
        { kind: "job", name: "Deploy", action: "change", fields: ["definition"] },
        { kind: "schedule", name: "Old report: 0 6 * * 1 (UTC)", action: "delete" },
      ]),
    );
    expect(await target.prisma.schedule.count()).toBe(2);

    const noPrune = await target.request("POST", "/api/apply", { token: dst.operator, body: doc });
    expect(noPrune.body.summary).toEqual({ create: 0, change: 2, unchanged: 3, delete: 0 });
    expect(await target.prisma.schedule.count()).toBe(2);
    expect((await target.prisma.target.findFirstOrThrow({ where: { name: "db-01" } })).port).toBe(5999);
    expect(await target.prisma.jobVersion.count({ where: { job: { name: "Deploy" } } })).toBe(2);

    const pruned = await target.request("POST", "/api/apply?prune=true", { token: dst.operator, body: doc });
    expect(pruned.body.summary).toEqual({ create: 0, change: 0, unchanged: 5, delete: 1 });
    expect(await target.prisma.schedule.count()).toBe(1);
  });

  test("a bad document is a 400 naming the path, and nothing of it is written", async () => {
    const { document } = await exported(source, src.operator);
    type Doc = { apiVersion: string; targets: { name: string; port: unknown; dependsOn: string[] }[]; jobs: { definition: { steps: { type: string }[] } }[]; schedules: { job: string; cron: string; parameters: Record<string, unknown> }[] };
    const cases: [(doc: Doc) => void, string][] = [
      [(d) => (d.apiVersion = "v0"), "body.apiVersion"],
      // Shape errors use the API-wide zod path form (body.targets.0.port); the rest index with brackets.
      [(d) => (d.targets[0]!.port = "x"), "body.targets.0.port"],
      [(d) => (d.targets[1]!.name = d.targets[0]!.name.toUpperCase()), "body.targets[1].name"],
      [(d) => (d.jobs[0]!.definition.steps[1]!.type = "winrm.nope"), "body.jobs[0].definition.steps[1].type"],
      [(d) => (d.schedules[0]!.job = "No such job"), "body.schedules[0].job"],
      [(d) => (d.schedules[0]!.cron = "not a cron"), "body.schedules[0].cron"],
      [(d) => (d.targets[0]!.dependsOn = ["nowhere"]), "body.targets[0].dependsOn"],
      [(d) => (d.schedules[0]!.parameters = { apiKey: "a secret value" }), "body.schedules[0].parameters.apiKey"],
    ];
    // A fresh name on every resource, so a half-applied document would leave rows behind.
    for (const [mutate, path] of cases) {
      const doc = structuredClone(document) as unknown as Doc;
      for (const t of doc.targets) t.name = `new-${t.name}`;
      for (const t of doc.targets) t.dependsOn = t.dependsOn.map((n: string) => `new-${n}`);
      mutate(doc);
      const res = await source.request("POST", "/api/apply", { token: src.admin, body: doc });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path), JSON.stringify(res.body)).toContain(path);
      expect(await source.prisma.target.count({ where: { name: { startsWith: "new-" } } })).toBe(0);
    }
  });

  test("viewers may not apply (403); operators may", async () => {
    const { document } = await exported(source, src.operator);
    expect((await source.request("POST", "/api/apply?dryRun=true", { token: src.viewer, body: document })).status).toBe(403);
    expect((await source.request("POST", "/api/apply?dryRun=true", { token: src.operator, body: document })).status).toBe(200);
  });
});
