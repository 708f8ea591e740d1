import pg from "pg";
import { PgBoss } from "pg-boss";
import { afterAll, expect, test } from "vitest";
import { createJob } from "./jobs.ts";
import { notifyRun, RUN_EVENTS_CHANNEL } from "./events.ts";
import { enqueueRun, ensureRunQueues, RUN_QUEUE } from "./queue.ts";
import { createTestDatabase } from "../testing/index.ts";

const { url, prisma } = await createTestDatabase();
const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
boss.on("error", (error) => {
  throw error;
});
await boss.start();
afterAll(() => boss.stop({ graceful: false }));
const definition = { name: "queue test", version: 1, steps: [] };

test("a run and its queue job are created together, and the job id is the run id", async () => {
  await ensureRunQueues(boss);
  await ensureRunQueues(boss); // idempotent
  const job = await createJob(prisma, { name: "enqueue", definition });
  const { run, created } = await enqueueRun(prisma, boss, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: { svc: "Spooler" } });
  expect(created).toBe(true);
  expect(run.queueJobId).toBe(run.id);
  const queued = await boss.getJobById(RUN_QUEUE, run.id);
  expect(queued?.data).toEqual({ runId: run.id });
});

test("the run queue wakes listening workers on send, also when it was created before that", async () => {
  await ensureRunQueues(boss);
  expect((await boss.getQueue(RUN_QUEUE))?.notify).toBe(true);
  await boss.updateQueue(RUN_QUEUE, { notify: false });
  expect((await boss.getQueue(RUN_QUEUE))?.notify).toBe(false);
  await ensureRunQueues(boss);
  expect((await boss.getQueue(RUN_QUEUE))?.notify).toBe(true);
});

test("the same idempotency key returns the same run and sends nothing more", async () => {
  const job = await createJob(prisma, { name: "idempotent enqueue", definition });
  const input = { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: {}, idempotencyKey: "deploy-7" };
  const first = await enqueueRun(prisma, boss, input);
  const again = await enqueueRun(prisma, boss, input);
  expect(again).toMatchObject({ created: false, run: { id: first.run.id } });
  const [count] = await prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND data->>'runId' = $2`, RUN_QUEUE, first.run.id);
  expect(Number(count!.n)).toBe(1);
});

test("when sending the job fails, no run row is left behind", async () => {
  const job = await createJob(prisma, { name: "half written", definition });
  const broken = { send: async () => Promise.reject(new Error("queue unavailable")) } as unknown as PgBoss;
  await expect(enqueueRun(prisma, broken, { jobId: job.id, jobVersionId: job.currentVersionId!, parameters: {} })).rejects.toThrow("queue unavailable");
  expect(await prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);
});

test("a run notice sent inside a transaction reaches listeners only at commit", async () => {
  const listener = new pg.Client({ connectionString: url });
  await listener.connect();
  const received: string[] = [];
  listener.on("notification", (n) => received.push(n.payload ?? ""));
  await listener.query(`LISTEN ${RUN_EVENTS_CHANNEL}`);
  try {
    await prisma.$transaction(async (tx) => {
      await notifyRun(tx, { runId: "r1", kind: "output", sequence: 3 });
      await new Promise((r) => setTimeout(r, 100));
      expect(received).toEqual([]);
    });
    const deadline = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received.map((p) => JSON.parse(p))).toEqual([{ runId: "r1", kind: "output", sequence: 3 }]);
  } finally {
    await listener.end();
  }
});
