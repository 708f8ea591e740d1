import { Writable } from "node:stream";
import { createTestDatabase } from "@opsconductor/db/testing";
import { pino } from "pino";
import { expect, test } from "vitest";
import { parseWorkerEnv } from "./env.ts";
import { startWorker } from "./worker.ts";

const { url, prisma } = await createTestDatabase();

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

test("a worker starts pg-boss, reports ready with a heartbeat row, and removes it when stopped", async () => {
  const { logger, lines } = captureLogger();
  const worker = await startWorker({ databaseUrl: url, concurrency: 3, logger, id: "worker-under-test" });
  try {
    const row = await prisma.workerHeartbeat.findUniqueOrThrow({ where: { id: "worker-under-test" } });
    expect(row).toMatchObject({ pid: process.pid, concurrency: 3 });
    expect(Date.now() - row.lastSeenAt.getTime()).toBeLessThan(10_000);
    const [schema] = await prisma.$queryRaw<{ exists: boolean }[]>`SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = 'pgboss') AS exists`;
    expect(schema?.exists).toBe(true);
    expect(lines.some((l) => l.msg === "worker ready" && l.workerId === "worker-under-test")).toBe(true);
  } finally {
    await worker.stop();
  }
  expect(await prisma.workerHeartbeat.count({ where: { id: "worker-under-test" } })).toBe(0);
  expect(lines.at(-1)?.msg).toBe("worker stopped");
});

test("configuration errors name the variable", () => {
  expect(() => parseWorkerEnv({})).toThrow(/DATABASE_URL is not set/);
  expect(() => parseWorkerEnv({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL must be a postgresql:\/\/ connection string/);
  expect(() => parseWorkerEnv({ DATABASE_URL: "postgresql://x", WORKER_CONCURRENCY: "0" })).toThrow(/WORKER_CONCURRENCY/);
  expect(parseWorkerEnv({ DATABASE_URL: "postgresql://x" })).toMatchObject({ WORKER_CONCURRENCY: 4, LOG_LEVEL: "info" });
});
