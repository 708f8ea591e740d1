// The whole product in one flow, over its public API: an admin stores a credential, registers a
// target on the WinRM test server, defines the original product's job, runs it, and watches it live
// over SSE while a real worker executes it. The credential's password is planted and searched for
// everywhere afterwards.
import { randomBytes } from "node:crypto";
import { recordingClient, startApp } from "@opsconductor/testing/web";
import { startAppWorker, windowsLikeHandler } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, expect, test } from "vitest";

const PLANTED = `Planted-${randomBytes(6).toString("hex")}!`;
// The WinRM test server listens on loopback, which connection tests refuse unless allowed.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
// A remote program that prints the password it runs with, as careless scripts do.
const winrm = await startWinRMTestServer({
  users: { svc_ops: PLANTED },
  auth: "ntlm",
  handler: (ctx) => {
    if (ctx.script?.includes("Show-RunAsPassword")) {
      ctx.stdout.write(`password is ${PLANTED}\r\n`);
      return 0;
    }
    return windowsLikeHandler(ctx);
  },
});
afterAll(() => winrm.close());
const { text: workerLog } = await startAppWorker(app);

const { api, responses } = recordingClient(app);

async function readEvents(path: string, token: string): Promise<{ event: string; id?: string; data: string }[]> {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const text = await res.text(); // the server ends the stream after the run's last event
  responses.push(text);
  return text
    .split("\n\n")
    .filter((block) => block.includes("event:"))
    .map((block) => {
      const field = (name: string) => block.split("\n").find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
      return { event: field("event")!, id: field("id"), data: field("data") ?? "" };
    });
}

test("store, register, define, run and watch a job; the planted password appears nowhere", { timeout: 120_000 }, async () => {
  const admin = (await app.login("admin")).accessToken;
  const operator = (await app.login("operator")).accessToken;

  const credential = await api("POST", "/api/credentials", admin, { name: "svc-ops", type: "winrm", username: "svc_ops", usagePolicy: ["127.0.0.1"], secret: { password: PLANTED } });
  expect(credential.status).toBe(201);
  const target = await api("POST", "/api/targets", operator, {
    name: "sample-windows-server",
    hostname: "127.0.0.1",
    port: winrm.port,
    os: "windows",
    winrm: { transport: "http", auth: "ntlm" },
    credentialId: credential.body.id,
  });
  expect(target.status).toBe(201);
  const check = await api("POST", `/api/targets/${target.body.id}/test-winrm`, operator);
  expect(check.body, JSON.stringify(check.body)).toMatchObject({ ok: true, hostname: expect.any(String) });

  const job = await api("POST", "/api/jobs", operator, {
    name: "Sample Windows Service Restart",
    version: 1,
    parameters: { svc: "Spooler" },
    steps: [
      { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status", timeoutSec: 90 },
      { type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Show-RunAsPassword" },
    ],
  });
  expect(job.status).toBe(201);
  const run = await api("POST", `/api/jobs/${job.body.id}/run`, operator, { parameters: { svc: "Spooler" } });
  expect(run.status).toBe(202);

  const events = await readEvents(`/api/runs/${run.body.runId}/events`, (await app.login("viewer")).accessToken);
  expect(events.at(-1)?.event).toBe("end");
  const outputs = events.filter((e) => e.event === "output").map((e) => JSON.parse(e.data) as { sequence: number; text: string; stream: string });
  expect(outputs.map((o) => o.sequence)).toEqual([...outputs.map((o) => o.sequence)].sort((a, b) => a - b));
  const stdout = outputs.filter((o) => o.stream === "stdout").map((o) => o.text).join("");
  expect(stdout).toContain("Running\r\n");
  expect(stdout).toContain("password is ***\r\n");

  const finished = await api("GET", `/api/runs/${run.body.runId}`, operator);
  expect(finished.body).toMatchObject({ status: "succeeded" });
  const steps = await api("GET", `/api/runs/${run.body.runId}/steps`, operator);
  expect(steps.status).toBe(200);
  await api("GET", "/api/audit?limit=200", admin);
  await api("GET", `/api/credentials/${credential.body.id}`, admin);
  await api("GET", "/api/credentials", admin);
  await api("GET", `/api/targets/${target.body.id}`, operator);
  expect(winrm.stats.openShells).toBe(0);

  // Now search everything a person or a log collector could ever see.
  const audit = await app.prisma.auditLog.findMany();
  const runsTable = await app.prisma.jobRun.findMany();
  const chunks = await app.prisma.runOutputChunk.findMany();
  const queue = await app.prisma.$queryRawUnsafe<unknown[]>("SELECT data, output FROM pgboss.job");
  const places: Record<string, string> = {
    "API responses and SSE events": responses.join("\n"),
    "web server log": app.output(),
    "worker log": workerLog(),
    "audit_log rows": JSON.stringify(audit.map((a) => ({ ...a, id: String(a.id) }))),
    "job_runs rows": JSON.stringify(runsTable),
    "run output chunks": JSON.stringify(chunks.map((c) => ({ ...c, id: String(c.id) }))),
    "queue jobs": JSON.stringify(queue),
  };
  for (const [place, text] of Object.entries(places)) expect(text.includes(PLANTED), `the planted password appears in ${place}`).toBe(false);
  expect(responses.join("").length).toBeGreaterThan(2_000);
});
