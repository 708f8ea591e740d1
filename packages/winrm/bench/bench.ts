// Measures the client against the test server (in a child process): commands/s and latency at
// several concurrencies, HTTP round trips per command, the same trivial command (cmd and
// PowerShell) through the npm package winrm-client and through pywinrm (Debian's python3-winrm,
// Ansible's transport) side by side, and copyFile: the raw-stdin method against the old base64-lines
// method (bench/copy-v1.ts) and against plain HTTP POSTs of the same bytes, then its memory on both
// sides for a large file.
// Run: pnpm --filter @opsconductor/winrm bench [--write-docs]   (= node packages/winrm/bench/bench.ts)
// Everything talks to 127.0.0.1 only; see docs/performance.md for what the figures mean.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http, { globalAgent } from "node:http";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCommand as winrmClientRunCommand } from "winrm-client";
import { WinRMClient } from "../src/index.ts";
import type { WinRMClientOptions, WinRMShell } from "../src/index.ts";
import type { WinRMTestServerStats } from "../src/testing/index.ts";
import { findPython, pywinrmEnv, spawnPywinrm } from "../test/pywinrm.ts";
import { copyFileV1 } from "./copy-v1.ts";

const here = dirname(fileURLToPath(import.meta.url));
const HOST = "127.0.0.1";
const COPY_MB = Number(process.env.BENCH_COPY_MB ?? 100);
const MEMORY_MB = Number(process.env.BENCH_MEMORY_MB ?? 1024);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const RUNS = 3;
// The side-by-side tables with pywinrm: rounds of one batch per client.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const COPY_RUNS = Number(process.env.BENCH_COPY_RUNS ?? 5);
const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 1500);
// Every phase ends by itself; this is the backstop should a client or the server hang.
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 30 * 60_000);
const BLOCK = Buffer.alloc(1024 * 1024, 0x5a);
// The client's default 500 KB MaxEnvelopeSize: what one Send carries (client.ts, Operations.sendChunkBytes)
// and, of that, the file bytes of one copy frame (copy.ts: less the length, end frame and digest).
const SEND_STDIN_BYTES = Math.floor(((500 * 1024 - 8192) * 3) / 4 / 3) * 3;
const FRAME_FILE_BYTES = SEND_STDIN_BYTES - 40;

interface ServerMemory {
  rssMb: number;
  peakRssMb: number;
  /** CPU time (user + system) the process has used. */
  cpuMs: number;
  baseLiveMb?: number;
  peakLiveMb?: number;
}

interface BenchServer {
  port: number;
  /** The plain HTTP sink in the same process. */
  sinkPort: number;
  stats(): Promise<WinRMTestServerStats>;
  memory(): Promise<ServerMemory>;
  stop(): Promise<void>;
}

/** Starts bench/server.ts; probeLive adds --expose-gc and live-memory sampling. */
async function startServer(probeLive = false): Promise<BenchServer> {
  const args = probeLive ? ["--expose-gc", join(here, "server.ts"), "--probe-live"] : [join(here, "server.ts")];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    const line = await lines.next();
    if (line.done) throw new Error(`the bench server exited (code ${String(child.exitCode)})`);
    return JSON.parse(line.value as string);
  };
  const { port, sinkPort } = (await next()) as { port: number; sinkPort: number };
  return {
    port,
    sinkPort,
    async stats() {
      child.stdin.write("stats\n");
      return (await next()) as WinRMTestServerStats;
    },
    async memory() {
      child.stdin.write("memory\n");
      return (await next()) as ServerMemory;
    },
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Load {
  perSec: number;
  p50: number;
  p99: number;
  n: number;
  /** HTTP requests the server received per command started, warm-up excluded. */
  requestsPerCommand: number;
  /** TCP connections the client opened, warm-up included. */
  connections: number;
}

/** Runs `command` in `concurrency` loops for DURATION_MS, after one warm-up call that connects and authenticates. */
async function load(server: BenchServer, concurrency: number, command: () => Promise<void>): Promise<Load> {
  const initial = await server.stats();
  await command();
  const before = await server.stats();
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + DURATION_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await command();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const after = await server.stats();
  return summarize(latencies, elapsed, initial, before, after);
}

/** Our client, one command per fresh shell (runCmd), as the worker uses it. */
async function oursLoad(server: BenchServer, concurrency: number, options: Partial<WinRMClientOptions>): Promise<Load> {
  const client = new WinRMClient({ host: HOST, port: server.port, transport: "http", username: "bench", password: "bench", ...options });
  try {
    return await load(server, concurrency, async () => {
      const result = await client.runCmd("ok");
      if (result.stdout !== "ok\r\n" || result.exitCode !== 0) throw new Error(`unexpected result ${JSON.stringify(result)}`);
    });
  } finally {
    await client.close();
  }
}

/** winrm-client 0.0.11: Basic for a user name without a domain, one shell per command, http.globalAgent. */
async function winrmClientLoad(server: BenchServer, concurrency: number): Promise<Load> {
  try {
    return await load(server, concurrency, async () => {
      const output = await winrmClientRunCommand("ok", HOST, "bench", "bench", server.port);
      if (output !== "ok") throw new Error(`unexpected output ${JSON.stringify(output)}`);
    });
  } finally {
    globalAgent.destroy(); // close its keep-alive sockets so each run counts its own connections
  }
}

// The PowerShell both clients run: the test server's default handler prints "ok".
const PS_SCRIPT = "'ok'";

/** One client kept warm (connected, authenticated, its shell open when reused) that runs timed batches on request. */
interface Side {
  /** Runs the command back to back for BATCH_MS; the server's counters are read around exactly those commands. */
  batch(): Promise<Batch>;
  close(): Promise<void>;
}

interface Batch {
  latencies: number[];
  elapsed: number;
  /** CPU time of the client process and of the server process during the batch. */
  clientCpuMs: number;
  serverCpuMs: number;
  requests: number;
  commands: number;
  /** TCP connections the server saw opened during this batch (the other side is idle meanwhile). */
  connections: number;
}

async function serverBatch(server: BenchServer, run: () => Promise<{ latencies: number[]; elapsed: number; cpuMs: number }>): Promise<Batch> {
  const before = await server.stats();
  const cpuBefore = (await server.memory()).cpuMs;
  const { latencies, elapsed, cpuMs } = await run();
  const cpuAfter = (await server.memory()).cpuMs;
  const after = await server.stats();
  return {
    latencies,
    elapsed,
    clientCpuMs: cpuMs,
    serverCpuMs: cpuAfter - cpuBefore,
    requests: after.requests - before.requests,
    commands: after.commandsStarted - before.commandsStarted,
    connections: after.connections - before.connections,
  };
}

/** Our client over NTLM with encryption, one command at a time (runCmd or runPowerShell): a new shell per command, or one shell reused. */
async function oursNtlmSide(server: BenchServer, kind: "cmd" | "ps", shell: "fresh" | "reused"): Promise<Side & { warmConnections: number }> {
  const client = new WinRMClient({ host: HOST, port: server.port, transport: "http", auth: "ntlm", username: "bench", password: "bench", maxConnections: 1 });
  let opened: WinRMShell | undefined;
  const once = async (): Promise<void> => {
    const target = shell === "reused" ? (opened ??= await client.openShell()) : client;
    const result = kind === "cmd" ? await target.runCmd("ok") : await target.runPowerShell(PS_SCRIPT);
    if (result.stdout !== "ok\r\n" || result.exitCode !== 0) throw new Error(`unexpected result ${JSON.stringify(result)}`);
  };
  const initial = await server.stats();
  await once();
  const warmConnections = (await server.stats()).connections - initial.connections;
  return {
    warmConnections,
    batch: () =>
      serverBatch(server, async () => {
        const latencies: number[] = [];
        const cpu = process.cpuUsage();
        const started = performance.now();
        const end = started + BATCH_MS;
        while (performance.now() < end) {
          const t = performance.now();
          await once();
          latencies.push(performance.now() - t);
        }
        const elapsed = performance.now() - started;
        const used = process.cpuUsage(cpu);
        return { latencies, elapsed, cpuMs: (used.user + used.system) / 1000 };
      }),
    close: async () => {
      await opened?.close();
      await client.close();
    },
  };
}

/**
 * pywinrm 0.3.0 in a python3 process, the same way: run_cmd or run_ps (a new shell each), or
 * run_command in one open shell (for PowerShell with the command line run_ps builds).
 */
async function pywinrmSide(server: BenchServer, python: string, env: NodeJS.ProcessEnv, kind: "cmd" | "ps", shell: "fresh" | "reused"): Promise<Side & { warmConnections: number }> {
  const session = { target: `http://${HOST}:${server.port}/wsman`, auth: ["bench", "bench"], transport: "ntlm", message_encryption: "always" };
  const what = kind === "cmd" ? { command: "ok" } : { script: PS_SCRIPT };
  const initial = await server.stats();
  const child = spawnPywinrm(python, env, { session, loop: { mode: shell, ...what, std_out: "ok\r\n", seconds: BATCH_MS / 1000, batches: ROUNDS } });
  child.stderr.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error(`pywinrm_client.py exited (code ${String(await exited)})`);
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  await next(); // warm: connected, authenticated, one command run
  const warmConnections = (await server.stats()).connections - initial.connections;
  return {
    warmConnections,
    batch: () =>
      serverBatch(server, async () => {
        child.stdin.write("\n");
        const { latencies_ms: latencies, elapsed_ms: elapsed, cpu_ms: cpuMs } = (await next()) as { latencies_ms: number[]; elapsed_ms: number; cpu_ms: number };
        return { latencies, elapsed, cpuMs };
      }),
    close: async () => {
      child.stdin.end("\n");
      if ((await exited) !== 0) throw new Error("pywinrm_client.py failed");
    },
  };
}

interface PairedRow {
  perSec: number;
  /** CPU time per command of the client process and of the server process, over all batches. */
  clientCpuMs: number;
  serverCpuMs: number;
  p50: number;
  p99: number;
  n: number;
  requestsPerCommand: number;
  connections: number;
}

/**
 * Both clients warm at once, then ROUNDS rounds of one batch each, alternating which goes first
 * (A B, B A, ...), so that load from elsewhere hits both alike; the ratio is the median of the
 * rounds' ratios, each taken between two batches seconds apart.
 */
async function paired(first: () => Promise<Side & { warmConnections: number }>, second: () => Promise<Side & { warmConnections: number }>): Promise<{ rows: [PairedRow, PairedRow]; ratio: number; ratios: number[] }> {
  const sides = [await first(), await second()] as const;
  const batches: [Batch[], Batch[]] = [[], []];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const index of round % 2 === 0 ? [0, 1] : [1, 0]) batches[index]?.push(await (sides[index] as Side).batch());
    }
  } finally {
    for (const side of sides) await side.close();
  }
  const rate = (b: Batch): number => (b.latencies.length / b.elapsed) * 1000;
  const mid = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? NaN;
  const row = (list: Batch[], warmConnections: number): PairedRow => {
    const all = list.flatMap((b) => b.latencies).sort((x, y) => x - y);
    const commands = list.reduce((t, b) => t + b.latencies.length, 0);
    return {
      perSec: mid(list.map(rate)),
      clientCpuMs: list.reduce((t, b) => t + b.clientCpuMs, 0) / commands,
      serverCpuMs: list.reduce((t, b) => t + b.serverCpuMs, 0) / commands,
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      n: all.length,
      requestsPerCommand: list.reduce((t, b) => t + b.requests, 0) / list.reduce((t, b) => t + b.commands, 0),
      connections: warmConnections + list.reduce((t, b) => t + b.connections, 0),
    };
  };
  const ratios = batches[0].map((b, i) => rate(b) / rate(batches[1][i] as Batch));
  return { rows: [row(batches[0], sides[0].warmConnections), row(batches[1], sides[1].warmConnections)], ratio: mid(ratios), ratios };
}

const median = (runs: Load[]): Load => runs.sort((a, b) => a.perSec - b.perSec)[Math.floor(runs.length / 2)] as Load;

/** Runs each configuration RUNS times, interleaved so drift on the shared machine hits all alike; keeps each one's median. */
async function medians(configs: (() => Promise<Load>)[]): Promise<Load[]> {
  const runs: Load[][] = configs.map(() => []);
  for (let i = 0; i < RUNS; i++) for (const [index, config] of configs.entries()) runs[index]?.push(await config());
  return runs.map(median);
}

async function roundTrips(port: number): Promise<{ fresh: number; reused: number }> {
  const client = new WinRMClient({ host: HOST, port, transport: "http", auth: "ntlm", username: "bench", password: "bench" });
  await client.runCmd("ok");
  const n = 20;
  let before = client.stats.requests;
  for (let i = 0; i < n; i++) await client.runCmd("ok");
  const fresh = (client.stats.requests - before) / n;
  const shell = await client.openShell();
  before = client.stats.requests;
  for (let i = 0; i < n; i++) await shell.runCmd("ok");
  const reused = (client.stats.requests - before) / n;
  await shell.close();
  await client.close();
  return { fresh, reused };
}

type CopyMethod = "new" | "old" | "raw-stream" | "raw-sends";

interface CopyFigures {
  mbPerSec: number;
  seconds: number;
  baseRssMb: number;
  peakRssMb: number;
  /** With --probe-live: V8 heap plus external memory (Buffers) right after a full GC, before and at most during the copy. */
  baseLiveMb?: number;
  peakLiveMb?: number;
  /** HTTP requests of the copy itself. */
  requests: number;
  /** CPU time per MB of this (client) process during the copy, and of the server process (filled in by copyInChild). */
  clientCpuMsPerMb: number;
  serverCpuMsPerMb?: number;
  /** Copies only: the digest both sides agreed on. */
  sha256?: string;
}

function payload(megabytes: number): Readable {
  let produced = 0;
  return new Readable({
    read() {
      if (produced++ >= megabytes) return void this.push(null);
      this.push(BLOCK);
    },
  });
}

function post(agent: http.Agent, port: number, body: Buffer | Readable, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: HOST, port, path: "/sink", method: "POST", headers: { "Content-Length": String(length), "Content-Type": "application/octet-stream" } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`sink answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** One copy (or raw transfer) of `megabytes` MiB, timed, with this process's memory. */
async function copy(method: CopyMethod, port: number, sinkPort: number, megabytes: number, probeLive: boolean): Promise<CopyFigures> {
  const client = new WinRMClient({ host: HOST, port, transport: "http", auth: "ntlm", username: "bench", password: "bench" });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const total = megabytes * BLOCK.length;
  // Connected (and authenticated) before the clock starts.
  if (method === "new" || method === "old") await client.runCmd("ok");
  else await post(agent, sinkPort, Buffer.alloc(0), 0);
  // Peak RSS counts garbage V8 has not collected yet; a full GC before each sample leaves what the copy really holds.
  const gc = (globalThis as { gc?: () => void }).gc;
  const live = (): number => {
    gc?.();
    const usage = process.memoryUsage();
    return (usage.heapUsed + usage.external) / 2 ** 20;
  };
  const baseLiveMb = probeLive ? live() : undefined;
  let peakLiveMb = baseLiveMb ?? 0;
  const sampler = probeLive ? setInterval(() => (peakLiveMb = Math.max(peakLiveMb, live())), 100) : undefined;
  const baseRss = process.memoryUsage.rss();
  const requestsBefore = client.stats.requests;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let sha256: string | undefined;
  let requests = 0;
  if (method === "new") {
    // copyFile rejects unless the SHA-256 the server computed over what it wrote equals the client's.
    const result = await client.copyFile(payload(megabytes), "C:\\bench\\payload.bin", { overwrite: true });
    if (result.bytes !== total) throw new Error(`copied ${result.bytes} of ${total} bytes`);
    sha256 = result.sha256;
    requests = client.stats.requests - requestsBefore;
  } else if (method === "old") {
    const result = await copyFileV1(client, payload(megabytes), "C:\\bench\\payload.bin", SEND_STDIN_BYTES);
    if (result.bytes !== total) throw new Error(`copied ${result.bytes} of ${total} bytes`);
    sha256 = result.sha256;
    requests = client.stats.requests - requestsBefore;
  } else if (method === "raw-stream") {
    await post(agent, sinkPort, payload(megabytes), total);
    requests = 1;
  } else {
    const piece = Buffer.alloc(FRAME_FILE_BYTES, 0x5a);
    for (let sent = 0; sent < total; sent += piece.length, requests++) {
      const body = piece.subarray(0, Math.min(piece.length, total - sent));
      await post(agent, sinkPort, body, body.length);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  agent.destroy();
  await client.close();
  return {
    mbPerSec: megabytes / seconds,
    seconds,
    baseRssMb: baseRss / 2 ** 20,
    // maxRSS is the high-water mark of this whole (fresh) process, in KiB.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(probeLive ? { baseLiveMb, peakLiveMb } : {}),
    requests,
    clientCpuMsPerMb: (cpu.user + cpu.system) / 1000 / megabytes,
    ...(sha256 ? { sha256 } : {}),
  };
}

// Each copy runs in a fresh process, so its peak RSS is the copy's alone.
async function copyInChild(server: BenchServer, method: CopyMethod, megabytes: number, probeLive = false): Promise<CopyFigures> {
  const args = [...(probeLive ? ["--expose-gc"] : []), fileURLToPath(import.meta.url), "--copy", method, String(server.port), String(server.sinkPort), String(megabytes), ...(probeLive ? ["--probe-live"] : [])];
  const serverBefore = await server.memory();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`copy benchmark (${method}) exited with ${code}`);
  const figures = JSON.parse(out) as CopyFigures;
  // The server also answered the child's warm-up, a few milliseconds against seconds of copying.
  figures.serverCpuMsPerMb = ((await server.memory()).cpuMs - serverBefore.cpuMs) / megabytes;
  if (method === "new" || method === "old") {
    // An independent check of the bytes: the payload is known, so its digest is too.
    const expected = createHash("sha256");
    for (let i = 0; i < megabytes; i++) expected.update(BLOCK);
    if (figures.sha256 !== expected.digest("hex")) throw new Error(`copy (${method}) of ${megabytes} MB has SHA-256 ${figures.sha256}, expected another`);
  }
  return figures;
}

if (process.argv[2] === "--copy") {
  const [method, port, sinkPort, megabytes] = process.argv.slice(3);
  console.log(JSON.stringify(await copy(method as CopyMethod, Number(port), Number(sinkPort), Number(megabytes), process.argv.includes("--probe-live"))));
  process.exit(0);
}

/** A copy of `megabytes` against a fresh server, so that the server's peak memory is this copy's too. */
async function copyMemory(megabytes: number, probeLive: boolean): Promise<{ client: CopyFigures; server: ServerMemory; serverBefore: ServerMemory }> {
  const fresh = await startServer(probeLive);
  try {
    const serverBefore = await fresh.memory();
    const client = await copyInChild(fresh, "new", megabytes, probeLive);
    return { client, server: await fresh.memory(), serverBefore };
  } finally {
    await fresh.stop();
  }
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${DEADLINE_MS / 1000} s, giving up`);
  process.exit(1);
}, DEADLINE_MS);
watchdog.unref();

const row = (cells: (string | number)[]): string => `| ${cells.join(" | ")} |`;
const fixed = (value: number, digits: number): string => value.toFixed(digits);

const SECTIONS = ["commands", "winrm-client", "pywinrm", "copy", "memory"] as const;
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
const unknown = only?.filter((name) => !(SECTIONS as readonly string[]).includes(name)) ?? [];
if (unknown.length > 0) throw new Error(`BENCH_ONLY names ${unknown.join(", ")}; the sections are ${SECTIONS.join(", ")}`);
if (only && process.argv.includes("--write-docs")) throw new Error("--write-docs replaces every table, so it cannot be combined with BENCH_ONLY");
const wanted = (section: (typeof SECTIONS)[number]): boolean => !only || only.includes(section);

const server = await startServer();
const parts: string[] = [];
try {
  // 1. Our client: NTLM with message encryption over HTTP, the default Windows listener.
  if (wanted("commands")) {
    const ntlmConfigs: { concurrency: number; connections: number }[] = [];
    for (const concurrency of [1, 10, 100]) {
      for (const connections of concurrency === 1 ? [1] : [1, Math.min(concurrency, 10)]) ntlmConfigs.push({ concurrency, connections });
    }
    const ntlm = await medians(ntlmConfigs.map((c) => () => oursLoad(server, c.concurrency, { auth: "ntlm", maxConnections: c.connections })));
    const ntlmRows = ntlm.map((r, i) => {
      const c = ntlmConfigs[i] as (typeof ntlmConfigs)[number];
      return row([c.concurrency, c.connections, fixed(r.perSec, 0), fixed(r.p50, 1), fixed(r.p99, 1), r.n]);
    });
    for (const line of ntlmRows) console.error(line);
    const trips = await roundTrips(server.port);
    console.error(`round trips: new shell ${trips.fresh}, reused ${trips.reused}`);
    parts.push(
      "### Commands: NTLM with message encryption over HTTP",
      "",
      "| concurrency | connections | commands/s | p50 ms | p99 ms | commands |",
      "|---|---|---|---|---|---|",
      ...ntlmRows,
      "",
      `HTTP round trips per command: **${trips.fresh}** in a new shell (Create, Command, Receive, Signal, Delete), ` +
        `**${trips.reused}** in a shell reused through \`openShell()\` (Command, Receive, Signal).`,
      "",
    );
  }

  // 2. Side by side with winrm-client: Basic over plain HTTP, which is all it can do without a domain.
  if (wanted("winrm-client")) {
    const basicOptions = { auth: "basic", allowUnencrypted: true } as const;
    const compareConfigs: { label: string; concurrency: number; run: () => Promise<Load> }[] = [
      { label: "@opsconductor/winrm", concurrency: 1, run: () => oursLoad(server, 1, { ...basicOptions, maxConnections: 1 }) },
      { label: "winrm-client 0.0.11", concurrency: 1, run: () => winrmClientLoad(server, 1) },
      { label: "@opsconductor/winrm", concurrency: 10, run: () => oursLoad(server, 10, { ...basicOptions, maxConnections: 1 }) },
      { label: "@opsconductor/winrm", concurrency: 10, run: () => oursLoad(server, 10, { ...basicOptions, maxConnections: 10 }) },
      { label: "winrm-client 0.0.11", concurrency: 10, run: () => winrmClientLoad(server, 10) },
    ];
    const compared = await medians(compareConfigs.map((c) => c.run));
    const compareRows = compared.map((r, i) => {
      const c = compareConfigs[i] as (typeof compareConfigs)[number];
      return row([c.label, c.concurrency, r.connections, fixed(r.perSec, 0), fixed(r.p50, 1), fixed(r.p99, 1), fixed(r.requestsPerCommand, 1), r.n]);
    });
    for (const line of compareRows) console.error(line);
    parts.push(
      "### Side by side with winrm-client: Basic over plain HTTP",
      "",
      "| client | concurrency | connections opened | commands/s | p50 ms | p99 ms | requests/command | commands |",
      "|---|---|---|---|---|---|---|---|",
      ...compareRows,
      "",
    );
  }

  // 3. Side by side with pywinrm: NTLM with message encryption over HTTP, as Ansible talks to a default listener.
  if (wanted("pywinrm")) {
    const python = await findPython();
    const pyDir = await mkdtemp(join(tmpdir(), "winrm-bench-pywinrm-"));
    const pyEnv = await pywinrmEnv(pyDir);
    const table = async (kind: "cmd" | "ps"): Promise<{ rows: string[]; lead: (shell: "fresh" | "reused") => string; loads: string }> => {
      const rows: string[] = [];
      const leads: Record<string, { ratio: number; ratios: number[]; rows: [PairedRow, PairedRow] }> = {};
      const loads: number[] = [loadavg()[0] ?? NaN];
      for (const shell of ["fresh", "reused"] as const) {
        const result = await paired(() => oursNtlmSide(server, kind, shell), () => pywinrmSide(server, python, pyEnv, kind, shell));
        loads.push(loadavg()[0] ?? NaN);
        leads[shell] = result;
        for (const [i, label] of ["@opsconductor/winrm", "pywinrm 0.3.0"].entries()) {
          const r = result.rows[i] as PairedRow;
          rows.push(
            row([label, shell === "fresh" ? "new per command" : "one, reused", r.connections, fixed(r.perSec, 0), fixed(r.p50, 2), fixed(r.p99, 2), fixed(r.clientCpuMs, 2), fixed(r.serverCpuMs, 2), fixed(r.requestsPerCommand, 1), r.n]),
          );
        }
        console.error(`${kind} ${shell}: ours / pywinrm per round ${result.ratios.map((x) => fixed(x, 2)).join(", ")}`);
      }
      for (const line of rows) console.error(line);
      const lead = (shell: "fresh" | "reused"): string => {
        const { ratio, ratios, rows: pair } = leads[shell] as { ratio: number; ratios: number[]; rows: [PairedRow, PairedRow] };
        const cpu = (r: PairedRow): number => r.clientCpuMs + r.serverCpuMs;
        return `**${fixed(ratio, 2)}×** (rounds ${fixed(Math.min(...ratios), 2)}–${fixed(Math.max(...ratios), 2)}×; ${fixed(cpu(pair[1]) / cpu(pair[0]), 2)}× less CPU per command, both processes)`;
      };
      return { rows, lead, loads: `${fixed(Math.min(...loads), 1)}–${fixed(Math.max(...loads), 1)}` };
    };
    try {
      const cmd = await table("cmd");
      const ps = await table("ps");
      const header = [
        "| client | shell | connections opened | commands/s | p50 ms | p99 ms | client CPU ms/command | server CPU ms/command | requests/command | commands |",
        "|---|---|---|---|---|---|---|---|---|---|",
      ];
      parts.push(
        "### Side by side with pywinrm: NTLM with message encryption over HTTP, one command at a time",
        "",
        `Both clients are kept warm side by side and run ${ROUNDS} rounds of one ${BATCH_MS / 1000} s batch each, alternating which goes first; ` +
          "commands/s is the median of a client's batches, p50 and p99 are over all its commands, the CPU columns are the client process's and the " +
          "server process's CPU time per command over all its batches (steadier than commands/s on a loaded machine), and the lead is the median of " +
          "the rounds' ratios (each between two batches a few seconds apart, so load from elsewhere hits both alike), with the lowest and highest round.",
        "",
        "cmd: our `runCmd(\"ok\")`; pywinrm's `run_cmd`, and `run_command` in an open shell.",
        "",
        ...header,
        ...cmd.rows,
        "",
        `Ours / pywinrm in commands/s: ${cmd.lead("fresh")} with a new shell per command, ${cmd.lead("reused")} in a reused shell. Load average (1 min) while it ran: ${cmd.loads}.`,
        "",
        `PowerShell: our \`runPowerShell(${JSON.stringify(PS_SCRIPT)})\` (the stdin bootstrap: the script travels in a Send); pywinrm's ` +
          "`run_ps`, which opens a shell per call, and in an open shell `run_command` with the command line `run_ps` builds " +
          "(`powershell -encodedcommand <script>`).",
        "",
        ...header,
        ...ps.rows,
        "",
        `Ours / pywinrm in commands/s: ${ps.lead("fresh")} with a new shell per command, ${ps.lead("reused")} in a reused shell. ` +
          `Load average (1 min) while it ran: ${ps.loads}. Requests per command are counted by the server.`,
        "",
      );
    } finally {
      await rm(pyDir, { recursive: true, force: true });
    }
  }

  // 4. copyFile: old and new method and plain HTTP, interleaved.
  if (wanted("copy")) {
    const methods: { method: CopyMethod; label: string }[] = [
      { method: "old", label: "copyFile before (base64 lines inside stdin: base64 twice)" },
      { method: "new", label: "copyFile now (raw bytes on stdin: base64 once, inside Send)" },
      { method: "raw-sends", label: `plain HTTP POSTs of ${FRAME_FILE_BYTES.toLocaleString("en")} B (one frame's file bytes), one at a time` },
      { method: "raw-stream", label: "plain HTTP, one streamed POST" },
    ];
    const runs: CopyFigures[][] = methods.map(() => []);
    const loads: number[] = [loadavg()[0] ?? NaN];
    for (let i = 0; i < COPY_RUNS; i++) {
      // Old and new next to each other, in turns first, so that each round's ratio compares like with like.
      const order = i % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
      for (const index of order) {
        const { method } = methods[index] as (typeof methods)[number];
        const figures = await copyInChild(server, method, COPY_MB);
        console.error(`copy ${method} ${COPY_MB} MB: ${fixed(figures.mbPerSec, 1)} MB/s (load ${fixed(loadavg()[0] ?? NaN, 1)})`);
        runs[index]?.push(figures);
      }
      loads.push(loadavg()[0] ?? NaN);
    }
    const roundRatios = (runs[1] ?? []).map((r, i) => r.mbPerSec / ((runs[0] ?? [])[i]?.mbPerSec ?? NaN));
    const roundRatio = [...roundRatios].sort((a, b) => a - b)[Math.floor(roundRatios.length / 2)] ?? NaN;
    const med = runs.map((r) => [...r].sort((a, b) => a.mbPerSec - b.mbPerSec)[Math.floor(r.length / 2)] as CopyFigures);
    const [old, now, rawSends, rawStream] = med as [CopyFigures, CopyFigures, CopyFigures, CopyFigures];
    parts.push(
      `### copyFile: before and now, and plain HTTP of the same ${COPY_MB} MB`,
      "",
      `A stream of ${COPY_MB} MB (1 MiB blocks; "MB" here is 2^20 bytes) over NTLM with message encryption to \`C:\\bench\\payload.bin\`, which the server ` +
        "writes to a file on disk; the plain HTTP rows POST the same number of bytes over one keep-alive connection to a sink in the same server " +
        `process that reads and discards them. Each row is the median of ${COPY_RUNS} runs, the four interleaved (old and new next to each other, ` +
        `in turns first), each in a fresh client process. Load average (1 min) while it ran: ${fixed(Math.min(...loads), 1)}–${fixed(Math.max(...loads), 1)}.`,
      "",
      "| method | MB/s | seconds | HTTP requests | client CPU ms/MB | server CPU ms/MB | client peak RSS | SHA-256 (server = client = expected) |",
      "|---|---|---|---|---|---|---|---|",
      ...methods.map(({ label }, i) => {
        const r = med[i] as CopyFigures;
        const sha = r.sha256 ? `\`${r.sha256.slice(0, 16)}…\`` : "—";
        return row([label, fixed(r.mbPerSec, 1), fixed(r.seconds, 1), r.requests, fixed(r.clientCpuMsPerMb, 1), fixed(r.serverCpuMsPerMb ?? NaN, 1), `${fixed(r.peakRssMb, 0)} MB`, sha]);
      }),
      "",
      `Now / before: **${fixed(now.mbPerSec / old.mbPerSec, 2)}×** in MB/s (the medians; round by round ${roundRatios.map((x) => `${fixed(x, 2)}×`).join(", ")}, ` +
        `median **${fixed(roundRatio, 2)}×**), **${fixed(old.clientCpuMsPerMb / now.clientCpuMsPerMb, 2)}×** in the client's CPU per MB, ` +
        `**${fixed((old.clientCpuMsPerMb + (old.serverCpuMsPerMb ?? NaN)) / (now.clientCpuMsPerMb + (now.serverCpuMsPerMb ?? NaN)), 2)}×** in both processes' CPU per MB. Copy reaches **${fixed((100 * now.mbPerSec) / rawSends.mbPerSec, 0)}%** of plain HTTP ` +
        `in POSTs of one frame's size and **${fixed((100 * now.mbPerSec) / rawStream.mbPerSec, 0)}%** of one streamed POST (the line rate here).`,
      "",
    );
  }

  // 5. Memory of a copy on both sides, a fresh server each time.
  if (wanted("memory")) {
    const rows: string[] = [];
    for (const mb of [COPY_MB, MEMORY_MB]) {
      const plain = await copyMemory(mb, false);
      const probed = await copyMemory(mb, true);
      console.error(`memory ${mb} MB: ${fixed(plain.client.mbPerSec, 1)} MB/s; client peak RSS ${fixed(plain.client.peakRssMb, 0)}, live ${fixed(probed.client.peakLiveMb ?? NaN, 0)}; server peak RSS ${fixed(plain.server.peakRssMb, 0)}, live ${fixed(probed.server.peakLiveMb ?? NaN, 0)}`);
      rows.push(
        row([
          mb >= 1024 ? `${fixed(mb / 1024, mb % 1024 ? 1 : 0)} GiB` : `${mb} MB`,
          fixed(plain.client.mbPerSec, 1),
          `${fixed(plain.client.baseRssMb, 0)} → ${fixed(plain.client.peakRssMb, 0)} MB`,
          `${fixed(probed.client.baseLiveMb ?? NaN, 0)} → **${fixed(probed.client.peakLiveMb ?? NaN, 0)} MB**`,
          `${fixed(plain.serverBefore.rssMb, 0)} → ${fixed(plain.server.peakRssMb, 0)} MB`,
          `${fixed(probed.server.baseLiveMb ?? NaN, 0)} → **${fixed(probed.server.peakLiveMb ?? NaN, 0)} MB**`,
          `\`${(plain.client.sha256 ?? "").slice(0, 16)}…\``,
        ]),
      );
    }
    parts.push(
      "### copyFile: memory on both sides",
      "",
      "The new method, each size once against a fresh server process (whose copy streams to a file on disk) and twice: once for " +
        "throughput and peak RSS, once with a full GC every 100 ms in both processes for live memory (V8 heap + external memory, " +
        "which holds Buffers). Figures are before → peak.",
      "",
      "| size | MB/s | client RSS | client live | server RSS | server live | SHA-256 (server = client = expected) |",
      "|---|---|---|---|---|---|---|",
      ...rows,
      "",
    );
  }

  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const section = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC with \`pnpm --filter @opsconductor/winrm bench\` on ${cpu}, ` +
      `${availableParallelism()} cores, ${fixed(totalmem() / 2 ** 30, 0)} GiB RAM, Node ${process.version}. The cores were shared with other work ` +
      `(builds and test suites) while this ran. In the first two tables each row is the median of ${RUNS} runs of ${DURATION_MS / 1000} s, the configurations ` +
      "of a table interleaved; the pywinrm and copy tables say how they ran, with the load average at the time.",
    "",
    ...parts,
  ]
    .join("\n")
    .trimEnd();
  console.log(section);
  if (process.argv.includes("--write-docs")) {
    const docPath = join(here, "..", "..", "..", "docs", "performance.md");
    const doc = await readFile(docPath, "utf8");
    const start = "<!-- bench:start -->";
    const end = "<!-- bench:end -->";
    if (!doc.includes(start) || !doc.includes(end)) throw new Error(`${docPath} has no ${start} … ${end} block to replace`);
    await writeFile(docPath, doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), () => `${start}\n${section}\n${end}`));
    console.error(`wrote ${docPath}`);
  }
} finally {
  await server.stop();
}

// Throughput, latency percentiles and the server's counts over the timed commands of one side.
function summarize(latencies: number[], elapsed: number, initial: WinRMTestServerStats, before: WinRMTestServerStats, after: WinRMTestServerStats) {
  latencies.sort((a, b) => a - b);
  return {
    perSec: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    n: latencies.length,
    requestsPerCommand: (after.requests - before.requests) / (after.commandsStarted - before.commandsStarted),
    connections: after.connections - initial.connections,
  };
}
