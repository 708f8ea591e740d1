// A run keeps one authenticated WinRM connection and one shell per target for all of its steps.
import { enqueueRun, requestRunControl } from "@opsconductor/db";
import { createTestDatabase, FINISHED_RUN_STATUSES, waitForRun } from "@opsconductor/testing";
import { createWorkerFixture, startTestWorker } from "@opsconductor/testing/worker";
import { describe, expect, test } from "vitest";

const { url, prisma } = await createTestDatabase();
const fixture = await createWorkerFixture(prisma);
const { worker } = await startTestWorker({ databaseUrl: url, masterKeys: fixture.masterKeys, id: "worker-sessions", shutdownGraceSec: 5 });

const exec = (command: string, extra: Record<string, unknown> = {}) => ({ type: "winrm.exec", shell: "powershell", target: fixture.targetName, command, ...extra });

function snapshot() {
  const { authHandshakes, shellsCreated, connections, operations } = fixture.server.stats;
  return { authHandshakes, shellsCreated, connections, creates: operations.create, deletes: operations.delete };
}

function since(before: ReturnType<typeof snapshot>) {
  const now = snapshot();
  return {
    authHandshakes: now.authHandshakes - before.authHandshakes,
    shellsCreated: now.shellsCreated - before.shellsCreated,
    connections: now.connections - before.connections,
    creates: now.creates - before.creates,
    deletes: now.deletes - before.deletes,
  };
}

async function runToEnd(definition: Record<string, unknown>) {
  const { jobId, versionId } = await fixture.job(definition);
  const { run } = await enqueueRun(prisma, worker.boss, { jobId, jobVersionId: versionId, parameters: {} });
  return waitForRun(prisma, run.id, (r) => FINISHED_RUN_STATUSES.includes(r.status));
}

describe("one connection and one shell per target per run", () => {
  test("a 5-step job on one target performs one NTLM handshake and opens one shell, deleted when the run ends", async () => {
    const before = snapshot();
    const done = await runToEnd({
      name: "Five steps",
      version: 1,
      steps: [exec("hostname"), exec("Write-Output 'two'"), exec("hostname", { shell: "cmd" }), exec("(Get-Service 'Spooler').Status"), exec("Write-Output 'five'")],
    });
    expect(done.status).toBe("succeeded");
    expect(since(before)).toEqual({ authHandshakes: 1, shellsCreated: 1, connections: 1, creates: 1, deletes: 1 });
    expect(fixture.server.stats.openShells).toBe(0);
    const stdout = (await prisma.runOutputChunk.findMany({ where: { runId: done.id, stream: "stdout" }, orderBy: { sequence: "asc" } })).map((c) => c.text).join("");
    expect(stdout).toContain("two\r\n");
    expect(stdout).toContain("five\r\n");
  });

  test("a copy step between commands uses the run's connection and a shell of its own, and the command shell outlives it", async () => {
    const before = snapshot();
    const done = await runToEnd({
      name: "Exec, copy, exec",
      version: 1,
      steps: [exec("Write-Output 'before'"), { type: "winrm.copy", target: fixture.targetName, content: "hello", destination: "C:\\Temp\\hello.txt", overwrite: true }, exec("Write-Output 'after'")],
    });
    expect([done.status, done.error]).toEqual(["succeeded", null]);
    expect(since(before)).toMatchObject({ authHandshakes: 1, shellsCreated: 2, connections: 1 });
    expect(fixture.server.files.get("C:\\Temp\\hello.txt")?.toString()).toBe("hello");
    expect(fixture.server.stats.openShells).toBe(0);
  });

  test("a failing step does not cost the next one a new shell (continueOnError)", async () => {
    const before = snapshot();
    const done = await runToEnd({ name: "Fail then go on", version: 1, steps: [exec("Invoke-Unknown", { continueOnError: true }), exec("Write-Output 'still here'")] });
    expect(done.status).toBe("succeeded");
    const steps = await prisma.jobRunStep.findMany({ where: { runId: done.id }, orderBy: { index: "asc" } });
    expect(steps.map((s) => [s.status, s.exitCode])).toEqual([["failed", 1], ["succeeded", 0]]);
    expect(since(before)).toMatchObject({ authHandshakes: 1, shellsCreated: 1 });
  });

  test("canceling mid-run terminates the command and leaves no shell", async () => {
    const before = snapshot();
    const { jobId, versionId } = await fixture.job({ name: "Cancel me", version: 1, steps: [exec("Write-Output 'first'"), exec("Start-Sleep -Seconds 600", { timeoutSec: 900 }), exec("Write-Output 'never'")] });
    const { run } = await enqueueRun(prisma, worker.boss, { jobId, jobVersionId: versionId, parameters: {} });
    const deadline = Date.now() + 15_000;
    while (!fixture.executions.some((e) => e.script.includes("Start-Sleep -Seconds 600") && e.endedAt === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(fixture.server.stats.openShells).toBe(1);
    await prisma.jobRun.update({ where: { id: run.id }, data: { cancelRequestedAt: new Date() } });
    await requestRunControl(prisma, { runId: run.id, action: "cancel" });
    const done = await waitForRun(prisma, run.id, (r) => FINISHED_RUN_STATUSES.includes(r.status), 10_000);
    expect(done.status).toBe("canceled");
    const steps = await prisma.jobRunStep.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
    expect(steps.map((s) => s.status)).toEqual(["succeeded", "canceled", "skipped"]);
    expect(fixture.server.stats.openShells).toBe(0);
    // The Signal travels on a second connection (with its own handshake) while a Receive waits on the first.
    expect(since(before)).toMatchObject({ authHandshakes: 2, shellsCreated: 1, deletes: 1 });
    expect(fixture.executions.find((e) => e.script.includes("Start-Sleep -Seconds 600"))!.abortReason).toBeDefined();
  });
});
