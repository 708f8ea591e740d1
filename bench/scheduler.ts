// Scheduler fire lag: 10,000 enabled schedules whose due instants are spread over a minute, and
// 1,000 due at the same second, fired by 1 and by 2 processes running the product's schedule loop
// (bench/scheduler-worker.ts). Fire lag = when the run row became visible (the claim transaction's
// commit, stamped by a deferred trigger with clock_timestamp()) minus the due instant; every
// (schedule, instant) due in the window is checked for exactly one run.
// Run: node bench/scheduler.ts [--write-docs]   (pnpm bench:scheduler). Figures: docs/performance.md, "Scheduler fire lag".
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as PgBossModule from "pg-boss";
import { createJob, ensureRunQueues, notify, RUN_QUEUE, SCHEDULES_CHANNEL } from "@opsconductor/db";
import { f, log, machine, median, quantile, root, setup, startChild, watchdog, writeSection } from "./support.ts";

// pg-boss is the worker's dependency, not the workspace root's.
const { PgBoss } = createRequire(join(root, "apps/worker/package.json"))("pg-boss") as typeof PgBossModule;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const SPREAD = Number(process.env.BENCH_SPREAD_SCHEDULES ?? 10_000);
const BURST = Number(process.env.BENCH_BURST_SCHEDULES ?? 1_000);
/** The burst schedules fire every BURST_PERIOD_S seconds; BURSTS of them are measured per round. */
const BURST_PERIOD_S = 10;
const BURSTS = 2;
/** Time between setting the schedules up and the first measured instant, so the loops are asleep. */
const LEAD_MS = 3_000;
/** How long after the window's last instant a missing run still counts as late rather than missed. */
const SETTLE_MS = 20_000;
const WORKER_COUNTS = [1, 2];
watchdog(Number(process.env.BENCH_DEADLINE_MS ?? 10 * 60_000));

const bench = await setup({ maxConnections: 4 });
const running: ChildProcess[] = [];
try {
  const { prisma } = bench;
  const sql = (text: string, ...values: unknown[]) => prisma.$executeRawUnsafe(text, ...values);
  // pg-boss's schema and the run queue, as a worker creates them at boot.
  const boss = new PgBoss({ connectionString: bench.databaseUrl, max: 2, supervise: false, schedule: false });
  await boss.start();
  await ensureRunQueues(boss);
  await boss.stop({ graceful: false });
  const definition = { name: "Scheduled no-op", steps: [{ type: "winrm.exec", target: "bench-target", command: "noop" }] };
  const job = await createJob(prisma, { name: "Scheduled no-op", definition, createdById: bench.adminId });

  // Bench-only bookkeeping on job_runs. inserted_at: when the scheduler's INSERT ran (clock_timestamp(),
  // the real time, where now() and queued_at's default would be the transaction's start). committed_at:
  // a deferred constraint trigger runs as the claim transaction commits, i.e. when the run becomes
  // visible to workers and readers; that is the figure measured.
  await sql(`CREATE TABLE bench_fires (run_id uuid PRIMARY KEY, key text NOT NULL, queued_at timestamptz NOT NULL, inserted_at timestamptz NOT NULL, committed_at timestamptz)`);
  await sql(`CREATE FUNCTION bench_fire_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO bench_fires (run_id, key, queued_at, inserted_at) VALUES (NEW.id, NEW.idempotency_key, NEW.queued_at, clock_timestamp()); RETURN NULL; END $$`);
  await sql(`CREATE FUNCTION bench_fire_committed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      UPDATE bench_fires SET committed_at = clock_timestamp() WHERE run_id = NEW.id; RETURN NULL; END $$`);
  await sql(`CREATE TRIGGER bench_fire_inserted AFTER INSERT ON job_runs FOR EACH ROW EXECUTE FUNCTION bench_fire_inserted()`);
  await sql(`CREATE CONSTRAINT TRIGGER bench_fire_committed AFTER INSERT ON job_runs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_fire_committed()`);
  // What each round expects: one run per (schedule, instant).
  await sql(`CREATE TABLE bench_expected (schedule_id uuid NOT NULL, instant timestamptz NOT NULL, PRIMARY KEY (schedule_id, instant))`);

  const clear = async () => {
    await sql(`DELETE FROM schedules`);
    await sql(`TRUNCATE job_runs, bench_fires, bench_expected CASCADE`);
    await sql(`DELETE FROM pgboss.job WHERE name = $1`, RUN_QUEUE);
  };
  // `count` schedules of the bench job: cron per row, first due instant per row (SQL expressions over g = 0..count-1).
  const addSchedules = (count: number, cron: string, nextRunAt: string) =>
    sql(`INSERT INTO schedules (id, job_id, name, cron, timezone, enabled, next_run_at, overlap_policy, updated_at)
         SELECT gen_random_uuid(), $1::uuid, 'bench ' || g, ${cron}, 'UTC', true, ${nextRunAt}, 'allow', now() FROM generate_series(0, ${count - 1}) g`, job.id);
  const startOfSecond = (ms: number, multiple = 1) => Math.ceil(ms / (1000 * multiple)) * 1000 * multiple;

  const startSchedulers = async (count: number) => {
    const children: { child: ChildProcess; errors: string[]; final: string | null }[] = [];
    for (let i = 0; i < count; i++) {
      const child = await startChild(`scheduler ${i}`, ["--conditions=@opsconductor/source", "bench/scheduler-worker.ts"], {
        cwd: root,
        env: { DATABASE_URL: bench.databaseUrl, LOG_LEVEL: "warn" },
        ready: /scheduler ready/,
      });
      running.push(child);
      const entry = { child, errors: [] as string[], final: null as string | null };
      const onData = (data: Buffer) => {
        for (const line of data.toString().split("\n")) {
          if (line.startsWith("{\"runsCreated\"")) entry.final = line;
          else if (/"level":(50|60)|already fired/.test(line)) entry.errors.push(line.slice(0, 300));
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      children.push(entry);
    }
    // Warm-up: a few seconds of every-second schedules, so connections and code paths are hot.
    await addSchedules(100, `'* * * * * *'`, `date_trunc('second', now()) + interval '1 second'`);
    await notify(prisma, SCHEDULES_CHANNEL, {});
    await new Promise((r) => setTimeout(r, 3_000));
    await clear();
    return async () => {
      await Promise.all(children.map(({ child }) => new Promise((done) => (child.once("exit", done), child.kill("SIGTERM")))));
      running.splice(0, running.length, ...running.filter((c) => !children.some((e) => e.child === c)));
      const statuses = children.map((c) => JSON.parse(c.final ?? "{}") as { runsCreated?: number; duplicateFires?: number; lastError?: string | null });
      return { errors: children.flatMap((c) => c.errors), duplicateFires: statuses.reduce((n, s) => n + (s.duplicateFires ?? 0), 0) };
    };
  };

  interface Round {
    scenario: "spread" | "burst";
    workers: number;
    fires: number;
    lags: number[];
    insertLags: number[];
    queuedBehindMs: number[];
    missed: number;
    duplicated: number;
    late: number;
  }

  /** Sets up one scenario's schedules, waits out its window and counts what fired. */
  const measure = async (scenario: Round["scenario"], workers: number): Promise<Round> => {
    await clear();
    let windowStart: number;
    let windowEnd: number;
    if (scenario === "spread") {
      // Schedule g fires at second g % 60 of every minute: the first instant of each at or after windowStart.
      windowStart = startOfSecond(Date.now() + LEAD_MS);
      windowEnd = windowStart + 60_000;
      const t0 = `to_timestamp(${windowStart / 1000})`;
      await addSchedules(SPREAD, `(g % 60) || ' * * * * *'`, `${t0} + make_interval(secs => (((g % 60) - extract(second FROM ${t0})::int) % 60 + 60) % 60)`);
      await sql(`INSERT INTO bench_expected SELECT id, next_run_at FROM schedules`);
    } else {
      windowStart = startOfSecond(Date.now() + LEAD_MS, BURST_PERIOD_S);
      windowEnd = windowStart + BURSTS * BURST_PERIOD_S * 1000;
      await addSchedules(BURST, `'*/${BURST_PERIOD_S} * * * * *'`, `to_timestamp(${windowStart / 1000})`);
      for (let b = 0; b < BURSTS; b++) await sql(`INSERT INTO bench_expected SELECT id, next_run_at + make_interval(secs => ${b * BURST_PERIOD_S}) FROM schedules`);
    }
    // As the web app does after a schedule change: the loops wake, read the earliest next_run_at and sleep until it.
    await notify(prisma, SCHEDULES_CHANNEL, {});
    const [{ expected } = { expected: 0 }] = await prisma.$queryRawUnsafe<{ expected: number }[]>(`SELECT count(*)::int AS expected FROM bench_expected`);
    log(`  ${scenario}, ${workers} scheduler(s): ${expected} instants due between ${new Date(windowStart).toISOString().slice(11, 19)} and ${new Date(windowEnd).toISOString().slice(11, 19)}`);
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now())));
    const firedInWindow = async () => {
      const [row] = await prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM bench_fires f JOIN bench_expected e ON f.key = 'schedule:' || e.schedule_id || ':' || to_char(e.instant AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') WHERE f.committed_at IS NOT NULL`,
      );
      return row!.n;
    };
    const settleUntil = Date.now() + SETTLE_MS;
    while ((await firedInWindow()) < expected && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 250));
    // Stop further firing of these schedules while they are counted.
    await sql(`UPDATE schedules SET enabled = false`);

    const fires = await prisma.$queryRawUnsafe<{ schedule_id: string; instant: Date; lag: number; insert_lag: number; queued_behind: number }[]>(`
      SELECT substr(f.key, 10, 36)::uuid AS schedule_id, substr(f.key, 47)::timestamptz AS instant,
             extract(epoch FROM f.committed_at - substr(f.key, 47)::timestamptz) * 1000 AS lag,
             extract(epoch FROM f.inserted_at - substr(f.key, 47)::timestamptz) * 1000 AS insert_lag,
             extract(epoch FROM f.inserted_at - f.queued_at) * 1000 AS queued_behind
        FROM bench_fires f
       WHERE f.committed_at IS NOT NULL AND f.key LIKE 'schedule:%'
         AND substr(f.key, 47)::timestamptz >= to_timestamp(${windowStart / 1000}) AND substr(f.key, 47)::timestamptz < to_timestamp(${windowEnd / 1000})`);
    const expectedKeys = new Set((await prisma.$queryRawUnsafe<{ k: string }[]>(`SELECT schedule_id || '@' || (extract(epoch FROM instant) * 1000)::bigint AS k FROM bench_expected`)).map((r) => r.k));
    const seen = new Map<string, number>();
    for (const fire of fires) {
      const k = `${fire.schedule_id}@${fire.instant.getTime()}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    let missed = 0;
    let duplicated = 0;
    for (const k of expectedKeys) if (!seen.has(k)) missed++;
    // A second run of an instant, or a run for an instant the schedule does not have.
    for (const [k, n] of seen) duplicated += expectedKeys.has(k) ? n - 1 : n;
    const lags = fires.map((r) => Number(r.lag));
    return {
      scenario,
      workers,
      fires: fires.length,
      lags,
      insertLags: fires.map((r) => Number(r.insert_lag)),
      queuedBehindMs: fires.map((r) => Number(r.queued_behind)),
      missed,
      duplicated,
      late: lags.filter((l) => l > 100).length,
    };
  };

  const rounds: Round[] = [];
  const problems: string[] = [];
  let duplicateFires = 0;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const workers of WORKER_COUNTS) {
      log(`repeat ${repeat + 1}/${REPEATS}: ${workers} scheduler process(es)`);
      const stop = await startSchedulers(workers);
      for (const scenario of ["spread", "burst"] as const) {
        const round = await measure(scenario, workers);
        rounds.push(round);
        log(`    ${round.fires} fires, lag p50 ${f(quantile(round.lags, 0.5))} ms, p99 ${f(quantile(round.lags, 0.99))} ms, max ${f(Math.max(...round.lags))} ms (insert p99 ${f(quantile(round.insertLags, 0.99))} ms, queued_at behind the insert p50 ${f(quantile(round.queuedBehindMs, 0.5))} ms), missed ${round.missed}, duplicated ${round.duplicated}`);
      }
      const stopped = await stop();
      problems.push(...stopped.errors);
      duplicateFires += stopped.duplicateFires;
    }
  }
  if (problems.length > 0) log(`scheduler errors:\n${problems.slice(0, 10).join("\n")}`);

  const row = (scenario: Round["scenario"], workers: number) => {
    const mine = rounds.filter((r) => r.scenario === scenario && r.workers === workers);
    const p = (pick: (r: Round) => number) => median(mine.map(pick));
    const p99 = p((r) => quantile(r.lags, 0.99));
    const label = scenario === "spread" ? `${SPREAD.toLocaleString("en-US")} over a minute` : `${BURST.toLocaleString("en-US")} at one second`;
    return `| ${label} | ${workers} | ${mine.reduce((n, r) => n + r.fires, 0).toLocaleString("en-US")} | ${f(p((r) => quantile(r.lags, 0.5)))} | **${f(p99)}** (< 100 ${p99 < 100 ? "✓" : "✗"}) | ${f(Math.max(...mine.map((r) => Math.max(...r.lags))))} | ${f(p((r) => quantile(r.insertLags, 0.99)))} | ${mine.reduce((n, r) => n + r.missed, 0)} | ${mine.reduce((n, r) => n + r.duplicated, 0)} |`;
  };
  const table = [
    machine("node bench/scheduler.ts"),
    "",
    `Fire lag = the claim transaction's commit (the run row visible) minus the due instant, in ms. ${SPREAD.toLocaleString("en-US")} schedules \`S * * * * *\` with S = 0…59 (about ${Math.round(SPREAD / 60)} due each second) measured over one minute; ${BURST.toLocaleString("en-US")} schedules \`*/${BURST_PERIOD_S} * * * * *\` measured over ${BURSTS} bursts. p50 and p99: medians over ${REPEATS} interleaved rounds; max, fires, missed and duplicated: over all rounds. Goal: p99 < 100 ms (pg-boss's own cron ticks every 30 s).`,
    "",
    "| schedules | scheduler processes | fires | lag p50 | lag p99 (goal) | lag max | insert p99 | missed | duplicated |",
    "|---|---|---|---|---|---|---|---|---|",
    ...WORKER_COUNTS.map((w) => row("spread", w)),
    ...WORKER_COUNTS.map((w) => row("burst", w)),
    "",
    `Scheduler errors logged: ${problems.length}; instants the loops themselves found already fired: ${duplicateFires}.`,
  ].join("\n");
  await writeSection("scheduler-bench", table);
} finally {
  for (const child of running) child.kill("SIGTERM");
  await bench.cleanup();
}
