import { describe, expect, test } from "vitest";
import { createTestDatabase } from "../testing/index.ts";
import { addJobVersion, createJob, createRun, appendRunOutput, createUser, DbError, findUserByUsername } from "../index.ts";

const { prisma } = await createTestDatabase();

const definition = { name: "Restart spooler", version: 1, parameters: { svc: "Spooler" }, steps: [{ type: "winrm.exec", shell: "powershell", target: "web-1", command: "Restart-Service {{ svc }}" }] };
const sealed = { ciphertext: Buffer.from("c"), iv: Buffer.alloc(12), authTag: Buffer.alloc(16), wrappedKey: Buffer.from("k"), keyId: "k1" };

describe("names are unique regardless of case", () => {
  test("usernames", async () => {
    await createUser(prisma, { username: "Alice", passwordHash: "hash-of-alice" });
    await expect(createUser(prisma, { username: "alice" })).rejects.toMatchObject({ code: "conflict", status: 409, field: "username" });
    const found = await findUserByUsername(prisma, "ALICE");
    expect(found).toMatchObject({ username: "Alice", passwordHash: "hash-of-alice" });
  });

  test("credentials, targets and jobs", async () => {
    await prisma.credential.create({ data: { name: "Domain Admin", type: "winrm", ...sealed } });
    await expect(prisma.credential.create({ data: { name: "domain admin", type: "winrm", ...sealed } })).rejects.toMatchObject({ code: "P2002" });
    await prisma.target.create({ data: { name: "WEB-1", hostname: "web-1.corp.example" } });
    await expect(prisma.target.create({ data: { name: "web-1", hostname: "other" } })).rejects.toMatchObject({ code: "P2002" });
    await createJob(prisma, { name: "Nightly Cleanup", definition });
    await expect(createJob(prisma, { name: "nightly cleanup", definition })).rejects.toBeInstanceOf(DbError);
  });
});

test("a credential referenced by a target cannot be deleted, and can once the target is gone", async () => {
  const credential = await prisma.credential.create({ data: { name: "svc-account", type: "winrm", username: "svc", ...sealed } });
  const target = await prisma.target.create({ data: { name: "db-1", hostname: "db-1.corp.example", credentialId: credential.id } });
  await expect(prisma.credential.delete({ where: { id: credential.id } })).rejects.toMatchObject({ code: "P2003" });
  expect(await prisma.credential.count({ where: { id: credential.id } })).toBe(1);
  await prisma.target.delete({ where: { id: target.id } });
  await prisma.credential.delete({ where: { id: credential.id } });
  expect(await prisma.credential.count({ where: { id: credential.id } })).toBe(0);
});

test("no column of the credentials table can hold a plaintext secret", async () => {
  const columns = await prisma.$queryRaw<{ column_name: string }[]>`SELECT column_name FROM information_schema.columns WHERE table_name = 'credentials'`;
  const names = columns.map((c) => c.column_name);
  expect(names).toEqual(expect.arrayContaining(["ciphertext", "iv", "auth_tag", "wrapped_key", "key_id"]));
  expect(names.filter((n) => /secret|password|plain/.test(n))).toEqual([]);
});

test("deleting a run removes its steps and output chunks", async () => {
  const job = await createJob(prisma, { name: "cascade", definition });
  const { run } = await createRun(prisma, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: { svc: "Spooler" } });
  const step = await prisma.jobRunStep.create({ data: { runId: run.id, index: 0, name: "restart", type: "winrm.exec" } });
  await appendRunOutput(prisma, run.id, [
    { stepId: step.id, stream: "stdout", sequence: 1, text: "Running\r\n" },
    { stepId: step.id, stream: "stderr", sequence: 2, text: "warning\r\n" },
  ]);
  expect(await prisma.runOutputChunk.count({ where: { runId: run.id } })).toBe(2);
  await prisma.jobRun.delete({ where: { id: run.id } });
  expect(await prisma.jobRunStep.count({ where: { runId: run.id } })).toBe(0);
  expect(await prisma.runOutputChunk.count({ where: { runId: run.id } })).toBe(0);
});

test("output sequence numbers are unique per run", async () => {
  const job = await createJob(prisma, { name: "sequence", definition });
  const { run } = await createRun(prisma, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: {} });
  await appendRunOutput(prisma, run.id, [{ stream: "system", sequence: 1, text: "a" }]);
  await expect(appendRunOutput(prisma, run.id, [{ stream: "system", sequence: 1, text: "b" }])).rejects.toMatchObject({ code: "P2002" });
});

describe("job versions are immutable", () => {
  test("a new definition becomes a new version; the old one stays as it was", async () => {
    const job = await createJob(prisma, { name: "versioned", definition });
    const v2 = await addJobVersion(prisma, job.id, { ...definition, description: "second" });
    expect(v2.number).toBe(2);
    const reloaded = await prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { versions: { orderBy: { number: "asc" } } } });
    expect(reloaded.currentVersionId).toBe(v2.id);
    expect(reloaded.versions.map((v) => v.number)).toEqual([1, 2]);
    expect(reloaded.versions[0]!.definition).toEqual(definition);
  });

  test("the database refuses to edit a stored version", async () => {
    const job = await createJob(prisma, { name: "frozen", definition });
    await expect(
      prisma.jobVersion.update({ where: { id: job.currentVersionId! }, data: { definition: { hacked: true } } }),
    ).rejects.toThrow(/immutable/);
    const version = await prisma.jobVersion.findUniqueOrThrow({ where: { id: job.currentVersionId! } });
    expect(version.definition).toEqual(definition);
  });
});

describe("idempotency keys", () => {
  test("the same key for the same job returns the existing run instead of queueing another", async () => {
    const job = await createJob(prisma, { name: "idempotent", definition });
    const first = await createRun(prisma, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: {}, idempotencyKey: "deploy-42" });
    const again = await createRun(prisma, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: {}, idempotencyKey: "deploy-42" });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, run: { id: first.run.id } });
    expect(await prisma.jobRun.count({ where: { jobId: job.id } })).toBe(1);
  });

  test("the database itself rejects a duplicate key for one job but allows it for another", async () => {
    const a = await createJob(prisma, { name: "idem-a", definition });
    const b = await createJob(prisma, { name: "idem-b", definition });
    const row = (job: typeof a) => ({ jobId: job.id, jobVersionId: job.currentVersionId!, idempotencyKey: "same" });
    await prisma.jobRun.create({ data: row(a) });
    await expect(prisma.jobRun.create({ data: row(a) })).rejects.toMatchObject({ code: "P2002" });
    await expect(prisma.jobRun.create({ data: row(b) })).resolves.toMatchObject({ jobId: b.id });
  });
});
