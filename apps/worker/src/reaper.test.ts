import { createJob } from "@opsconductor/db";
import { createTestDatabase, createTestHeartbeat, createTestRun, createTestStep } from "@opsconductor/testing";
import { expect, test } from "vitest";
import { reapLostRuns } from "./reaper.ts";

const { prisma } = await createTestDatabase();
const steps = [{ type: "winrm.exec", target: "t", command: "hostname" }];

test("a lost worker's run fails, or goes back to the queue while its job's declared retries last", async () => {
  const plain = await createJob(prisma, { name: "plain", definition: { name: "plain", steps } });
  const retrying = await createJob(prisma, { name: "retrying", definition: { name: "retrying", steps, retries: { limit: 1, delaySec: 5, backoff: true } } });
  await createTestHeartbeat(prisma, { id: "alive" });
  const failed = await createTestRun(prisma, plain, { status: "running", workerId: "ghost", attempt: 1 });
  const requeued = await createTestRun(prisma, retrying, { status: "running", workerId: "ghost", attempt: 1 });
  const exhausted = await createTestRun(prisma, retrying, { status: "running", workerId: "ghost", attempt: 2 });
  const healthy = await createTestRun(prisma, plain, { status: "running", workerId: "alive", attempt: 1 });
  await createTestStep(prisma, failed.id, { status: "running" });

  expect((await reapLostRuns(prisma)).sort()).toEqual([failed.id, requeued.id, exhausted.id].sort());
  const byId = async (id: string) => prisma.jobRun.findUniqueOrThrow({ where: { id } });
  expect(await byId(failed.id)).toMatchObject({ status: "failed", error: expect.stringMatching(/^the worker ghost executing this run stopped responding .*the run did not finish$/) });
  expect((await byId(failed.id)).finishedAt).not.toBeNull();
  expect(await byId(requeued.id)).toMatchObject({ status: "queued", finishedAt: null, error: expect.stringMatching(/the run will be retried$/) });
  expect(await byId(exhausted.id)).toMatchObject({ status: "failed" });
  expect(await byId(healthy.id)).toMatchObject({ status: "running" });
  expect(await prisma.jobRunStep.findFirst({ where: { runId: failed.id } })).toMatchObject({ status: "failed", error: "the worker was lost" });
  expect(await reapLostRuns(prisma)).toEqual([]);
});
