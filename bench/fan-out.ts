// Live fan-out: Server-Sent Events clients (GET /api/runs/{id}/events, as the browser's EventSource
// reads it) following busy runs that a real worker executes (bench/chatty-worker.ts: the product's
// worker and recorder, an executor printing `tick <n> <epoch ms>` lines at a steady rate). Two
// cases: 200 clients on ONE run, and 50 clients on 50 runs (one each). Over a measured window: the
// web server process's CPU (utime + stime from /proc, % of one core) and peak RSS, the delivery lag
// (a client's receipt time minus the time the executor produced the line) p50/p99/max, and over the
// whole run the lines each client lost or got twice (goal: none). The clients run in a child
// process of their own (this file with --clients), whose CPU is reported too, so they are not the
// web server's competition unseen. Repeats alternate the two cases; figures are their medians.
// Run: node bench/fan-out.ts [--write-docs]   (pnpm bench:fan-out). Figures: docs/performance.md, "Live fan-out".
import { fork, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as Pg from "pg";

/** What the clients process reports of one case. */
interface ClientReport {
  clients: number;
  /** Lag samples of lines produced inside the window, ms. */
  lags: number[];
  lost: number;
  duplicated: number;
  /** Clients that did not see their run's `end` event, or saw an error event or status. */
  failed: string[];
  clientCpuPct: number;
}
type ToClients =
  | { type: "open"; base: string; token: string; runIds: string[]; perRun: number; linesPerRun: number }
  | { type: "window"; phase: "start" | "stop" }
  | { type: "report"; from: number; to: number };
type FromClients = { type: "live" } | { type: "window"; at: number } | ({ type: "report" } & ClientReport) | { type: "error"; message: string };

if (process.argv.includes("--clients")) await clientsProcess();
else await main();

// ---------------------------------------------------------------------------------------------
// The clients: plain fetch streams, parsed as EventSource parses them (fields up to a blank line).

async function clientsProcess() {
  const send = (message: FromClients) => process.send!(message);
  let window = { cpu: process.cpuUsage(), at: 0, pct: 0 };
  const samples: { produced: number; lag: number }[] = [];
  const streams: Promise<{ seen: Map<number, number>; ended: boolean; problem: string | null }>[] = [];
  let expected = 0;
  process.on("message", async (message: ToClients) => {
    try {
      if (message.type === "open") {
        samples.length = 0;
        streams.length = 0;
        expected = message.linesPerRun;
        let live = 0;
        const total = message.runIds.length * message.perRun;
        const onLive = () => {
          if (++live === total) send({ type: "live" });
        };
        for (const runId of message.runIds) for (let i = 0; i < message.perRun; i++) streams.push(follow(`${message.base}/api/runs/${runId}/events`, message.token, samples, onLive));
      } else if (message.type === "window") {
        if (message.phase === "start") window = { cpu: process.cpuUsage(), at: performance.now(), pct: 0 };
        else {
          const used = process.cpuUsage(window.cpu);
          window.pct = ((used.user + used.system) / 1000 / (performance.now() - window.at)) * 100;
        }
        send({ type: "window", at: Date.now() });
      } else {
        const results = await Promise.all(streams);
        let lost = 0;
        let duplicated = 0;
        const failed: string[] = [];
        for (const [i, r] of results.entries()) {
          if (r.problem || !r.ended) failed.push(`client ${i}: ${r.problem ?? "no end event"}`);
          for (let n = 1; n <= expected; n++) if (!r.seen.has(n)) lost++;
          for (const times of r.seen.values()) if (times > 1) duplicated += times - 1;
        }
        const lags = samples.filter((s) => s.produced >= message.from && s.produced < message.to).map((s) => s.lag);
        send({ type: "report", clients: results.length, lags, lost, duplicated, failed, clientCpuPct: window.pct });
      }
    } catch (error) {
      send({ type: "error", message: (error as Error).stack ?? String(error) });
    }
  });
  process.on("disconnect", () => process.exit(0));
}

/** Follows one run's event stream until its `end` event; `onLive` once its first output line arrives. */
async function follow(url: string, token: string, samples: { produced: number; lag: number }[], onLive: () => void) {
  const seen = new Map<number, number>();
  let ended = false;
  let problem: string | null = null;
  let live = false;
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } });
    if (res.status !== 200 || !res.body) return { seen, ended, problem: `status ${res.status}: ${(await res.text()).slice(0, 300)}` };
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let at = buffer.indexOf("\n\n"); at >= 0; at = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).replace(/^ /, "");
        }
        if (event === "output") {
          const now = Date.now();
          const text = (JSON.parse(data) as { text: string }).text;
          for (const match of text.matchAll(/tick (\d+) (\d+)/g)) {
            const n = Number(match[1]);
            const produced = Number(match[2]);
            seen.set(n, (seen.get(n) ?? 0) + 1);
            samples.push({ produced, lag: now - produced });
          }
          if (!live) {
            live = true;
            onLive();
          }
        } else if (event === "end") {
          ended = true;
          const status = (JSON.parse(data) as { status: string }).status;
          if (status !== "succeeded") problem = `the run ended ${status}`;
        } else if (event === "error") problem = `error event ${data}`;
      }
    }
  } catch (error) {
    problem = (error as Error).message;
  }
  if (!live) onLive(); // a stream that failed must not hold up the others
  return { seen, ended, problem };
}

// ---------------------------------------------------------------------------------------------
// The bench.

async function main() {
  const { f, log, machine, median, quantile, root, setup, startChild, watchdog, writeSection } = await import("./support.ts");
  const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
  const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 25);
  const MEASURE_SEC = Number(process.env.BENCH_FANOUT_MEASURE_SEC ?? 20);
  const WARMUP_MS = 2_000;
  // The lines start once every client is connected: the warm-up, the window and a margin.
  const RUN_SEC = Math.ceil(WARMUP_MS / 1000 + MEASURE_SEC + 4);
  const CLK_TCK = 100; // Linux's USER_HZ, the unit of /proc/<pid>/stat times
  const cases = [
    { name: "200 clients, one run", runs: 1, perRun: 200 },
    { name: "50 clients, 50 runs", runs: 50, perRun: 1 },
  ];
  watchdog(Number(process.env.BENCH_DEADLINE_MS ?? 10 * 60_000));

  const cpuTicks = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat(5))
  };
  // PostgreSQL's processes (the postmaster and its children) and the CPU ticks of each.
  const pgTicks = (postmaster: number) => {
    const ticks = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(entry) === postmaster || Number(fields[1]) === postmaster) ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
      } catch {
        // the process ended meanwhile
      }
    }
    return ticks;
  };
  const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

  const { RUN_EVENTS_CHANNEL } = await import("@opsconductor/db");
  // pg is the web app's dependency, not the workspace root's.
  const pg = createRequire(join(root, "apps/web/package.json"))("pg") as typeof Pg;

  const bench = await setup({ maxConnections: 4 });
  let clients: ChildProcess | undefined;
  let listener: InstanceType<typeof pg.Client> | undefined;
  try {
    // 200 streams of one user: past the default per-user cap (RUN_STREAMS_PER_USER, 20).
    const web = await bench.startWeb({ RUN_STREAMS_PER_USER: "1000", RUN_STREAMS_TOTAL: "1000" });
    const webPid = web.child.pid!;
    const go = join(bench.work, "go");
    const worker = await startChild("worker", ["--conditions=@opsconductor/source", "bench/chatty-worker.ts"], {
      cwd: root,
      env: { DATABASE_URL: bench.databaseUrl, OPSCONDUCTOR_MASTER_KEY: bench.masterKey, WORKER_CONCURRENCY: String(Math.max(...cases.map((c) => c.runs))), WORKER_ID: "bench-chatty", LOG_LEVEL: "info", BENCH_CHATTY_GO: go },
      ready: /"msg":"worker ready"/,
    });
    bench.children.push(worker);
    const workerPid = worker.pid!;
    const postmasterPid = Number(readFileSync(join(bench.work, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    const credential = await web.api<{ id: string }>("POST", "/api/credentials", { name: "bench", type: "winrm", username: "bench", usagePolicy: ["127.0.0.1"], secret: { password: "bench-password" } });
    await web.api("POST", "/api/targets", { name: "bench-target", hostname: "127.0.0.1", port: 5985, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });
    const job = await web.api<{ id: string }>("POST", "/api/jobs", { name: "Chatty", version: 1, parameters: {}, steps: [{ type: "winrm.exec", shell: "powershell", target: "bench-target", command: `chatty ${RATE} ${RUN_SEC}` }] });

    clients = fork(fileURLToPath(import.meta.url), ["--clients"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const child = clients;
    const ask = <T extends FromClients["type"]>(message: ToClients, answer: T) =>
      new Promise<Extract<FromClients, { type: T }>>((resolve, reject) => {
        const on = (reply: FromClients) => {
          if (reply.type === "error") reject(new Error(`clients: ${reply.message}`));
          else if (reply.type === answer) resolve(reply as Extract<FromClients, { type: T }>);
          else return;
          child.off("message", on);
        };
        child.on("message", on);
        child.send(message);
      });
    // The worker's notices as the web server gets them: when each output chunk was announced, to split
    // the lag into the worker's part (produced → committed and notified) and the web server's.
    listener = new pg.Client({ connectionString: bench.databaseUrl });
    await listener.connect();
    await listener.query(`LISTEN ${RUN_EVENTS_CHANNEL}`);
    let notices: { runId: string; sequence: number; at: number }[] | null = null;
    listener.on("notification", (message) => {
      const notice = JSON.parse(message.payload ?? "{}") as { runId: string; kind: string; sequence?: number };
      if (notices && notice.kind === "output" && notice.sequence !== undefined) notices.push({ runId: notice.runId, sequence: notice.sequence, at: Date.now() });
    });
    const waitIdle = async () => {
      for (;;) {
        const busy = await bench.prisma.jobRun.count({ where: { status: { in: ["queued", "running"] } } });
        if (busy === 0) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    const round = async (c: (typeof cases)[number]) => {
      rmSync(go, { force: true });
      const runIds: string[] = [];
      for (let i = 0; i < c.runs; i++) runIds.push((await web.api<{ runId: string }>("POST", `/api/jobs/${job.id}/run`, { parameters: {} })).runId);
      let peakRss = rssMb(webPid);
      const baseRss = peakRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(webPid))), 250);
      try {
        const opened = Date.now();
        await ask({ type: "open", base: web.base, token: web.token, runIds, perRun: c.perRun, linesPerRun: RATE * RUN_SEC }, "live");
        const connectMs = Date.now() - opened;
        // Every client has its run's first line (the worker's "Run started"): the steps may print.
        writeFileSync(go, "");
        await new Promise((r) => setTimeout(r, WARMUP_MS));
        const [web0, worker0, pg0] = [cpuTicks(webPid), cpuTicks(workerPid), pgTicks(postmasterPid)];
        notices = [];
        let poolWaiting = 0;
        const poolSampler = setInterval(() => {
          void fetch(`${web.base}/api/metrics`, { headers: { authorization: `Bearer ${web.token}` } })
            .then((res) => res.text())
            .then((text) => (poolWaiting = Math.max(poolWaiting, Number(/opsconductor_web_db_pool_connections\{state="waiting"\} (\d+)/.exec(text)?.[1] ?? 0))));
        }, 1000);
        const from = (await ask({ type: "window", phase: "start" }, "window")).at;
        const began = performance.now();
        await new Promise((r) => setTimeout(r, MEASURE_SEC * 1000));
        const to = (await ask({ type: "window", phase: "stop" }, "window")).at;
        const seconds = (performance.now() - began) / 1000;
        clearInterval(poolSampler);
        const announced = notices;
        notices = null;
        const pct = (ticks: number) => (ticks / CLK_TCK / seconds) * 100;
        const [webPct, workerPct] = [pct(cpuTicks(webPid) - web0), pct(cpuTicks(workerPid) - worker0)];
        // A backend that exited during the window is missing: a lower bound.
        const pgPct = pct([...pgTicks(postmasterPid)].reduce((sum, [pid, ticks]) => sum + ticks - (pg0.get(pid) ?? 0), 0));
        const stillRunning = await bench.prisma.jobRun.count({ where: { id: { in: runIds }, status: "running" } });
        if (stillRunning < c.runs) throw new Error(`only ${stillRunning} of ${c.runs} runs still ran at the window's end (the machine is too slow for a ${RUN_SEC} s run)`);
        const report = await ask({ type: "report", from, to }, "report");
        const chunks = await bench.prisma.runOutputChunk.findMany({ where: { runId: { in: runIds } }, select: { runId: true, sequence: true, at: true } });
        const queuedAt = new Map(chunks.map((chunk) => [`${chunk.runId}:${chunk.sequence}`, chunk.at.getTime()]));
        const noticeLags = announced.flatMap((n) => {
          const at = queuedAt.get(`${n.runId}:${n.sequence}`);
          return at === undefined || at < from || at >= to ? [] : [n.at - at];
        });
        if (report.failed.length > 0) throw new Error(`${report.failed.length} client(s) failed: ${report.failed.slice(0, 5).join("; ")}`);
        const r = {
          connectMs,
          webPct,
          workerPct,
          pgPct,
          clientPct: report.clientCpuPct,
          baseRss,
          peakRss,
          samples: report.lags.length,
          p50: quantile(report.lags, 0.5),
          p99: quantile(report.lags, 0.99),
          max: report.lags.reduce((a, b) => Math.max(a, b), -Infinity),
          lost: report.lost,
          duplicated: report.duplicated,
          noticeP50: quantile(noticeLags, 0.5),
          noticeP99: quantile(noticeLags, 0.99),
          poolWaiting,
        };
        log(`  ${c.name}: lag p50 ${f(r.p50)} / p99 ${f(r.p99)} / max ${f(r.max)} ms (${r.samples} lines), web CPU ${r.webPct.toFixed(0)} %, worker ${r.workerPct.toFixed(0)} %, PostgreSQL ${r.pgPct.toFixed(0)} %, clients ${r.clientPct.toFixed(0)} %, web RSS ${r.baseRss.toFixed(0)} → ${r.peakRss.toFixed(0)} MB, lost ${r.lost}, duplicated ${r.duplicated}, connected in ${r.connectMs} ms; notice lag p50 ${f(r.noticeP50)} / p99 ${f(r.noticeP99)} ms; web DB pool waiting ≤ ${r.poolWaiting}`);
        return r;
      } finally {
        clearInterval(sampler);
        await waitIdle();
      }
    };

    const results = cases.map(() => [] as Awaited<ReturnType<typeof round>>[]);
    for (let i = 0; i < REPEATS; i++) {
      log(`repeat ${i + 1} of ${REPEATS}`);
      for (const [k, c] of cases.entries()) results[k]!.push(await round(c));
    }

    const rows = cases.map((c, k) => {
      const rs = results[k]!;
      const m = (pick: (r: (typeof rs)[number]) => number) => median(rs.map(pick));
      const lost = rs.reduce((n, r) => n + r.lost, 0);
      const duplicated = rs.reduce((n, r) => n + r.duplicated, 0);
      const p99 = m((r) => r.p99);
      return `| ${c.name} | ${c.runs * RATE} → ${c.runs * c.perRun * RATE} | **${f(m((r) => r.p50))}** | **${f(p99)}** ${p99 < 500 ? "✓" : "✗"} (< 500) | ${f(m((r) => r.max))} | ${lost} / ${duplicated} (0 / 0) | **${m((r) => r.webPct).toFixed(0)} %** | ${m((r) => r.baseRss).toFixed(0)} → **${m((r) => r.peakRss).toFixed(0)}** | ${f(m((r) => r.noticeP50))} / ${f(m((r) => r.noticeP99))} | ${m((r) => r.workerPct).toFixed(0)} % | ${m((r) => r.pgPct).toFixed(0)} % | ${m((r) => r.clientPct).toFixed(0)} % |`;
    });
    const table = [
      machine("node bench/fan-out.ts"),
      "",
      `Each run is one step printing ${RATE} lines a second for ${RUN_SEC} s through a real worker (one process, the product's recorder and notices, \`bench/chatty-worker.ts\`); the clients are fetch streams in one separate Node process, each reading its run's events from the start. The steps start printing once every client has its run's first line (the worker's "Run started"); the window: ${MEASURE_SEC} s, from ${WARMUP_MS / 1000} s after that; lag = receipt minus the time the executor produced the line, over the lines produced in the window; lost / duplicated over every line of every run. Medians of ${REPEATS} repeats, the two cases alternating (lost / duplicated: summed). CPU: % of one core over the window; RSS: the web server process, before the round → peak during it. Notice lag: when the worker's NOTIFY of a batch of output reached a listener beside the web server, minus when its last line was produced, so lag minus notice lag is roughly the web server's part (each batch's earlier lines wait up to the recorder's 100 ms more). PostgreSQL CPU: its processes together (a backend that ended in the window is missed). Web server started with \`RUN_STREAMS_PER_USER=1000\` (the default, 20, refuses one user's 21st stream).`,
      "",
      "| case | lines/s produced → delivered | lag p50 ms | lag p99 ms (goal) | lag max ms | lost / duplicated (goal) | web CPU | web RSS MB | notice lag p50 / p99 ms | worker CPU | PostgreSQL CPU | clients' CPU |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n");
    await writeSection("fan-out-bench", table);
  } finally {
    if (clients?.connected) clients.disconnect();
    await listener?.end().catch(() => undefined);
    clients?.kill("SIGTERM");
    await bench.cleanup();
  }
}
