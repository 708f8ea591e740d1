// Measures the file library end to end: upload a file through POST /api/files (streamed into
// PostgreSQL chunk rows), then copy it to a WinRM test server through a real worker run, for a small
// and a large file; reports throughput and the peak RSS of the web server and the worker.
// Run: node bench/file-library.ts [--write-docs]   (Node 24; talks to 127.0.0.1 only)
// What the figures mean: docs/performance.md, "File library".
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, createPrismaClient } from "@opsconductor/db";
import { createLocalUser as createUser } from "../apps/web/app/services/auth/local-users.server.ts";
import { freePort, startEmbeddedPostgres } from "@opsconductor/db/embedded";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const MIB = 1024 * 1024;
const SIZES_MIB = (process.env.BENCH_FILE_SIZES_MIB ?? "50,500").split(",").map(Number);
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 20 * 60_000);
const BLOCK = randomBytes(MIB);

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${DEADLINE_MS} ms; giving up`);
  process.exit(2);
}, DEADLINE_MS);
watchdog.unref();
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

// Linux reports a process's resident set (VmRSS) and its high-water mark (VmHWM) in /proc; writing
// 5 to clear_refs resets the mark, so one process can be measured phase by phase.
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}
const resetPeak = (pid: number) => writeFile(`/proc/${pid}/clear_refs`, "5");

function start(name: string, args: string[], options: { cwd: string; env: Record<string, string>; ready: RegExp }): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.length > 1_000_000) output = output.slice(-100_000);
      if (options.ready.test(output)) resolve({ child, output: () => output });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited (code ${code}):\n${output.slice(-2000)}`)));
  });
}

// Deterministic content of any size without holding it: 1 MiB of random bytes, each MiB stamped with its index.
function* payload(sizeMib: number): Generator<Buffer> {
  for (let i = 0; i < sizeMib; i++) {
    const block = Buffer.from(BLOCK);
    block.writeUInt32LE(i, 0);
    yield block;
  }
}
const digestOf = (sizeMib: number) => {
  const hash = createHash("sha256");
  for (const block of payload(sizeMib)) hash.update(block);
  return hash.digest("hex");
};

interface Row {
  sizeMib: number;
  uploadSec: number;
  copySec: number;
  web: { before: number; peak: number };
  worker: { before: number; peak: number };
  sha256: string;
}

const work = await mkdtemp(join(tmpdir(), "opsconductor-file-bench-"));
// PostgreSQL runs as its own user when this runs as root, and must reach its data folder.
await chmod(work, 0o755);
const children: ChildProcess[] = [];
let stopPostgres = async () => {};
try {
  log("starting PostgreSQL");
  const pg = await startEmbeddedPostgres({ dataDir: join(work, "postgres"), database: "bench" });
  stopPostgres = pg.stop;
  await applyMigrations(pg.url);
  const prisma = createPrismaClient(pg.url, { maxConnections: 2 });
  await createUser(prisma, { username: "bench-admin", password: "bench-password-1", role: "admin" });
  await prisma.$disconnect();
  const masterKey = randomBytes(32).toString("base64");

  log("starting the WinRM test server, the web server and a worker");
  const winrm = await start("WinRM test server", [join(root, "packages/winrm/bench/server.ts")], { cwd: root, env: {}, ready: /"port":\s*\d+/ });
  children.push(winrm.child);
  const winrmPort = Number(/"port":\s*(\d+)/.exec(winrm.output())![1]);
  const webPort = await freePort();
  const common = { DATABASE_URL: pg.url, OPSCONDUCTOR_MASTER_KEY: masterKey, NODE_ENV: "development" };
  const web = await start("web server", ["--conditions=@opsconductor/source", "server.ts", "--dev"], {
    cwd: join(root, "apps/web"),
    env: { ...common, PORT: String(webPort), HOST: "127.0.0.1" },
    ready: /listening on/,
  });
  children.push(web.child);
  const worker = await start("worker", ["--conditions=@opsconductor/source", "src/main.ts"], {
    cwd: join(root, "apps/worker"),
    env: { ...common, WORKER_CONCURRENCY: "1", METRICS_PORT: "0", LOG_LEVEL: "info" },
    ready: /"msg":"worker ready"/,
  });
  children.push(worker.child);
  const webPid = web.child.pid!;
  const workerPid = worker.child.pid!;

  const base = `http://127.0.0.1:${webPort}`;
  const login = await fetch(`${base}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bench-admin", password: "bench-password-1" }) });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const parsed = (await res.json().catch(() => null)) as Record<string, unknown> & { id: string };
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  const credential = await api("POST", "/api/credentials", { name: "bench", type: "winrm", username: "bench", secret: { password: "bench" } });
  await api("POST", "/api/targets", { name: "bench-target", hostname: "127.0.0.1", port: winrmPort, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });

  const uploadFile = async (name: string, sizeMib: number) => {
    const blocks = payload(sizeMib);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = blocks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    });
    const res = await fetch(`${base}/api/files?name=${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/octet-stream", "content-length": String(sizeMib * MIB) },
      body,
      duplex: "half",
    } as RequestInit);
    const file = (await res.json()) as { id: string; size: number; sha256: string };
    if (res.status !== 201) throw new Error(`upload of ${name}: ${res.status} ${JSON.stringify(file)}`);
    return file;
  };
  const copy = async (name: string, fileId: string) => {
    const job = await api("POST", "/api/jobs", { name, steps: [{ type: "winrm.copy", target: "bench-target", file: fileId, destination: `C:\\bench\\${name}.bin`, overwrite: true, timeoutSec: 3600 }] });
    const { runId } = (await api("POST", `/api/jobs/${job.id}/run`, {})) as unknown as { runId: string };
    for (;;) {
      const run = (await api("GET", `/api/runs/${runId}`)) as unknown as { status: string; startedAt: string; finishedAt: string; error: string | null };
      if (!["queued", "running"].includes(run.status)) {
        if (run.status !== "succeeded") throw new Error(`run of ${name} ended ${run.status}: ${run.error}`);
        return (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  // A small round first, so both processes have loaded and compiled every module they will use.
  log("warm-up with a 1 MiB file");
  await copy("warm-up", (await uploadFile("warm-up", 1)).id);

  const rows: Row[] = [];
  for (const sizeMib of SIZES_MIB) {
    const expected = digestOf(sizeMib);
    await resetPeak(webPid);
    const webBefore = await memory(webPid);
    log(`uploading ${sizeMib} MiB`);
    let t = performance.now();
    const file = await uploadFile(`payload-${sizeMib}`, sizeMib);
    const uploadSec = (performance.now() - t) / 1000;
    const webAfter = await memory(webPid);
    if (file.sha256 !== expected || file.size !== sizeMib * MIB) throw new Error(`the library stored ${file.size} bytes with SHA-256 ${file.sha256}, expected ${expected}`);

    await resetPeak(workerPid);
    const workerBefore = await memory(workerPid);
    log(`copying ${sizeMib} MiB through a worker run`);
    t = performance.now();
    const copySec = await copy(`payload-${sizeMib}`, file.id);
    const workerAfter = await memory(workerPid);
    log(`copied in ${copySec.toFixed(1)} s (run), ${((performance.now() - t) / 1000).toFixed(1)} s (request to end)`);
    rows.push({ sizeMib, uploadSec, copySec, web: { before: webBefore.rss, peak: webAfter.peak }, worker: { before: workerBefore.rss, peak: workerAfter.peak }, sha256: expected });
  }

  const mb = (n: number) => `${Math.round(n)} MiB`;
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const when = new Date().toISOString().slice(0, 16).replace("T", " ");
  const table = [
    `Measured ${when} UTC with \`node bench/file-library.ts\` on ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}; PostgreSQL, web server, worker and WinRM test server on the same machine, whose cores were shared with other work while this ran.`,
    "",
    "| file | upload MiB/s | upload s | copy MiB/s | copy s | web RSS before | web peak RSS | worker RSS before | worker peak RSS | worker growth | SHA-256 (library = target = expected) |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.sizeMib} MiB | ${(r.sizeMib / r.uploadSec).toFixed(1)} | ${r.uploadSec.toFixed(1)} | ${(r.sizeMib / r.copySec).toFixed(1)} | ${r.copySec.toFixed(1)} | ${mb(r.web.before)} | ${mb(r.web.peak)} | ${mb(r.worker.before)} | ${mb(r.worker.peak)} | **+${mb(r.worker.peak - r.worker.before)}** | \`${r.sha256.slice(0, 16)}…\` |`,
    ),
  ].join("\n");
  console.log(table);

  if (process.argv.includes("--write-docs")) {
    const path = join(root, "docs/performance.md");
    const doc = await readFile(path, "utf8");
    const startMark = "<!-- file-library-bench:start -->";
    const endMark = "<!-- file-library-bench:end -->";
    const from = doc.indexOf(startMark);
    const to = doc.indexOf(endMark);
    if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${startMark} ... ${endMark} block to replace`);
    await writeFile(path, `${doc.slice(0, from + startMark.length)}\n${table}\n${doc.slice(to)}`);
    log("wrote the table into docs/performance.md");
  }
} finally {
  for (const child of children.reverse()) {
    child.stdin?.end();
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
  }
  await stopPostgres();
  await rm(work, { recursive: true, force: true });
}
