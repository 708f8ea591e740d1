// Fixtures for worker tests: a Windows-like target on the in-process WinRM server, with its
// credential sealed exactly as the web app stores it.
import { randomBytes, randomUUID } from "node:crypto";
import { createKeyring, encryptSecret } from "@opsconductor/core";
import { createJob, sealedSecretColumns, type PrismaClient } from "@opsconductor/db";
import { startWinRMTestServer, type WinRMCommandHandler, type WinRMTestServer } from "@opsconductor/winrm/testing";

export const TEST_USER = "ops";
export const TEST_PASSWORD = "Winter2026!secret";

const flakyCalls = new Map<string, number>();

/** A fake Windows service table answering Restart-Service / Get-Service, Start-Sleep, `Write-Lines n` (n numbered 100-byte lines) and `Invoke-Flaky 'key' n` (fails its first n calls). */
export const windowsLikeHandler: WinRMCommandHandler = async (ctx) => {
  const script = ctx.script ?? ctx.commandLine;
  for (const statement of script.split(/;|\r?\n/).map((s) => s.trim()).filter(Boolean)) {
    if (/^\$ProgressPreference/i.test(statement)) continue;
    const restart = /^Restart-Service '([^']+)'$/i.exec(statement);
    const status = /^\(Get-Service '([^']+)'\)\.Status$/i.exec(statement);
    const sleep = /^Start-Sleep -Seconds (\d+)$/i.exec(statement);
    const echo = /^Write-Output '([^']*)'$/i.exec(statement);
    const flaky = /^Invoke-Flaky '([^']+)' (\d+)$/i.exec(statement);
    const lines = /^Write-Lines (\d+)$/i.exec(statement);
    if (lines) {
      for (let i = 1; i <= Number(lines[1]); i++) {
        ctx.stdout.write(`line ${String(i).padStart(6, "0")} ${"-".repeat(86)}\r\n`);
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
    } else if (flaky) {
      const calls = (flakyCalls.get(flaky[1]!) ?? 0) + 1;
      flakyCalls.set(flaky[1]!, calls);
      if (calls <= Number(flaky[2])) {
        ctx.stderr.write(`Invoke-Flaky : call ${calls} failed\r\n`);
        return 1;
      }
      ctx.stdout.write(`call ${calls} worked\r\n`);
    } else if (/^hostname$/i.test(statement)) ctx.stdout.write(`${ctx.machineName}\r\n`);
    else if (restart) ctx.stdout.write(`WARNING: Waiting for service '${restart[1]}' to stop...\r\n`);
    else if (status) ctx.stdout.write("Running\r\n");
    else if (echo) ctx.stdout.write(`${echo[1]}\r\n`);
    else if (sleep) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Number(sleep[1]) * 1000);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (ctx.signal.aborted) return 1;
    } else {
      ctx.stderr.write(`${statement.split(" ")[0]} : The term is not recognized as the name of a cmdlet.\r\n`);
      return 1;
    }
  }
  return 0;
};

export interface WorkerFixture {
  masterKeys: { keys: Record<string, string>; primary: string };
  server: WinRMTestServer;
  targetName: string;
  /** Creates a job (one version) and returns its ids. */
  job(definition: Record<string, unknown>): Promise<{ jobId: string; versionId: string }>;
}

/** Starts a WinRM test server (NTLM, encrypted over http) and registers it as target "sample-windows-server". */
export async function createWorkerFixture(prisma: PrismaClient): Promise<WorkerFixture> {
  const masterKeys = { keys: { test: randomBytes(32).toString("base64") }, primary: "test" };
  const server = await startWinRMTestServer({ users: { [TEST_USER]: TEST_PASSWORD }, auth: "ntlm", handler: windowsLikeHandler });
  const keyring = createKeyring(masterKeys);
  const credentialId = randomUUID();
  await prisma.credential.create({
    data: { id: credentialId, name: `winrm-${credentialId.slice(0, 8)}`, type: "winrm", username: TEST_USER, usagePolicy: ["127.0.0.1"], ...sealedSecretColumns(encryptSecret(keyring, JSON.stringify({ password: TEST_PASSWORD }), { aad: credentialId })) },
  });
  const targetName = "sample-windows-server";
  await prisma.target.upsert({
    where: { name: targetName },
    create: { name: targetName, hostname: "127.0.0.1", port: server.port, winrmTransport: "http", winrmAuth: "ntlm", credentialId },
    update: { port: server.port, credentialId },
  });
  let n = 0;
  return {
    masterKeys,
    server,
    targetName,
    async job(definition) {
      const job = await createJob(prisma, { name: `${String(definition.name)} ${++n} ${randomUUID().slice(0, 6)}`, definition: definition as never });
      return { jobId: job.id, versionId: job.currentVersionId! };
    },
  };
}
