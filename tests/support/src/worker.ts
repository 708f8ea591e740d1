// The worker side of the harness: workers started in the test process with their log kept in
// memory; a Windows-like target on the in-process WinRM test server, its credential sealed exactly
// as the web app stores it; a TCP proxy in front of PostgreSQL that a test can cut.
import { randomBytes } from "node:crypto";
import { createServer, connect, type Socket } from "node:net";
import { parseMasterKeys, type MasterKeys, type PrismaClient } from "@opsconductor/db";
import { COPY_MARKER, defaultCommandHandler, startWinRMTestServer, type WinRMCommandHandler, type WinRMTestServer } from "@opsconductor/winrm/testing";
import type { LevelWithSilent } from "pino";
import { afterAll } from "vitest";
import { startWorker, type RunningWorker, type WorkerOptions } from "../../../apps/worker/src/worker.ts";
import { createTestCredential, createTestJob, uniqueName } from "./factories.ts";
import { memoryLogger, type MemoryLogger } from "./logger.ts";

export const TEST_USER = "ops";
export const TEST_PASSWORD = "Winter2026!secret";

const flakyCalls = new Map<string, number>();
const slowCalls = new Set<string>();

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A fake Windows service table answering Restart-Service / Get-Service, Start-Sleep, `Write-Lines n` (n numbered 100-byte lines),
 * `Invoke-Flaky 'key' n` (fails its first n calls) and `Invoke-SlowOnce 'key' n` (its first call sleeps n s, later ones return at once); copyFile's script is the test server's own.
 */
export const windowsLikeHandler: WinRMCommandHandler = async (ctx) => {
  const script = ctx.script ?? ctx.commandLine;
  // copyFile's script goes to the test server's own model of it, which writes server.files.
  if (ctx.script?.trimStart().startsWith(COPY_MARKER)) return defaultCommandHandler(ctx);
  for (const statement of script.split(/;|\r?\n/).map((s) => s.trim()).filter(Boolean)) {
    if (/^\$ProgressPreference/i.test(statement)) continue;
    const restart = /^Restart-Service '([^']+)'$/i.exec(statement);
    const status = /^\(Get-Service '([^']+)'\)\.Status$/i.exec(statement);
    const sleep = /^Start-Sleep -Seconds (\d+)$/i.exec(statement);
    const echo = /^Write-Output '([^']*)'$/i.exec(statement);
    const flaky = /^Invoke-Flaky '([^']+)' (\d+)$/i.exec(statement);
    const lines = /^Write-Lines (\d+)$/i.exec(statement);
    const slowOnce = /^Invoke-SlowOnce '([^']+)' (\d+)$/i.exec(statement);
    if (slowOnce) {
      if (slowCalls.has(slowOnce[1]!)) continue;
      slowCalls.add(slowOnce[1]!);
      await sleepUnlessAborted(Number(slowOnce[2]) * 1000, ctx.signal);
      if (ctx.signal.aborted) return 1;
    } else if (lines) {
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
      await sleepUnlessAborted(Number(sleep[1]) * 1000, ctx.signal);
      if (ctx.signal.aborted) return 1;
    } else {
      ctx.stderr.write(`${statement.split(" ")[0]} : The term is not recognized as the name of a cmdlet.\r\n`);
      return 1;
    }
  }
  return 0;
};

/** One command the WinRM test server executed: when, and whether (and how) it was stopped. */
export interface CommandExecution {
  script: string;
  startedAt: number;
  endedAt?: number;
  /** The Signal code or "delete" that aborted it, if anything did. */
  abortReason?: string;
}

export interface WorkerFixture {
  masterKeys: MasterKeys;
  server: WinRMTestServer;
  /** Every command the server has executed, in start order. */
  executions: CommandExecution[];
  targetName: string;
  /** Creates a job (one version) named after its definition, and answers it with its ids. */
  job(definition: Record<string, unknown>): Promise<Awaited<ReturnType<typeof createTestJob>> & { jobId: string; versionId: string }>;
}

/**
 * Starts a WinRM test server (NTLM, encrypted over http) and registers it as target
 * "sample-windows-server". After the file, every worker startTestWorker started is stopped, then the server.
 */
export async function createWorkerFixture(prisma: PrismaClient): Promise<WorkerFixture> {
  const masterKeys: MasterKeys = { keys: { test: randomBytes(32).toString("base64") }, primary: "test" };
  const executions: CommandExecution[] = [];
  const server = await startWinRMTestServer({
    users: { [TEST_USER]: TEST_PASSWORD },
    auth: "ntlm",
    handler: async (ctx) => {
      const execution: CommandExecution = { script: ctx.script ?? ctx.commandLine, startedAt: Date.now() };
      executions.push(execution);
      ctx.signal.addEventListener("abort", () => (execution.abortReason = String(ctx.signal.reason)), { once: true });
      try {
        return await windowsLikeHandler(ctx);
      } finally {
        execution.endedAt = Date.now();
      }
    },
  });
  afterAll(async () => {
    await stopTestWorkers();
    await server.close();
  });
  const { id: credentialId } = await createTestCredential(prisma, masterKeys, { username: TEST_USER, usagePolicy: ["127.0.0.1"], secret: { password: TEST_PASSWORD } });
  const targetName = "sample-windows-server";
  await prisma.target.upsert({
    where: { name: targetName },
    create: { name: targetName, hostname: "127.0.0.1", port: server.port, winrmTransport: "http", winrmAuth: "ntlm", credentialId },
    update: { port: server.port, credentialId },
  });
  return {
    masterKeys,
    server,
    executions,
    targetName,
    async job(definition) {
      const job = await createTestJob(prisma, { name: uniqueName(String(definition.name)), definition });
      return { ...job, jobId: job.id, versionId: job.currentVersionId! };
    },
  };
}

/** A TCP proxy in front of PostgreSQL that a test can cut (a partition: bytes stop in both directions, connections stay open) and restore. */
export interface TcpProxy {
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  url: string;
  /** From now on nothing passes either way; what is sent waits, as it would in a network partition. */
  cut(): void;
  /** Delivers what waited, in order, and lets bytes flow again. */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 forwarding to the host and port of `databaseUrl`. */
export async function startTcpProxy(databaseUrl: string): Promise<TcpProxy> {
  const upstreamUrl = new URL(databaseUrl);
  let cut = false;
  const flushes = new Set<() => void>();
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket) => {
    const held: Buffer[] = [];
    const flush = () => {
      for (const chunk of held.splice(0)) to.write(chunk);
    };
    flushes.add(flush);
    from.on("data", (chunk: Buffer) => {
      if (cut) held.push(chunk);
      else to.write(chunk);
    });
    from.on("close", () => {
      flushes.delete(flush);
      to.destroy();
    });
  };
  const server = createServer((client) => {
    const upstream = connect(Number(upstreamUrl.port || 5432), upstreamUrl.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no TCP address");
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(address.port);
  return {
    url: proxied.toString(),
    cut: () => {
      cut = true;
    },
    restore: () => {
      cut = false;
      for (const flush of flushes) flush();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type TestWorkerOptions = Omit<WorkerOptions, "logger" | "concurrency"> & { concurrency?: number; logLevel?: LevelWithSilent };

export interface TestWorker extends MemoryLogger {
  worker: RunningWorker;
}

const started = new Set<RunningWorker>();

/** Starts a worker in this process (concurrency 2 and no metrics port unless given), logging to memory. */
export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const { logLevel, ...workerOptions } = options;
  const log = memoryLogger(logLevel);
  const worker = await startWorker({ concurrency: 2, metricsPort: null, ...workerOptions, logger: log.logger });
  started.add(worker);
  return { worker, ...log };
}

/** Stops every worker startTestWorker started in this file (stopping a stopped worker is safe). */
export async function stopTestWorkers(): Promise<void> {
  const workers = [...started];
  started.clear();
  await Promise.all(workers.map((w) => w.stop()));
}

/**
 * Starts a worker on a test app's database and master key, as startTestWorker does, and stops it
 * after the file, before whatever the file set up earlier (its WinRM server, its database) goes.
 * Call it at the top of the file.
 */
export async function startAppWorker(app: { databaseUrl: string; masterKey: string }, options: Omit<TestWorkerOptions, "databaseUrl" | "masterKeys"> = {}): Promise<TestWorker> {
  const started = await startTestWorker({ databaseUrl: app.databaseUrl, masterKeys: parseMasterKeys(app.masterKey), ...options });
  afterAll(() => started.worker.stop());
  return started;
}
