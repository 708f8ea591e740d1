import { createTestDatabase } from "@opsconductor/testing";
import { PgBoss } from "pg-boss";
import { afterAll, expect, test } from "vitest";
import { fetchAgainAfterJob } from "./worker.ts";

const { url } = await createTestDatabase();
const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
await boss.start();
afterAll(() => boss.stop({ graceful: false }));

// pg-boss waits out the rest of a slot's poll after each job; with a 30 s poll, five queued jobs would
// take about two minutes one slot at a time. A slot woken after its job fetches the next at once.
test("a slot that finished a job fetches the next queued job at once instead of waiting out its poll", async () => {
  await boss.createQueue("fetch-again");
  for (let i = 0; i < 5; i++) await boss.send("fetch-again", { i });
  const done: number[] = [];
  const workId: { id?: string } = {};
  workId.id = await boss.work<{ i: number }>("fetch-again", { localConcurrency: 1, pollingIntervalSeconds: 30 }, async ([job]) => {
    done.push(job!.data.i);
    fetchAgainAfterJob(boss, workId.id);
  });
  const deadline = Date.now() + 20_000;
  while (done.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(done.sort()).toEqual([0, 1, 2, 3, 4]);
  await boss.offWork("fetch-again");
});

test("an idle registration is left alone: no slot is woken when none holds a job", async () => {
  await boss.createQueue("fetch-again-idle");
  const seen: number[] = [];
  const workId = await boss.work<{ i: number }>("fetch-again-idle", { localConcurrency: 2, pollingIntervalSeconds: 30 }, async ([job]) => {
    seen.push(job!.data.i);
  });
  // Let both slots make their first (empty) fetch and go to sleep for 30 s.
  await new Promise((r) => setTimeout(r, 1_000));
  await boss.send("fetch-again-idle", { i: 1 });
  fetchAgainAfterJob(boss, workId);
  await new Promise((r) => setTimeout(r, 2_000));
  expect(seen).toEqual([]);
  await boss.offWork("fetch-again-idle", { wait: false });
});
