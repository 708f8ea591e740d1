// A run history of BENCH_RUNS runs (default 100,000; 1,000,000 with BENCH_RUNS) with 5 steps each and BENCH_LINES_PER_STEP
// output lines per step (default 10), written with generate_series, plus one long
// run of BENCH_LONG_LINES lines: p50/p99 over HTTP of /api/runs with every filter and every pair of
// filters, deep cursors, the Runs page, a run's log ranges and search, the dashboard and the system page.
// Run: node bench/million-runs.ts [--write-docs]   (pnpm bench:million-runs). Figures: docs/performance.md, "A million runs".
import { encodeCursor } from "../apps/web/app/services/pagination.server.ts";
import { createJob } from "@opsconductor/db";
import { f, log, machine, quantile, setup, watchdog, writeSection } from "./support.ts";

// 1,000,000 runs take longer than the 10 minutes allowed to write on the shared 2-core bench machine
// (300,000 took 400 s at load 25): 100,000 by default, BENCH_RUNS for more.
const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const LINES_PER_STEP = Number(process.env.BENCH_LINES_PER_STEP ?? 10);
const LONG_LINES = Number(process.env.BENCH_LONG_LINES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const JOBS = 200;
const TARGETS = 100;
watchdog(Number(process.env.BENCH_DEADLINE_MS ?? 10 * 60_000));

const bench = await setup({ maxConnections: 4 });
try {
  const { prisma } = bench;
  const sql = (text: string) => prisma.$executeRawUnsafe(text);
  const web = bench.startWeb();
  web.catch(() => undefined);

  log(`writing ${JOBS} jobs, ${TARGETS} targets, ${RUNS.toLocaleString("en-US")} runs, ${(RUNS * 5).toLocaleString("en-US")} steps, ${(RUNS * 5 * LINES_PER_STEP).toLocaleString("en-US")} lines`);
  const began = Date.now();
  const definition = { name: "Bench", steps: [0, 1, 2, 3, 4].map((i) => ({ id: `s${i}`, type: "winrm.exec", target: "t", command: `Step ${i}` })) };
  for (let j = 0; j < JOBS; j++) await createJob(prisma, { name: `bench job ${String(j).padStart(3, "0")}`, definition, createdById: bench.adminId });
  await sql(`INSERT INTO targets (id, name, hostname, updated_at) SELECT gen_random_uuid(), 'target-' || lpad(t::text, 3, '0'), 'host' || t || '.example', now() FROM generate_series(0, ${TARGETS - 1}) t`);
  // (Bench tables are ordinary tables: the pool may answer each statement on another connection.)
  // Secondary indexes are dropped for the load and built again afterwards (a sort instead of 50M random inserts).
  const indexes = await prisma.$queryRawUnsafe<{ name: string; def: string }[]>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE tablename IN ('job_runs','job_run_steps','run_output_chunks','run_output_lines') AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
  );
  for (const index of indexes) await sql(`DROP INDEX "${index.name}"`);
  // Run i: queued 30 s after run i-1 (a year of history); 1 in 200 failed, 1 in 1000 canceled, 1 in 6000
  // timed out (always manual, so trigger=schedule&status=timed_out matches nothing), the newest 20 running and 20 queued.
  await sql(`CREATE UNLOGGED TABLE bench_jobs AS SELECT row_number() OVER (ORDER BY name) - 1 AS n, id, current_version_id FROM jobs`);
  await sql(`CREATE UNLOGGED TABLE bench_targets AS SELECT row_number() OVER (ORDER BY name) - 1 AS n, id, name FROM targets`);
  await sql(`INSERT INTO job_runs (id, job_id, job_version_id, status, trigger, requested_by_id, attempt, queued_at, started_at, finished_at, error)
    SELECT (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, j.id, j.current_version_id, s.status::"RunStatus",
      (ARRAY['manual','schedule','api'])[i % 3 + 1]::"RunTrigger", CASE WHEN i % 3 = 0 THEN '${bench.adminId}'::uuid END, 1,
      now() - (${RUNS} - i) * interval '30 seconds', CASE WHEN s.status <> 'queued' THEN now() - (${RUNS} - i) * interval '30 seconds' + interval '150 ms' END,
      CASE WHEN s.status NOT IN ('queued','running') THEN now() - (${RUNS} - i) * interval '30 seconds' + interval '5 s' END,
      CASE WHEN s.status = 'failed' THEN 'step 3 failed' END
    FROM generate_series(1, ${RUNS}) i
    JOIN bench_jobs j ON j.n = i % ${JOBS}
    CROSS JOIN LATERAL (SELECT CASE WHEN i > ${RUNS - 20} THEN 'queued' WHEN i > ${RUNS - 40} THEN 'running' WHEN i % 6000 = 3 THEN 'timed_out' WHEN i % 200 = 7 THEN 'failed' WHEN i % 1000 = 11 THEN 'canceled' ELSE 'succeeded' END AS status) s`);
  log(`runs written (${((Date.now() - began) / 1000).toFixed(0)} s)`);
  await sql(`INSERT INTO job_run_steps (id, run_id, index, step_key, name, type, target_id, target_name, status, exit_code, started_at, finished_at, error)
    SELECT gen_random_uuid(), r.id, k, 's' || k, 'Step ' || k, 'winrm.exec', t.id, t.name,
      (CASE WHEN r.status = 'failed' AND k = 2 THEN 'failed' WHEN r.status = 'failed' AND k > 2 THEN 'skipped' WHEN r.status IN ('queued') THEN 'pending' WHEN r.status = 'running' THEN 'running' ELSE 'succeeded' END)::"StepStatus",
      CASE WHEN r.status IN ('succeeded','failed') THEN CASE WHEN r.status = 'failed' AND k = 2 THEN 1 ELSE 0 END END, r.started_at, r.finished_at, NULL
    FROM job_runs r CROSS JOIN generate_series(0, 4) k
    JOIN bench_targets t ON t.n = (abs(hashtext(r.id::text)) + k * 7) % ${TARGETS}`);
  log(`steps written (${((Date.now() - began) / 1000).toFixed(0)} s)`);
  const template = Array.from({ length: LINES_PER_STEP }, (_, l) => `[#] line ${l + 1} of ${LINES_PER_STEP}: service checked, all good\r\n`).join("");
  if (LINES_PER_STEP > 0)
    await sql(`INSERT INTO run_output_chunks (run_id, step_id, stream, sequence, text, at)
      SELECT s.run_id, s.id, 'stdout', s.index + 1, replace('${template}', '#', s.step_key), coalesce(s.finished_at, now()) FROM job_run_steps s WHERE s.status <> 'pending'`);
  log(`output written (${((Date.now() - began) / 1000).toFixed(0)} s)`);

  // The long run: LONG_LINES 100-byte lines in chunks of 80 lines, the last one a needle.
  const longRun = (await prisma.$queryRawUnsafe<{ id: string; step: string }[]>(`SELECT r.id, s.id AS step FROM job_runs r JOIN job_run_steps s ON s.run_id = r.id AND s.index = 0 WHERE r.status = 'succeeded' ORDER BY r.queued_at DESC LIMIT 1`))[0]!;
  await sql(`INSERT INTO run_output_chunks (run_id, step_id, stream, sequence, text, at)
    SELECT '${longRun.id}', '${longRun.step}', 'stdout', 1000 + c,
      (SELECT string_agg('line ' || lpad((c * 80 + l)::text, 7, '0') || ' ' || repeat('-', 85) || E'\\r\\n', '' ORDER BY l) FROM generate_series(1, 80) l WHERE c * 80 + l < ${LONG_LINES})
      || CASE WHEN c = ${Math.ceil(LONG_LINES / 80) - 1} THEN E'the last line: needle-bench\\r\\n' ELSE '' END, now()
    FROM generate_series(0, ${Math.ceil(LONG_LINES / 80) - 1}) c`);
  log(`long run written; building ${indexes.length} indexes (${((Date.now() - began) / 1000).toFixed(0)} s)`);
  for (const index of indexes) await sql(index.def);
  await sql(`VACUUM ANALYZE job_runs`);
  await sql(`VACUUM ANALYZE job_run_steps`);
  await sql(`VACUUM ANALYZE run_output_chunks`);
  const loadSec = (Date.now() - began) / 1000;
  const sizes = (await prisma.$queryRawUnsafe<{ runs: bigint; steps: bigint; chunks: bigint; bytes: bigint }[]>(
    `SELECT (SELECT count(*) FROM job_runs) runs, (SELECT count(*) FROM job_run_steps) steps, (SELECT count(*) FROM run_output_chunks) chunks, pg_database_size(current_database()) bytes`,
  ))[0]!;
  log(`loaded in ${loadSec.toFixed(0)} s: ${JSON.stringify(sizes, (_, v) => (typeof v === "bigint" ? Number(v) : v))}`);

  if (process.env.BENCH_HOLD) {
    log(`holding for inspection: ${bench.databaseUrl} (kill -USR2 ${process.pid} to go on)`);
    await new Promise((resolve) => process.once("SIGUSR2", resolve));
  }
  const { time, api } = await web;
  const ids = await prisma.$queryRawUnsafe<{ job: string; target: string }[]>(`SELECT (SELECT id FROM bench_jobs WHERE n = 17) job, (SELECT id FROM bench_targets WHERE n = 42) target`);
  const { job, target } = ids[0]!;
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  const filters: Record<string, string> = {
    job: `job=${job}`,
    status: "status=failed",
    trigger: "trigger=schedule",
    target: `target=${target}`,
    from: `from=${day(30)}`,
    to: `to=${day(3)}`,
  };
  const cases: [string, string][] = [["no filter", ""]];
  const keys = Object.keys(filters);
  for (const k of keys) cases.push([k, filters[k]!]);
  for (let a = 0; a < keys.length; a++) for (let b = a + 1; b < keys.length; b++) cases.push([`${keys[a]} + ${keys[b]}`, `${filters[keys[a]!]}&${filters[keys[b]!]}`]);
  cases.push(["trigger=schedule + status=timed_out (no match)", "trigger=schedule&status=timed_out"]);
  cases.push(["status=queued,running", "status=queued,running"]);
  cases.push(["status=timed_out + target", `status=timed_out&target=${target}`]);
  // Deep cursors: the position of the run at an offset, as a page's nextCursor names it.
  const at = async (offset: number, where = "TRUE") => {
    const row = (await prisma.$queryRawUnsafe<{ q: Date; id: string }[]>(`SELECT queued_at q, id FROM job_runs WHERE ${where} ORDER BY queued_at DESC, id DESC OFFSET ${offset} LIMIT 1`))[0]!;
    return encodeCursor({ at: row.q.toISOString(), id: row.id });
  };
  const deep: [string, string][] = [
    [`cursor at row ${Math.floor(RUNS / 2).toLocaleString("en-US")}`, `cursor=${await at(Math.floor(RUNS / 2))}`],
    ["cursor at the last page", `cursor=${await at(RUNS - 30)}`],
    ["status=failed, cursor at its 4,000th row", `status=failed&cursor=${await at(Math.min(4000, Math.floor(RUNS / 250)), "status = 'failed'")}`],
  ];
  const list = [...cases, ...deep].map(([name, q]) => ({ group: "list", name: `/api/runs ${name === "no filter" ? "" : `?${name}`}`.trim(), path: `/api/runs?limit=50${q ? `&${q}` : ""}` }));
  // The Runs page's data (runHistory: the first failing step too) for a few of the same filters.
  for (const [name, q] of [["no filter", ""], ["trigger + status", "trigger=schedule&status=timed_out"], ["target + status", `target=${target}&status=failed`]] as const)
    list.push({ group: "list", name: `Runs page, ${name}`, path: `/runs?_data=routes/_app.runs._index${q ? `&${q}` : ""}` });
  const someRun = (await prisma.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM job_runs WHERE status = 'failed' ORDER BY queued_at DESC OFFSET 100 LIMIT 1`))[0]!.id;
  const logs = [
    { group: "log", name: `a ${LINES_PER_STEP * 5}-line run: /log (first 200 lines)`, path: `/api/runs/${someRun}/log?from=1&count=200` },
    { group: "search", name: `a ${LINES_PER_STEP * 5}-line run: /log/search`, path: `/api/runs/${someRun}/log/search?q=all+good` },
    { group: "log", name: `${LONG_LINES.toLocaleString("en-US")}-line run: /log from line 1`, path: `/api/runs/${longRun.id}/log?from=1&count=200` },
    { group: "log", name: `${LONG_LINES.toLocaleString("en-US")}-line run: /log from the middle`, path: `/api/runs/${longRun.id}/log?from=${Math.floor(LONG_LINES / 2)}&count=1000` },
    { group: "log", name: `${LONG_LINES.toLocaleString("en-US")}-line run: /log at the end`, path: `/api/runs/${longRun.id}/log?from=${LONG_LINES - 100}&count=200` },
    { group: "search", name: `${LONG_LINES.toLocaleString("en-US")}-line run: /log/search, only the last line matches`, path: `/api/runs/${longRun.id}/log/search?q=needle-bench` },
    { group: "page", name: "run page data", path: `/runs/${someRun}?_data=${encodeURIComponent("routes/_app.runs.$id")}` },
    { group: "page", name: "dashboard data", path: `/?_data=routes/_app._index` },
    { group: "page", name: "system page data", path: `/system?_data=routes/_app.system` },
  ];
  const all = [...list, ...logs];
  // The long run's line index is built on its first read; that first read is reported on its own.
  const coldIndex = await time(`/api/runs/${longRun.id}/log?from=1&count=200`);
  const matches = (await api<{ items: unknown[] }>("GET", `/api/runs?limit=50&trigger=schedule&status=timed_out`)).items.length;
  log(`${all.length} requests × ${ROUNDS} rounds, interleaved (round 0 warms up)`);
  const samples = new Map<string, number[]>(all.map((c) => [c.path, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const c of all) {
      const took = await time(c.path);
      if (round > 0) samples.get(c.path)!.push(took);
    }
  }
  const goal = (group: string) => (group === "search" ? 200 : group === "list" ? 50 : NaN);
  const rows = all.map((c) => {
    const s = samples.get(c.path)!;
    const [p50, p99] = [quantile(s, 0.5), quantile(s, 0.99)];
    const g = goal(c.group);
    return `| ${c.name} | ${f(p50)} | **${f(p99)}** | ${Number.isNaN(g) ? "–" : `< ${g}${p99 < g ? " ✓" : " ✗"}`} |`;
  });
  const listP99 = Math.max(...list.map((c) => quantile(samples.get(c.path)!, 0.99)));
  const table = [
    machine("node bench/million-runs.ts"),
    "",
    `Data: ${Number(sizes.runs).toLocaleString("en-US")} runs of ${JOBS} jobs over a year (30 s apart), ${Number(sizes.steps).toLocaleString("en-US")} steps on ${TARGETS} targets, ${(RUNS * 5 * LINES_PER_STEP).toLocaleString("en-US")} output lines in ${Number(sizes.chunks).toLocaleString("en-US")} chunks, one run of ${LONG_LINES.toLocaleString("en-US")} lines; database ${(Number(sizes.bytes) / 2 ** 30).toFixed(1)} GiB, written in ${loadSec.toFixed(0)} s. Each request ${ROUNDS} times over HTTP (all requests in turn, one after the other, after a warm-up round), limit=50; p99 of ${ROUNDS} samples is their maximum. trigger=schedule&status=timed_out answered ${matches} runs.`,
    "",
    "| request | p50 ms | p99 ms | goal ms |",
    "|---|---|---|---|",
    ...rows,
    "",
    `Slowest list p99: ${f(listP99)} ms. First read of the ${LONG_LINES.toLocaleString("en-US")}-line run's log (its line index built): ${f(coldIndex)} ms.`,
  ].join("\n");
  await writeSection("million-runs-bench", table);
} finally {
  await bench.cleanup();
}
