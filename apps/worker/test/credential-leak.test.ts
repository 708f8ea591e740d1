// An operator, by any sequence of API calls, cannot make the web app or a worker send a credential's
// secret to a host outside the credential's usage policy. A capture server on 127.0.0.3 records the
// headers of everything it receives; the real WinRM test server on 127.0.0.2 is the allowed host.
import { startCaptureServer } from "@opsconductor/testing";
import { startApp } from "@opsconductor/testing/web";
import { startAppWorker, windowsLikeHandler } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, expect, test } from "vitest";

const PASSWORD = "Leak-Test-Password-7!";
// Allow the whole loopback range to connection tests: here only the usage policy stands in the way.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.0/8" });
const winrm = await startWinRMTestServer({ host: "127.0.0.2", users: { svc: PASSWORD }, auth: "ntlm", handler: windowsLikeHandler });
afterAll(() => winrm.close());
const capture = await startCaptureServer("127.0.0.3");
const { text: workerLog } = await startAppWorker(app, { scheduler: false });

const admin = (await app.login("admin")).accessToken;
const operator = (await app.login("operator")).accessToken;

let jobs = 0;
/** Runs a one-step job on `target` through the API and a real worker; resolves with the finished run and its step. */
async function runOn(target: string) {
  const job = await app.request("POST", "/api/jobs", {
    token: operator,
    body: { name: `leak check ${++jobs}`, version: 1, steps: [{ type: "winrm.exec", shell: "powershell", target, command: "hostname", timeoutSec: 30 }] },
  });
  expect(job.status, job.text).toBe(201);
  const queued = await app.request("POST", `/api/jobs/${job.body.id}/run`, { token: operator, body: {} });
  expect(queued.status, queued.text).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = await app.prisma.jobRun.findUniqueOrThrow({ where: { id: queued.body.runId } });
    if (!["queued", "running"].includes(run.status)) {
      const step = await app.prisma.jobRunStep.findFirstOrThrow({ where: { runId: run.id } });
      return { run, step };
    }
    if (Date.now() > deadline) throw new Error(`run ${run.id} did not finish:\n${workerLog()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const sneaky = { hostname: "127.0.0.3", port: capture.port, winrm: { transport: "http", auth: "basic", allowUnencrypted: true } };

test("no Authorization header ever reaches a host outside the policy: re-pointed target + test, new target + test, runs, rows edited behind the API", { timeout: 180_000 }, async () => {
  const cred = await app.request("POST", "/api/credentials", { token: admin, body: { name: "svc", type: "winrm", username: "svc", usagePolicy: ["127.0.0.2"], secret: { password: PASSWORD } } });
  expect(cred.status).toBe(201);
  const credentialId = cred.body.id as string;
  const adminTarget = await app.request("POST", "/api/targets", { token: admin, body: { name: "admin-win", hostname: "127.0.0.2", port: winrm.port, credentialId } });
  expect(adminTarget.status).toBe(201);

  // Within the policy everything works, for the operator too.
  expect((await app.request("POST", `/api/targets/${adminTarget.body.id}/test-winrm`, { token: operator })).body).toMatchObject({ ok: true });
  const opTarget = await app.request("POST", "/api/targets", { token: operator, body: { name: "op-win", hostname: "127.0.0.2", port: winrm.port, credentialId } });
  expect(opTarget.status).toBe(201);
  const good = await runOn("op-win");
  expect(good.run.status, good.step.error ?? "").toBe("succeeded");

  // 1. Re-point the admin's target at the capture server, then test it.
  const repoint = await app.request("PUT", `/api/targets/${adminTarget.body.id}`, { token: operator, body: sneaky });
  expect(repoint.status).toBe(403);
  expect(repoint.body.error.code).toBe("credential_policy");
  expect((await app.request("POST", `/api/targets/${adminTarget.body.id}/test-winrm`, { token: operator })).body).toMatchObject({ ok: true });

  // 2. A new target with the credential, created with it or given it later, then tested.
  expect((await app.request("POST", "/api/targets", { token: operator, body: { name: "evil", ...sneaky, credentialId } })).status).toBe(403);
  const evil = await app.request("POST", "/api/targets", { token: operator, body: { name: "evil", ...sneaky } });
  expect(evil.status).toBe(201);
  expect((await app.request("PUT", `/api/targets/${evil.body.id}`, { token: operator, body: { credentialId } })).status).toBe(403);
  expect((await app.request("POST", `/api/targets/${evil.body.id}/test-winrm`, { token: operator })).body).toMatchObject({ ok: false, error: "target evil has no credential" });

  // 3. A run on the operator's own target once it has been re-pointed: refused at the API...
  expect((await app.request("PUT", `/api/targets/${opTarget.body.id}`, { token: operator, body: sneaky })).status).toBe(403);
  // ...and when the row is changed behind the API's back, test-winrm and the worker refuse it themselves.
  await app.prisma.target.update({ where: { id: opTarget.body.id }, data: { hostname: "127.0.0.3", port: capture.port, winrmAuth: "basic", winrmAllowUnencrypted: true } });
  expect((await app.request("POST", `/api/targets/${opTarget.body.id}/test-winrm`, { token: operator })).status).toBe(403);
  const refused = await runOn("op-win");
  expect(refused.run.status).toBe("failed");
  expect(refused.step).toMatchObject({ status: "failed", error: expect.stringContaining("credential svc may not be used against host 127.0.0.3") });
  expect(refused.step.error).toContain("nothing was sent to the host");
  const output = (await app.prisma.runOutputChunk.findMany({ where: { runId: refused.run.id } })).map((c) => c.text).join("");
  expect(output).toContain("outside the credential's usage policy");

  // 4. An admin's binding outside the policy runs, and stops running the moment the row moves.
  const adminOnly = await app.request("POST", "/api/credentials", { token: admin, body: { name: "svc-admin-only", type: "winrm", username: "svc", secret: { password: PASSWORD } } });
  const approved = await app.request("POST", "/api/targets", { token: admin, body: { name: "approved-win", hostname: "127.0.0.2", port: winrm.port, credentialId: adminOnly.body.id } });
  expect(approved.status).toBe(201);
  expect((await runOn("approved-win")).run.status).toBe("succeeded");
  await app.prisma.target.update({ where: { id: approved.body.id }, data: { hostname: "127.0.0.3", port: capture.port } });
  expect((await app.request("POST", `/api/targets/${approved.body.id}/test-winrm`, { token: operator })).status).toBe(403);
  const moved = await runOn("approved-win");
  expect(moved.run.status).toBe("failed");
  expect(moved.step.error).toContain("credential svc-admin-only may not be used against host 127.0.0.3");

  expect(capture.authorizations()).toEqual([]);
  expect(capture.requests).toEqual([]);
  expect(capture.connections()).toBe(0);
  expect(workerLog()).toContain("refused to send a credential outside its usage policy");

  // Control: the capture server does see the secret when an admin deliberately sends it there.
  const deliberate = await app.request("POST", "/api/targets", { token: admin, body: { name: "admin-to-capture", ...sneaky, credentialId } });
  expect(deliberate.status).toBe(201);
  await app.request("POST", `/api/targets/${deliberate.body.id}/test-winrm`, { token: admin });
  expect(capture.authorizations()).toEqual([`Basic ${Buffer.from(`svc:${PASSWORD}`).toString("base64")}`]);
});
