// Measures the client against the test server (in a child process): commands/s and latency at
// several concurrencies, HTTP round trips per command, and copy throughput with peak RSS.
// Run: node packages/winrm/bench/bench.ts [--write-readme]
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { WinRMClient } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const COPY_MB = Number(process.env.BENCH_COPY_MB ?? 100);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);

async function startServer(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(here, "server.ts")], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (line: Buffer) => resolve(JSON.parse(line.toString()).port as number));
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { port, stop: () => child.stdin.end() };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function throughput(port: number, concurrency: number, maxConnections: number): Promise<{ perSec: number; p50: number; p99: number; n: number }> {
  const client = new WinRMClient({ host: "127.0.0.1", port, transport: "http", auth: "ntlm", username: "bench", password: "bench", maxConnections });
  await client.runCmd("ok"); // connect and authenticate outside the measurement
  const latencies: number[] = [];
  const end = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const result = await client.runCmd("ok");
        if (result.stdout !== "ok\r\n") throw new Error(`unexpected output ${JSON.stringify(result)}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await client.close();
  latencies.sort((a, b) => a - b);
  return { perSec: (latencies.length / elapsed) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length };
}

async function roundTrips(port: number): Promise<{ fresh: number; reused: number }> {
  const client = new WinRMClient({ host: "127.0.0.1", port, transport: "http", auth: "ntlm", username: "bench", password: "bench" });
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

async function copy(port: number, megabytes: number): Promise<{ mbPerSec: number; seconds: number; baseRssMb: number; peakRssMb: number }> {
  const client = new WinRMClient({ host: "127.0.0.1", port, transport: "http", auth: "ntlm", username: "bench", password: "bench" });
  await client.runCmd("ok");
  const total = megabytes * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024, 0x5a);
  let produced = 0;
  const source = new Readable({
    read() {
      if (produced >= total) return void this.push(null);
      produced += block.length;
      this.push(block);
    },
  });
  const baseRss = process.memoryUsage.rss();
  const started = performance.now();
  const result = await client.copyFile(source, "C:\\bench\\payload.bin", { overwrite: true });
  const seconds = (performance.now() - started) / 1000;
  if (result.bytes !== total) throw new Error(`copied ${result.bytes} of ${total} bytes`);
  await client.close();
  // maxRSS is the high-water mark of this whole (fresh) process, in KiB.
  return { mbPerSec: megabytes / seconds, seconds, baseRssMb: baseRss / 2 ** 20, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

// Each copy runs in a fresh process, so its peak RSS is the copy's alone.
async function copyInChild(port: number, megabytes: number): Promise<Awaited<ReturnType<typeof copy>>> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--copy", String(port), String(megabytes)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`copy benchmark exited with ${code}`);
  return JSON.parse(out);
}

if (process.argv[2] === "--copy") {
  console.log(JSON.stringify(await copy(Number(process.argv[3]), Number(process.argv[4]))));
  process.exit(0);
}

const server = await startServer();
try {
  const rows: string[] = [];
  for (const concurrency of [1, 10, 100]) {
    for (const connections of concurrency === 1 ? [1] : [1, Math.min(concurrency, 10)]) {
      // Median of three runs: the machines this runs on are shared, and single runs swing widely.
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await throughput(server.port, concurrency, connections));
      const r = runs.sort((a, b) => a.perSec - b.perSec)[1] as (typeof runs)[number];
      rows.push(`| ${concurrency} | ${connections} | ${r.perSec.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.n} |`);
      console.error(rows.at(-1));
    }
  }
  const trips = await roundTrips(server.port);
  console.error(`round trips: new shell ${trips.fresh}, reused ${trips.reused}`);
  const small = await copyInChild(server.port, Math.max(1, Math.round(COPY_MB / 10)));
  const c = await copyInChild(server.port, COPY_MB);
  console.error(`copy: ${c.mbPerSec.toFixed(1)} MB/s, peak RSS ${c.peakRssMb.toFixed(0)} MB (${small.peakRssMb.toFixed(0)} MB for a tenth of the size)`);

  const section = [
    `Measured with \`node packages/winrm/bench/bench.ts\` on ${cpus()[0]?.model.trim() ?? "unknown CPU"} (${availableParallelism()} cores), Node ${process.version}, ` +
      `${new Date().toISOString().slice(0, 10)}. Client and test server run on the same machine (the server in a child process), NTLM with ` +
      "message encryption over HTTP, a handler that answers at once: these numbers are the client's and the protocol's overhead, not Windows'. " +
      "Each command is a full lifecycle in its own shell; each row is the median of three runs of " + `${DURATION_MS / 1000} s. The machine is shared, so expect run-to-run differences of tens of percent.`,
    "",
    "| concurrency | connections | commands/s | p50 ms | p99 ms | commands |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    `HTTP round trips per command: **${trips.fresh}** in a new shell (Create, Command, Receive, Signal, Delete) and **${trips.reused}** in a shell reused through \`openShell()\` (Command, Receive, Signal).`,
    "",
    `copyFile of ${COPY_MB} MB from a stream: **${c.mbPerSec.toFixed(1)} MB/s** (${c.seconds.toFixed(1)} s). Peak RSS of the client process ` +
      `(fresh process, ${c.baseRssMb.toFixed(0)} MB before the copy): **${c.peakRssMb.toFixed(0)} MB** for ${COPY_MB} MB, ${small.peakRssMb.toFixed(0)} MB for ${Math.max(1, Math.round(COPY_MB / 10))} MB — ` +
      "memory does not grow with the file; what remains is garbage from the per-Send buffers that V8 collects lazily.",
  ].join("\n");
  console.log(section);
  if (process.argv.includes("--write-readme")) {
    const readmePath = join(here, "..", "README.md");
    const readme = await readFile(readmePath, "utf8");
    const start = "<!-- bench:start -->";
    const end = "<!-- bench:end -->";
    const block = `${start}\n${section}\n${end}`;
    const next = readme.includes(start) ? readme.replace(new RegExp(`${start}[\\s\\S]*?${end}`), block) : `${readme.trimEnd()}\n\n## Performance\n\n${block}\n`;
    await writeFile(readmePath, next);
  }
} finally {
  server.stop();
}
