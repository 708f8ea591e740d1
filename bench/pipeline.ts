// Runs per second from POST /api/jobs/:id/run to a persisted `succeeded` run, through real worker
// processes whose step executor does nothing (bench/noop-worker.ts, so WinRM is not measured), at
// worker concurrency 1, 4, 16 and with 1 and 2 workers, each repeat interleaved with raw pg-boss
// send → work → complete on the same database (the same number of pg-boss instances and concurrency);
// then one run at a time on the idle system: request → succeeded, p50/p99.
// Run: node bench/pipeline.ts [--write-docs]   (pnpm bench:pipeline). Figures: docs/performance.md, "Pipeline".
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as PgBossModule from "pg-boss";
import { fetchAgainAfterJob } from "../apps/worker/src/worker.ts";
import { f, log, machine, median, quantile, root, setup, startChild, watchdog, writeSection } from "./support.ts";

// pg-boss is the worker's dependency, not the workspace root's.
const { PgBoss } = createRequire(join(root, "apps/worker/package.json"))("pg-boss") as typeof PgBossModule;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const RUNS = Number(process.env.BENCH_PIPELINE_RUNS ?? 120);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 40);
const IN_FLIGHT = 16;
watchdog(Number(process.env.BENCH_DEADLINE_MS ?? 10 * 60_000));

const bench = await setup({ maxConnections: 4 });
try {
  const web = await bench.startWeb();
  const { prisma } = bench;
  const credential = await web.api<{ id: string }>("POST", "/api/credentials", { name: "bench", type: "winrm", username: "bench", usagePolicy: ["127.0.0.1"], secret: { password: "bench-password" } });
  await web.api("POST", "/api/targets", { name: "bench-target", hostname: "127.0.0.1", port: 5985, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });
  const job = await web.api<{ id: string }>("POST", "/api/jobs", { name: "No-op", version: 1, parameters: {}, steps: [{ type: "winrm.exec", shell: "powershell", target: "bench-target", command: "noop" }] });

  const startWorkers = async (count: number, concurrency: number) => {
    const children: ChildProcess[] = [];
    for (let i = 0; i < count; i++)
      children.push(
        await startChild(`worker ${i}`, ["--conditions=@opsconductor/source", "bench/noop-worker.ts"], {
          cwd: root,
          env: { DATABASE_URL: bench.databaseUrl, OPSCONDUCTOR_MASTER_KEY: bench.masterKey, WORKER_CONCURRENCY: String(concurrency), WORKER_ID: `bench-${count}x${concurrency}-${i}`, LOG_LEVEL: "info" },
          ready: /"msg":"worker ready"/,
        }),
      );
    return async () => {
      await Promise.all(children.map((child) => new Promise((done) => (child.once("exit", done), child.kill("SIGTERM")))));
    };
  };
  // `count` requests, IN_FLIGHT at a time.
  const inParallel = async (count: number, one: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
      while (next < count) await one(next++);
    }));
  };
  // Polled every `everyMs`: a busy poll would take CPU from the pipeline it waits for.
  const waitSucceeded = async (ids: string[], everyMs = 25) => {
    for (;;) {
      const rows = await prisma.jobRun.groupBy({ by: ["status"], where: { id: { in: ids } }, _count: true });
      const done = rows.filter((r) => r.status !== "queued" && r.status !== "running").reduce((n, r) => n + r._count, 0);
      if (done === ids.length) {
        const bad = rows.filter((r) => r.status !== "succeeded");
        if (bad.length > 0) throw new Error(`runs ended ${JSON.stringify(bad)}`);
        return;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  const pipelineRound = async (count: number) => {
    const began = performance.now();
    const ids: string[] = [];
    await inParallel(count, async () => ids.push((await web.api<{ runId: string }>("POST", `/api/jobs/${job.id}/run`, { parameters: {} })).runId));
    await waitSucceeded(ids);
    return count / ((performance.now() - began) / 1000);
  };
  // Raw pg-boss: as many instances and as much concurrency as the workers, handlers that complete at once.
  let rawPolls = 0;
  const rawRound = async (workers: number, concurrency: number, count: number) => {
    const queue = `bench-raw-${workers}x${concurrency}-${Math.random().toString(36).slice(2, 8)}`;
    const sender = new PgBoss({ connectionString: bench.databaseUrl, max: 4, supervise: false, schedule: false });
    await sender.start();
    await sender.createQueue(queue, { notify: true });
    const bosses = await Promise.all(Array.from({ length: workers }, async () => {
      const boss = new PgBoss({ connectionString: bench.databaseUrl, max: 4, supervise: false, schedule: false, useListenNotify: true });
      await boss.start();
      return boss;
    }));
    let completed = 0;
    let allDone: () => void = () => {};
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    // The same polling as the worker's, and the same wake after a job (fetchAgainAfterJob).
    for (const boss of bosses) {
      const workId: { id?: string } = {};
      workId.id = await boss.work(queue, { localConcurrency: concurrency, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 1 }, async () => {
        if (++completed === count) setImmediate(allDone);
        fetchAgainAfterJob(boss, workId.id);
      });
    }
    const began = performance.now();
    await inParallel(count, (i) => sender.send(queue, { i }));
    await finished;
    // Completion is written after the handler returns: wait until the table says so.
    for (;;) {
      rawPolls++;
      const [row] = await prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) n FROM pgboss.job WHERE name = $1 AND state = 'completed'`, queue);
      if (Number(row!.n) === count) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const rate = count / ((performance.now() - began) / 1000);
    await Promise.all([...bosses, sender].map((b) => b.stop({ graceful: false, wait: true })));
    return rate;
  };

  const configs: [number, number][] = [[1, 1], [1, 4], [1, 16], [2, 4], [2, 16]];
  const results: { workers: number; concurrency: number; ours: number[]; raw: number[] }[] = [];
  for (const [workers, concurrency] of configs) {
    log(`${workers} worker(s) × concurrency ${concurrency}`);
    const stop = await startWorkers(workers, concurrency);
    const count = concurrency === 1 ? Math.ceil(RUNS / 3) : RUNS;
    await pipelineRound(Math.min(10, count)); // warm-up
    const r = { workers, concurrency, ours: [] as number[], raw: [] as number[] };
    for (let i = 0; i < REPEATS; i++) {
      r.ours.push(await pipelineRound(count));
      r.raw.push(await rawRound(workers, concurrency, count));
      log(`  pipeline ${r.ours.at(-1)!.toFixed(1)} runs/s, raw pg-boss ${r.raw.at(-1)!.toFixed(1)} jobs/s`);
    }
    results.push(r);
    await stop();
  }

  // Where the time goes: database transactions (statements outside a transaction count one each) per
  // run, for the request alone (no worker running), the worker's part, and raw pg-boss; less the
  // bench's own polling. The statistics reach pg_stat_database within a second of a transaction.
  log("transactions per run");
  const xacts = async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return Number((await prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`))[0]!.n) - 1;
  };
  const COUNTED = 100;
  let x0 = await xacts();
  let began = performance.now();
  const counted: string[] = [];
  await inParallel(COUNTED, async () => counted.push((await web.api<{ runId: string }>("POST", `/api/jobs/${job.id}/run`, { parameters: {} })).runId));
  const requestRate = COUNTED / ((performance.now() - began) / 1000);
  const perRequest = (await xacts() - x0) / COUNTED;
  const stopCounted = await startWorkers(1, 4);
  x0 = await xacts();
  began = performance.now();
  let polls = 0;
  for (;;) {
    polls++;
    if ((await prisma.jobRun.count({ where: { id: { in: counted }, status: "succeeded" } })) === COUNTED) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const drainRate = COUNTED / ((performance.now() - began) / 1000);
  const perRunWorker = (await xacts() - x0 - polls) / COUNTED;
  await stopCounted();
  x0 = await xacts();
  rawPolls = 0;
  await rawRound(1, 4, COUNTED);
  const perRawJob = (await xacts() - x0 - rawPolls) / COUNTED;

  log("one run at a time on an idle system");
  const stop = await startWorkers(1, 4);
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES + 3; i++) {
    const began = performance.now();
    const { runId } = await web.api<{ runId: string }>("POST", `/api/jobs/${job.id}/run`, { parameters: {} });
    await waitSucceeded([runId], 2);
    if (i >= 3) latencies.push(performance.now() - began);
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();

  const rows = results.map(({ workers, concurrency, ours, raw }) => {
    const [o, w] = [median(ours), median(raw)];
    return `| ${workers} | ${concurrency} | **${o.toFixed(1)}** | ${w.toFixed(1)} | **${((100 * o) / w).toFixed(0)} %** (≥ 50 %) |`;
  });
  const table = [
    machine("node bench/pipeline.ts"),
    "",
    `Runs of a one-step job whose executor does nothing, requested with POST /api/jobs/:id/run (${IN_FLIGHT} requests in flight) until every run is \`succeeded\` in job_runs (polled every 25 ms; 2 ms for the single runs below); raw pg-boss: \`send\` (${IN_FLIGHT} in flight) → \`work\` → complete until every job is \`completed\`, with as many pg-boss instances as workers and the same local concurrency, LISTEN/NOTIFY on for both, and for both a slot that finished a job fetches the next one at once (\`fetchAgainAfterJob\`). ${RUNS} runs a round (${Math.ceil(RUNS / 3)} at concurrency 1), medians of ${REPEATS} rounds, ours and raw alternating.`,
    "",
    "| workers | concurrency | pipeline runs/s | raw pg-boss jobs/s | pipeline / raw (goal) |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    `Where the time goes (${COUNTED} runs, one worker at concurrency 4): the requests alone, with no worker running, answered **${requestRate.toFixed(1)} runs/s** at ${perRequest.toFixed(1)} database transactions each; the worker then drained the ${COUNTED} queued runs at **${drainRate.toFixed(1)} runs/s** with ${perRunWorker.toFixed(1)} transactions per run (statements outside a transaction count one each; the worker's heartbeats and pg-boss's upkeep are included, the bench's polling is not). Raw pg-boss took ${perRawJob.toFixed(1)} per job (send, fetch, complete).`,
    "",
    `One run at a time (one worker, concurrency 4, ${LATENCY_SAMPLES} runs 100 ms apart), request → \`succeeded\` persisted: p50 **${f(quantile(latencies, 0.5))} ms** (goal < 100), p99 ${f(quantile(latencies, 0.99))} ms.`,
  ].join("\n");
  await writeSection("pipeline-bench", table);
} finally {
  await bench.cleanup();
}
