// The System page and the dashboard in a real browser against real workers: charts drawn from the
// metrics history, dead-lettered runs retried and discarded by an admin (and only seen by a viewer),
// and a real worker process killed while it runs a job: the page shows it offline within the
// heartbeat window, and the run it had as failed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { enqueueRun, ensureRunQueues, RUN_DEAD_LETTER_QUEUE, RUN_QUEUE, WORKER_STALE_AFTER_MS } from "@opsconductor/db";
import { waitForRun } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import { createWorkerFixture, startTestWorker } from "@opsconductor/testing/worker";
import { PgBoss } from "pg-boss";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();
const fixture = await createWorkerFixture(app.prisma);
const WORKER_DIR = join(import.meta.dirname, "..", "..", "worker");

// The test's own queue client: it sends and fails queue jobs as a worker would, but works none.
const boss = new PgBoss({ connectionString: app.databaseUrl, max: 2, supervise: false, schedule: false });
await boss.start();
await ensureRunQueues(boss);
afterAll(() => boss.stop({ graceful: false }));

async function open(role: TestRole, path: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], path);
  await hydrated(opened.page);
  return opened;
}

const minuteAgo = (minutes: number) => new Date(Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000);
const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();

describe("the system page", () => {
  test("its charts and the dashboard's are drawn from the metrics history the workers write", { timeout: 120_000 }, async () => {
    // Rows as workers write them: two minutes of an earlier day, one of an hour ago; nothing ran in this database yet.
    await app.prisma.metricRollup.createMany({
      data: [
        { minute: minuteAgo(3 * 24 * 60), runsStarted: 30, runsSucceeded: 25, runsFailed: 5, queueDepth: 12, stepP95Ms: 4_000 },
        { minute: minuteAgo(3 * 24 * 60 - 1), runsStarted: 10, runsSucceeded: 5, runsFailed: 5, queueDepth: 3 },
        { minute: minuteAgo(90), runsStarted: 8, runsSucceeded: 6, runsFailed: 2, schedulerLagMs: 1_500 },
      ],
    });
    const { context, page, problems } = await open("viewer", "/system");
    await page.getByRole("heading", { level: 1, name: "System" }).waitFor();
    expect(await text(page, "history-started")).toBe("0");
    await page.getByRole("navigation", { name: "Chart range" }).getByRole("link", { name: "Last week" }).click();
    await expect.poll(() => text(page, "history-started")).toBe("48");
    expect(await text(page, "history-outcomes")).toBe("36 / 12");
    // The charts draw the same history: a canvas each, and the data table beside it holds one row per hour of the week.
    const runsChart = page.getByTestId("chart-runs");
    await runsChart.locator("canvas").first().waitFor();
    await expect.poll(() => runsChart.locator("tbody tr").count()).toBe(168);
    const startedCells = await runsChart.locator("tbody tr td:nth-of-type(1)").allTextContents();
    expect(startedCells.map(Number).reduce((a, b) => a + b, 0)).toBe(48);
    await page.getByTestId("chart-queue").locator("canvas").first().waitFor();
    await page.getByRole("link", { name: "Last day" }).click();
    await expect.poll(() => text(page, "history-started")).toBe("8");
    expect(page.url()).toBe(`${app.url}/system?range=day`);

    await page.goto(`${app.url}/`);
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    expect(await text(page, "volume-started")).toBe("8");
    expect(await text(page, "success-rate")).toBe("75%");
    const success = page.getByTestId("chart-success");
    await success.locator("canvas").first().waitFor();
    expect(await success.locator("tbody td").allTextContents()).toContain("75%");
    await page.getByTestId("chart-volume").locator("canvas").first().waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an admin retries one dead-lettered run and discards another; a viewer sees them with no controls and is refused", { timeout: 180_000 }, async () => {
    const { jobId, versionId } = await fixture.job({ name: "Dead letter", steps: [{ type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "hostname" }] });
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push((await enqueueRun(app.prisma, boss, { jobId, jobVersionId: versionId, parameters: {} })).run);
    // What a lost claim leaves: each run failed, its queue job failed for the last time, so pg-boss dead-letters it.
    const jobs = await boss.fetch(RUN_QUEUE, { batchSize: 2 });
    expect(jobs).toHaveLength(2);
    for (const job of jobs) {
      await app.prisma.jobRun.update({ where: { id: (job.data as { runId: string }).runId }, data: { status: "failed", finishedAt: new Date(), error: "the worker executing this run stopped responding" } });
      await boss.fail(RUN_QUEUE, job.id, new Error("handler missed its heartbeat"));
    }
    await expect.poll(async () => (await boss.findJobs(RUN_DEAD_LETTER_QUEUE)).length).toBe(2);

    // A viewer: the list and the reason, no controls; a forged form is refused and changes nothing.
    const viewer = await open("viewer", "/system");
    await viewer.page.getByTestId("dead-lettered").getByText("handler missed its heartbeat").first().waitFor();
    expect(await viewer.page.getByTestId("dead-lettered").getByRole("listitem").count()).toBe(2);
    expect(await viewer.page.getByRole("button", { name: /Retry|Discard/ }).count()).toBe(0);
    const csrf = (await viewer.context.cookies()).find((c) => c.name === "oc_csrf")!.value;
    const cookie = (await viewer.context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const [dead] = await boss.findJobs(RUN_DEAD_LETTER_QUEUE);
    const forged = await fetch(`${app.url}/system`, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ intent: "discard", queueJobId: dead!.id, csrf }) });
    expect(forged.status).toBe(403);
    expect(await boss.findJobs(RUN_DEAD_LETTER_QUEUE)).toHaveLength(2);
    expect(viewer.problems).toEqual([]);
    await viewer.context.close();

    const { context, page, problems } = await open("admin", "/system");
    const list = page.getByTestId("dead-lettered");
    await list.getByRole("listitem").first().waitFor();
    await checkPage(page, "system page (admin) at 1280 px, light", "system-1280-light");
    await page.getByRole("button", { name: "Retry Dead letter" }).first().click();
    const dialog = page.getByRole("dialog", { name: /Retry/ });
    await dialog.getByRole("button", { name: "Retry run" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("The run is queued again.");
    await expect.poll(() => list.getByRole("listitem").count()).toBe(1);
    const statuses = await app.prisma.jobRun.findMany({ where: { id: { in: runs.map((r) => r.id) } }, select: { status: true } });
    expect(statuses.map((r) => r.status).sort()).toEqual(["failed", "queued"]);

    // The dialog opens while a live refresh is under way (held until then): the refresh, which clears
    // the last action's answer, must leave the open dialog alone.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const isRefresh = (url: URL) => url.pathname.endsWith(".data");
    await page.route(isRefresh, async (route) => {
      await held;
      await route.continue();
    });
    const refreshing = page.waitForRequest((request) => isRefresh(new URL(request.url())), { timeout: 20_000 });
    await refreshing;
    await page.getByRole("button", { name: "Discard Dead letter" }).click();
    const refreshed = page.waitForResponse((response) => isRefresh(new URL(response.url())));
    release();
    await refreshed;
    await page.unroute(isRefresh);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await page.locator("dialog[open]").count()).toBe(1);
    await page.getByRole("dialog", { name: /Discard/ }).getByRole("button", { name: "Discard" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Dead-lettered queue job discarded.");
    await page.getByTestId("dead-lettered").waitFor({ state: "detached" });
    expect(await boss.findJobs(RUN_DEAD_LETTER_QUEUE)).toHaveLength(0);
    const after = await app.prisma.jobRun.findMany({ where: { id: { in: runs.map((r) => r.id) } }, select: { status: true } });
    expect(after.map((r) => r.status).sort()).toEqual(["failed", "queued"]);
    const audited = await app.prisma.auditLog.findMany({ where: { action: { startsWith: "run.dead_letter" } }, select: { action: true } });
    expect(audited.map((a) => a.action).sort()).toEqual(["run.dead_letter_discard", "run.dead_letter_retry"]);
    expect(problems).toEqual([]);
    await context.close();
    // The retried run is an ordinary queued run: the next test's worker executes it.
  });

  test("a killed worker process shows offline within the heartbeat window, and the run it had as failed", { timeout: 240_000 }, async () => {
    const doomedId = `doomed-${randomBytes(3).toString("hex")}`;
    const child = spawn(process.execPath, ["--conditions=@opsconductor/source", "src/main.ts"], {
      cwd: WORKER_DIR,
      env: { ...process.env, DATABASE_URL: app.databaseUrl, OPSCONDUCTOR_MASTER_KEY: `test:${fixture.masterKeys.keys.test}`, WORKER_ID: doomedId, METRICS_PORT: "0", WORKER_CONCURRENCY: "1", WORKER_HEARTBEAT_SEC: "1", WORKER_LEASE_SEC: "3", LOG_LEVEL: "warn" },
      stdio: "ignore",
    });
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    try {
      const slow = await fixture.job({ name: "Long step", steps: [{ type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "Start-Sleep -Seconds 300", timeoutSec: 600 }] });
      const { run } = await enqueueRun(app.prisma, boss, { jobId: slow.jobId, jobVersionId: slow.versionId, parameters: {} });
      await waitForRun(app.prisma, run.id, (r) => r.status === "running" && r.workerId === doomedId, 90_000);

      const { context, page, problems } = await open("operator", "/system");
      await expect.poll(() => text(page, `worker-state-${doomedId}`)).toBe("online");
      expect(await text(page, `worker-running-${doomedId}`)).toBe("1");
      child.kill("SIGKILL");
      await exited;
      const killedAt = Date.now();
      // A second worker, which reaps the runs of a worker unseen for its lease.
      const { worker: survivor } = await startTestWorker({ databaseUrl: app.databaseUrl, masterKeys: fixture.masterKeys, id: "survivor", heartbeatIntervalMs: 1_000, leaseMs: 3_000, scheduler: false });

      // No reload: the page follows by itself.
      await expect.poll(() => text(page, `worker-state-${doomedId}`), { timeout: WORKER_STALE_AFTER_MS + 15_000 }).toBe("offline");
      expect(Date.now() - killedAt).toBeLessThan(WORKER_STALE_AFTER_MS + 15_000);
      await expect.poll(() => text(page, `worker-running-${doomedId}`), { timeout: 30_000 }).toBe("0");
      const runs = page.getByTestId(`worker-runs-${doomedId}`);
      await runs.getByText("Long step").waitFor();
      expect(await runs.textContent()).toMatch(/Long step.*failed.*stopped responding/);
      expect(await text(page, `worker-state-${survivor.id}`)).toBe("online");
      expect((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("failed");
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("light and dark at 1280 and 390 px: no sideways scroll, no serious axe violation, every control named (system and dashboard)", { timeout: 240_000 }, async () => {
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await open("admin", "/system", { width, colorScheme });
        await page.getByRole("heading", { level: 1, name: "System" }).waitFor();
        await checkPage(page, `system at ${width} px, ${colorScheme}`, `system-${width}-${colorScheme}`);
        await page.goto(`${app.url}/`);
        await hydrated(page);
        await page.getByTestId("panel-in-progress").waitFor();
        await checkPage(page, `dashboard (admin, with data) at ${width} px, ${colorScheme}`, `dashboard-data-${width}-${colorScheme}`);
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
