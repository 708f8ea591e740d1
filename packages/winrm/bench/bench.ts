// Measures the client against the test server (in a child process): commands/s and latency at
// several concurrencies, HTTP round trips per command, copy throughput with peak RSS, and the same
// trivial command through the npm package winrm-client and through pywinrm (Debian's python3-winrm,
// Ansible's transport), side by side.
// Run: pnpm --filter @opsconductor/winrm bench [--write-docs]   (= node packages/winrm/bench/bench.ts)
// Everything talks to 127.0.0.1 only; see docs/performance.md for what the figures mean.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { globalAgent } from "node:http";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCommand as winrmClientRunCommand } from "winrm-client";
import { WinRMClient } from "../src/index.ts";
import type { WinRMClientOptions, WinRMShell } from "../src/index.ts";
import type { WinRMTestServerStats } from "../src/testing/index.ts";
import { findPython, pywinrmEnv, spawnPywinrm } from "../test/pywinrm.ts";

const here = dirname(fileURLToPath(import.meta.url));
const HOST = "127.0.0.1";
const COPY_MB = Number(process.env.BENCH_COPY_MB ?? 100);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const RUNS = 3;
// Every phase ends by itself; this is the backstop should a client or the server hang.
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 10 * 60_000);
const BLOCK = Buffer.alloc(1024 * 1024, 0x5a);

interface BenchServer {
  port: number;
  stats(): Promise<WinRMTestServerStats>;
  stop(): void;
}

async function startServer(): Promise<BenchServer> {
  const child = spawn(process.execPath, [join(here, "server.ts")], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    const line = await lines.next();
    if (line.done) throw new Error(`the bench server exited (code ${String(child.exitCode)})`);
    return JSON.parse(line.value as string);
  };
  const { port } = (await next()) as { port: number };
  return {
    port,
    async stats() {
      child.stdin.write("stats\n");
      return (await next()) as WinRMTestServerStats;
    },
    stop: () => void child.stdin.end(),
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

/** Our client over NTLM with encryption, one command at a time: a new shell per command, or one shell reused. */
async function oursNtlmLoad(server: BenchServer, shell: "fresh" | "reused"): Promise<Load> {
  const client = new WinRMClient({ host: HOST, port: server.port, transport: "http", auth: "ntlm", username: "bench", password: "bench", maxConnections: 1 });
  // Opened by the warm-up command, so the connection it opens is counted.
  let opened: WinRMShell | undefined;
  try {
    return await load(server, 1, async () => {
      const result = await (shell === "reused" ? (opened ??= await client.openShell()) : client).runCmd("ok");
      if (result.stdout !== "ok\r\n" || result.exitCode !== 0) throw new Error(`unexpected result ${JSON.stringify(result)}`);
    });
  } finally {
    await opened?.close();
    await client.close();
  }
}

/** pywinrm 0.3.0 in a python3 process, the same way: run_cmd (a new shell each), or run_command in one open shell. */
async function pywinrmLoad(server: BenchServer, python: string, env: NodeJS.ProcessEnv, shell: "fresh" | "reused"): Promise<Load> {
  const initial = await server.stats();
  const session = { target: `http://${HOST}:${server.port}/wsman`, auth: ["bench", "bench"], transport: "ntlm", message_encryption: "always" };
  const child = spawnPywinrm(python, env, { session, loop: { mode: shell, command: "ok", std_out: "ok\r\n", seconds: DURATION_MS / 1000 } });
  child.stderr.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new Error(`pywinrm_client.py exited (code ${String(await exited)})`);
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  await next(); // warm: connected, authenticated, one command run
  const before = await server.stats();
  child.stdin.write("\n");
  const { latencies_ms: latencies, elapsed_ms: elapsed } = (await next()) as { latencies_ms: number[]; elapsed_ms: number };
  const after = await server.stats();
  child.stdin.end("\n");
  if ((await exited) !== 0) throw new Error("pywinrm_client.py failed");
  return summarize(latencies, elapsed, initial, before, after);
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

interface CopyFigures {
  mbPerSec: number;
  seconds: number;
  baseRssMb: number;
  peakRssMb: number;
  /** With --probe-live: V8 heap plus external memory (Buffers) right after a full GC, before and at most during the copy. */
  baseLiveMb?: number;
  peakLiveMb?: number;
  sha256: string;
}

async function copy(port: number, megabytes: number, probeLive: boolean): Promise<CopyFigures> {
  const client = new WinRMClient({ host: HOST, port, transport: "http", auth: "ntlm", username: "bench", password: "bench" });
  await client.runCmd("ok");
  const total = megabytes * BLOCK.length;
  let produced = 0;
  const source = new Readable({
    read() {
      if (produced >= total) return void this.push(null);
      produced += BLOCK.length;
      this.push(BLOCK);
    },
  });
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
  const started = performance.now();
  // copyFile rejects unless the SHA-256 the server computed over what it wrote equals the client's.
  const result = await client.copyFile(source, "C:\\bench\\payload.bin", { overwrite: true });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (result.bytes !== total) throw new Error(`copied ${result.bytes} of ${total} bytes`);
  await client.close();
  return {
    mbPerSec: megabytes / seconds,
    seconds,
    baseRssMb: baseRss / 2 ** 20,
    // maxRSS is the high-water mark of this whole (fresh) process, in KiB.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(probeLive ? { baseLiveMb, peakLiveMb } : {}),
    sha256: result.sha256,
  };
}

// Each copy runs in a fresh process, so its peak RSS is the copy's alone.
async function copyInChild(port: number, megabytes: number, probeLive = false): Promise<CopyFigures> {
  const args = [...(probeLive ? ["--expose-gc"] : []), fileURLToPath(import.meta.url), "--copy", String(port), String(megabytes), ...(probeLive ? ["--probe-live"] : [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`copy benchmark exited with ${code}`);
  const figures = JSON.parse(out) as CopyFigures;
  // An independent check of the bytes: the payload is known, so its digest is too.
  const expected = createHash("sha256");
  for (let i = 0; i < megabytes; i++) expected.update(BLOCK);
  if (figures.sha256 !== expected.digest("hex")) throw new Error(`copy of ${megabytes} MB has SHA-256 ${figures.sha256}, expected another`);
  return figures;
}

if (process.argv[2] === "--copy") {
  console.log(JSON.stringify(await copy(Number(process.argv[3]), Number(process.argv[4]), process.argv.includes("--probe-live"))));
  process.exit(0);
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${DEADLINE_MS / 1000} s, giving up`);
  process.exit(1);
}, DEADLINE_MS);
watchdog.unref();

const row = (cells: (string | number)[]): string => `| ${cells.join(" | ")} |`;
const fixed = (value: number, digits: number): string => value.toFixed(digits);

const server = await startServer();
try {
  // 1. Our client: NTLM with message encryption over HTTP, the default Windows listener.
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

  // 2. Side by side with winrm-client: Basic over plain HTTP, which is all it can do without a domain.
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

  // 3. Side by side with pywinrm: NTLM with message encryption over HTTP, as Ansible talks to a default listener.
  const python = await findPython();
  const pyDir = await mkdtemp(join(tmpdir(), "winrm-bench-pywinrm-"));
  const pyEnv = await pywinrmEnv(pyDir);
  const pyConfigs: { label: string; shell: "fresh" | "reused"; run: () => Promise<Load> }[] = [
    { label: "@opsconductor/winrm", shell: "fresh", run: () => oursNtlmLoad(server, "fresh") },
    { label: "pywinrm 0.3.0", shell: "fresh", run: () => pywinrmLoad(server, python, pyEnv, "fresh") },
    { label: "@opsconductor/winrm", shell: "reused", run: () => oursNtlmLoad(server, "reused") },
    { label: "pywinrm 0.3.0", shell: "reused", run: () => pywinrmLoad(server, python, pyEnv, "reused") },
  ];
  const py = await medians(pyConfigs.map((c) => c.run)).finally(() => rm(pyDir, { recursive: true, force: true }));
  const pyRows = py.map((r, i) => {
    const c = pyConfigs[i] as (typeof pyConfigs)[number];
    return row([c.label, c.shell === "fresh" ? "new per command" : "one, reused", r.connections, fixed(r.perSec, 0), fixed(r.p50, 2), fixed(r.p99, 2), fixed(r.requestsPerCommand, 1), r.n]);
  });
  for (const line of pyRows) console.error(line);
  const lead = (i: number): string => fixed((py[i]?.perSec ?? NaN) / (py[i + 1]?.perSec ?? NaN), 2);

  // 4. Round trips, 5. copy.
  const trips = await roundTrips(server.port);
  console.error(`round trips: new shell ${trips.fresh}, reused ${trips.reused}`);
  const sizes = [Math.max(1, Math.round(COPY_MB / 10)), COPY_MB];
  const copies: { mb: number; plain: CopyFigures; probed: CopyFigures }[] = [];
  for (const mb of sizes) copies.push({ mb, plain: await copyInChild(server.port, mb), probed: await copyInChild(server.port, mb, true) });
  for (const c of copies) console.error(`copy ${c.mb} MB: ${fixed(c.plain.mbPerSec, 1)} MB/s, peak RSS ${fixed(c.plain.peakRssMb, 0)} MB, peak live ${fixed(c.probed.peakLiveMb ?? NaN, 0)} MB`);

  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const section = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC with \`pnpm --filter @opsconductor/winrm bench\` on ${cpu}, ` +
      `${availableParallelism()} cores, ${fixed(totalmem() / 2 ** 30, 0)} GiB RAM, Node ${process.version}. The cores were shared with other work ` +
      `(builds and test suites) while this ran. Each row is the median of ${RUNS} runs of ${DURATION_MS / 1000} s, the configurations of a table interleaved.`,
    "",
    "### Commands: NTLM with message encryption over HTTP",
    "",
    "| concurrency | connections | commands/s | p50 ms | p99 ms | commands |",
    "|---|---|---|---|---|---|",
    ...ntlmRows,
    "",
    `HTTP round trips per command: **${trips.fresh}** in a new shell (Create, Command, Receive, Signal, Delete), ` +
      `**${trips.reused}** in a shell reused through \`openShell()\` (Command, Receive, Signal).`,
    "",
    "### Side by side with winrm-client: Basic over plain HTTP",
    "",
    "| client | concurrency | connections opened | commands/s | p50 ms | p99 ms | requests/command | commands |",
    "|---|---|---|---|---|---|---|---|",
    ...compareRows,
    "",
    "### Side by side with pywinrm: NTLM with message encryption over HTTP, one command at a time",
    "",
    "| client | shell | connections opened | commands/s | p50 ms | p99 ms | requests/command | commands |",
    "|---|---|---|---|---|---|---|---|",
    ...pyRows,
    "",
    `Ours / pywinrm in commands/s: **${lead(0)}×** with a new shell per command, **${lead(2)}×** in a reused shell. ` +
      "Requests per command are counted by the server.",
    "",
    "### copyFile",
    "",
    "| size | MB/s | seconds | RSS before | peak RSS | live before | peak live | SHA-256 (server = client = expected) |",
    "|---|---|---|---|---|---|---|---|",
    ...copies.map(({ mb, plain, probed }) =>
      row([
        `${mb} MB`,
        fixed(plain.mbPerSec, 1),
        fixed(plain.seconds, 1),
        `${fixed(plain.baseRssMb, 0)} MB`,
        `${fixed(plain.peakRssMb, 0)} MB`,
        `${fixed(probed.baseLiveMb ?? NaN, 0)} MB`,
        `**${fixed(probed.peakLiveMb ?? NaN, 0)} MB**`,
        `\`${plain.sha256}\``,
      ]),
    ),
  ].join("\n");
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
  server.stop();
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
