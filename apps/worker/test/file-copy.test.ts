// A file from the library, end to end over the public API: an operator uploads it, a job copies it,
// a real worker streams it from PostgreSQL to the in-process WinRM server, and the bytes that arrive
// have the library's SHA-256. A chunk altered behind the API's back fails the copy's digest check.
import { createHash, randomBytes } from "node:crypto";
import { recordingClient, startApp } from "@opsconductor/testing/web";
import { startAppWorker } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, expect, test } from "vitest";

const PLANTED = `Planted-${randomBytes(6).toString("hex")}!`;
const app = await startApp();
const winrm = await startWinRMTestServer({ users: { svc_copy: PLANTED }, auth: "ntlm" });
afterAll(() => winrm.close());
const { text: workerLog } = await startAppWorker(app, { concurrency: 1, scheduler: false });

const { api, responses } = recordingClient(app);

async function runToEnd(jobId: string, token: string) {
  const run = await api("POST", `/api/jobs/${jobId}/run`, token, {});
  expect(run.status, run.text).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const current = await api("GET", `/api/runs/${run.body.runId}`, token);
    if (!["queued", "running"].includes(current.body.status)) return { run: current.body, steps: (await api("GET", `/api/runs/${run.body.runId}/steps`, token)).body };
    if (Date.now() > deadline) throw new Error(`run ${run.body.runId} did not finish: ${current.text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("upload, define a copy step, run: the file arrives on the WinRM server with the library's SHA-256; a tampered chunk fails the check", { timeout: 120_000 }, async () => {
  const admin = (await app.login("admin")).accessToken;
  const operator = (await app.login("operator")).accessToken;
  const credential = await api("POST", "/api/credentials", admin, { name: "svc-copy", type: "winrm", username: "svc_copy", secret: { password: PLANTED } });
  expect(credential.status).toBe(201);
  const target = await api("POST", "/api/targets", admin, { name: "file-server", hostname: "127.0.0.1", port: winrm.port, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.body.id });
  expect(target.status, target.text).toBe(201);

  const data = randomBytes(3 * 1024 * 1024 + 12_345);
  const digest = createHash("sha256").update(data).digest("hex");
  const uploadRes = await fetch(`${app.url}/api/files?name=payload.bin`, { method: "POST", headers: { authorization: `Bearer ${operator}`, "content-type": "application/octet-stream" }, body: data });
  const uploaded = (await uploadRes.json()) as { id: string; sha256: string; size: number };
  expect(uploadRes.status).toBe(201);
  expect(uploaded).toMatchObject({ sha256: digest, size: data.length });
  const listed = await api("GET", "/api/files", (await app.login("viewer")).accessToken);
  expect(listed.body.items.map((f: { id: string }) => f.id)).toContain(uploaded.id);

  const local = await api("POST", "/api/jobs", operator, { name: "Copy a local file", steps: [{ type: "winrm.copy", target: "file-server", source: "/proc/self/environ", destination: "C:\\Temp\\environ.txt" }] });
  expect(local.status).toBe(400);
  expect(local.body.error.details[0].path).toBe("body.steps[0].source");

  const job = await api("POST", "/api/jobs", operator, { name: "Deploy payload", steps: [{ type: "winrm.copy", target: "file-server", file: "payload.bin", destination: "C:\\Temp\\payload.bin", overwrite: true }] });
  expect(job.status, job.text).toBe(201);
  const { run, steps } = await runToEnd(job.body.id, operator);
  expect(run, JSON.stringify(steps)).toMatchObject({ status: "succeeded" });
  const arrived = winrm.files.get("C:\\Temp\\payload.bin");
  expect(arrived?.length).toBe(data.length);
  expect(createHash("sha256").update(arrived!).digest("hex")).toBe(digest);
  const stdout = (await app.prisma.runOutputChunk.findMany({ where: { runId: run.id, stream: "stdout" } })).map((c) => c.text).join("");
  expect(stdout).toContain(`Copied payload.bin (${data.length} bytes) to C:\\Temp\\payload.bin (SHA-256 ${digest})`);

  // Rows changed behind the API's back: the target receives other bytes, and the step says so.
  await app.prisma.$executeRaw`UPDATE file_chunks SET data = overlay(data placing '\\x00ff'::bytea from 10) WHERE file_id = ${uploaded.id}::uuid AND index = 1`;
  const tampered = await runToEnd(job.body.id, operator);
  expect(tampered.run.status).toBe("failed");
  expect(tampered.run.error).toContain(`expected ${digest}`);

  // Nothing of this put the credential's secret anywhere a person or log collector sees.
  const audit = await app.prisma.auditLog.findMany();
  const files = await app.prisma.libraryFile.findMany();
  for (const [place, text] of Object.entries({
    "API responses": responses.join("\n"),
    "web server log": app.output(),
    "worker log": workerLog(),
    "audit rows": JSON.stringify(audit.map((a) => ({ ...a, id: String(a.id) }))),
    "file rows": JSON.stringify(files.map((f) => ({ ...f, size: String(f.size) }))),
  })) {
    expect(text.includes(PLANTED), `the planted password appears in ${place}`).toBe(false);
  }
  expect(winrm.stats.openShells).toBe(0);
});
