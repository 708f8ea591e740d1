// Retention in a real browser: the system page before any prune pass (the empty state says when the
// worker prunes) and after a real worker's pass (what it removed, which worker, the defaults it
// reported); a job's own policy set on its page by an operator, with bad values refused next to
// their fields and the effective values shown, while a viewer sees it with no control and is
// refused by the form and the API; a run whose output was pruned says so where its log would be.
import { parseMasterKeys, reportRetentionSettings } from "@opsconductor/db";
import { createTestJob, createTestRun, createTestStep, outputLines, uniqueName, writeRunOutput } from "@opsconductor/testing";
import { checkPage, describedText, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import { startTestWorker } from "@opsconductor/testing/worker";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

async function open(role: TestRole, path: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], path);
  return opened;
}

const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).textContent()) ?? "").replace(/\s+/g, " ").trim();
const cookieHeader = (cookies: { name: string; value: string }[]) => cookies.map((c) => `${c.name}=${c.value}`).join("; ");

/** A finished run `days` old with two steps and six output lines. */
async function finishedRun(job: { id: string; currentVersionId: string | null }, days: number) {
  const run = await createTestRun(app.prisma, job, { status: "succeeded", queuedAt: ago(days), startedAt: ago(days), finishedAt: ago(days) });
  for (const index of [0, 1]) await createTestStep(app.prisma, run.id, { index, status: "succeeded", startedAt: ago(days), finishedAt: ago(days), exitCode: 0 });
  await writeRunOutput(app.prisma, run.id, outputLines(1, 6));
  return run;
}

let prunedRunId: string;
let jobId: string;

describe("retention on the system page and the run page", () => {
  test("before the first pass the panel says none ran and when the worker prunes; after a real worker's pass it shows what went, by which worker, and the defaults; the pruned run says so in place of its log", { timeout: 180_000 }, async () => {
    const { context, page, problems } = await open("viewer", "/system");
    const panel = page.getByRole("region", { name: "Retention" });
    await panel.getByText("No prune pass yet").waitFor();
    expect(await panel.textContent()).toContain("No worker has reported its retention settings yet");
    expect(await text(page, "retention-defaults")).toContain("Not reported yet");

    // What a worker records as it starts: now the empty state knows the timer.
    await reportRetentionSettings(app.prisma, "worker-early", { runDays: 30, runCount: 0, outputDays: 7, intervalSec: 3_600, queueJobDays: 2 });
    await page.reload();
    await hydrated(page);
    await panel.getByText("No prune pass yet").waitFor();
    expect(await panel.textContent()).toContain("The worker prunes every hour, the first time about a minute after it starts");
    expect(await text(page, "default-run-days")).toBe("30 days");
    await checkPage(page, "system page, no pass yet", "retention-system-empty");

    // A job with no policy of its own: a run past the 30 days, one past the 7 days of output, one fresh.
    const job = await createTestJob(app.prisma, { name: uniqueName("Nightly cleanup") });
    jobId = job.id;
    const expired = await finishedRun(job, 40);
    const outputOld = await finishedRun(job, 10);
    const fresh = await finishedRun(job, 1);
    prunedRunId = outputOld.id;
    const started = await startTestWorker({ databaseUrl: app.databaseUrl, masterKeys: parseMasterKeys(app.masterKey), scheduler: false, retention: { policy: { runDays: 30, runCount: 0, outputDays: 7 }, intervalMs: 3_600_000, queueJobDays: 2, firstDelayMs: 0 } });
    try {
      // The page refreshes itself every few seconds.
      await panel.getByTestId("retention-last-pass").waitFor({ timeout: 60_000 });
      expect(await text(page, "retention-runs")).toBe("1");
      expect(await text(page, "retention-steps")).toBe("2");
      expect(Number(await text(page, "retention-output-rows"))).toBeGreaterThanOrEqual(12);
      expect(await text(page, "retention-bytes")).toMatch(/^\d+(\.\d)? (B|KiB)$/);
      expect(await text(page, "retention-holder")).toBe(started.worker.id);
      expect(await text(page, "retention-totals")).toContain("Output dropped from 1 kept run.");
      expect(await text(page, "default-run-days")).toBe("30 days");
      expect(await text(page, "default-run-count")).toBe("no limit");
      expect(await text(page, "default-output-days")).toBe("7 days");
      expect(await text(page, "default-interval")).toBe("every hour");
      expect(await text(page, "default-queue-days")).toBe("2 days");
      expect(await text(page, "retention-defaults")).toContain(`As worker ${started.worker.id} reported them`);
      expect(started.problems()).toEqual([]);
    } finally {
      await started.worker.stop();
    }
    await checkPage(page, "system page after a pass", "retention-system-pass");

    expect(await app.prisma.jobRun.count({ where: { id: expired.id } })).toBe(0);
    const kept = await app.prisma.jobRun.findUniqueOrThrow({ where: { id: outputOld.id } });
    expect(kept.outputPrunedAt).not.toBeNull();
    expect(await app.prisma.jobRun.findUniqueOrThrow({ where: { id: fresh.id } })).toMatchObject({ outputPrunedAt: null });

    // The run page: the note where the log was, the status and steps as they were.
    await page.goto(`${app.url}/runs/${outputOld.id}`);
    await hydrated(page);
    const note = page.getByTestId("output-pruned");
    await note.waitFor();
    expect(await text(page, "output-pruned")).toBe(`Output removed on ${kept.outputPrunedAt!.toISOString().slice(0, 16).replace("T", " ")} UTC by the retention policy; status and steps are kept. The job's page shows how long its output is kept.`);
    expect(await page.getByRole("heading", { name: "Log" }).count()).toBe(1);
    expect(await page.getByRole("region", { name: "Run log lines" }).count()).toBe(0);
    expect(await text(page, "run-status")).toBe("succeeded");
    expect(await page.getByRole("link", { name: /^\d\. Step [01]$/ }).count()).toBe(2);
    // The API says so too.
    const token = (await app.login("viewer")).accessToken;
    expect((await app.request("GET", `/api/runs/${outputOld.id}`, { token })).body.outputPrunedAt).toBe(kept.outputPrunedAt!.toISOString());
    // A run that kept its output shows its log as before.
    await page.goto(`${app.url}/runs/${fresh.id}`);
    await page.getByRole("region", { name: "Run log lines" }).getByText("line 6").waitFor();
    expect(await page.getByTestId("output-pruned").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("a job's retention on its page", () => {
  test("an operator sets the job's policy: bad values are refused at their fields (in the browser and by the server), the saved values and the defaults show as in effect", { timeout: 150_000 }, async () => {
    await reportRetentionSettings(app.prisma, "worker-a", { runDays: 90, runCount: 0, outputDays: 0, intervalSec: 3_600, queueJobDays: 7 });
    const job = await createTestJob(app.prisma, { name: uniqueName("Patch Tuesday") });
    const { context, page, problems } = await open("operator", `/jobs/${job.id}`);
    await hydrated(page);
    const section = page.getByRole("region", { name: "Retention" });
    expect(await text(page, "effective-runDays")).toBe("90 days (global default)");
    expect(await text(page, "effective-runCount")).toBe("no limit (global default)");
    expect(await text(page, "effective-outputDays")).toBe("no limit (global default)");
    const runDays = section.getByLabel("Keep runs for (days)");
    const runCount = section.getByLabel("Keep the newest runs");
    const outputDays = section.getByLabel("Drop output after (days)");
    expect(await describedText(page, "Keep runs for (days)")).toContain("Empty: the global default, 90 days. 0: no limit.");

    const bad = "Must be a whole number of days from 0 (no limit) to 36,500, or empty for the global default.";
    await runDays.fill("-1");
    await runCount.focus();
    await expect.poll(() => describedText(page, "Keep runs for (days)")).toContain(bad);
    expect(await runDays.getAttribute("aria-invalid")).toBe("true");
    await runDays.fill("1.5");
    await expect.poll(() => describedText(page, "Keep runs for (days)")).toContain(bad);
    await runDays.fill("5");
    await expect.poll(() => describedText(page, "Keep runs for (days)")).not.toContain(bad);
    await runCount.fill("many");
    await outputDays.focus();
    await expect.poll(() => describedText(page, "Keep the newest runs")).toContain("Must be a whole number of runs from 0 (no limit) to 100,000,000");
    await runCount.fill("");
    await outputDays.fill("10");
    await section.getByRole("button", { name: "Save retention" }).click();
    await expect.poll(() => describedText(page, "Drop output after (days)")).toContain("Must be at most the days this job keeps its runs (5): a run's output goes with the run.");
    expect(await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ retentionDays: null, outputRetentionDays: null });
    await checkPage(page, "job page, refused retention", "retention-job-errors");

    // Without the browser's check, the server refuses the same, naming the field, and changes nothing.
    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
    const post = (fields: Record<string, string>) => fetch(`${app.url}/jobs/${job.id}`, { method: "POST", headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, intent: "retention", ...fields }) });
    expect((await post({ runDays: "5", runCount: "", outputDays: "10" })).status).toBe(400);
    expect((await post({ runDays: "-3", runCount: "", outputDays: "" })).status).toBe(400);
    expect(await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ retentionDays: null, outputRetentionDays: null });

    await outputDays.fill("2");
    await section.getByRole("button", { name: "Save retention" }).click();
    await page.getByText(`Retention of ${job.name} saved.`).waitFor();
    await expect.poll(() => text(page, "effective-runDays")).toBe("5 days (this job)");
    expect(await text(page, "effective-runCount")).toBe("no limit (global default)");
    expect(await text(page, "effective-outputDays")).toBe("2 days (this job)");
    expect(await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ retentionDays: 5, retentionRuns: null, outputRetentionDays: 2 });
    expect(await app.prisma.auditLog.count({ where: { action: "job.update", entityId: job.id } })).toBe(1);
    // The API reads what the page saved.
    const token = (await app.login("viewer")).accessToken;
    expect((await app.request("GET", `/api/jobs/${job.id}`, { token })).body.retention).toEqual({ runDays: 5, runCount: null, outputDays: 2 });

    // Emptied, a field goes back to the default.
    await runDays.fill("");
    await section.getByRole("button", { name: "Save retention" }).click();
    await expect.poll(() => text(page, "effective-runDays")).toBe("90 days (global default)");
    expect(await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ retentionDays: null, outputRetentionDays: 2 });
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a viewer sees the job's policy with no control, and the form and the API refuse a viewer's change", { timeout: 90_000 }, async () => {
    const job = await createTestJob(app.prisma, { name: uniqueName("Read only") });
    await app.prisma.job.update({ where: { id: job.id }, data: { retentionDays: 14 } });
    const { context, page, problems } = await open("viewer", `/jobs/${job.id}`);
    await hydrated(page);
    const section = page.getByRole("region", { name: "Retention" });
    await section.waitFor();
    expect(await text(page, "effective-runDays")).toBe("14 days (this job)");
    expect(await section.getByRole("textbox").count()).toBe(0);
    expect(await section.getByRole("button").count()).toBe(0);

    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
    const res = await fetch(`${app.url}/jobs/${job.id}`, { method: "POST", headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, intent: "retention", runDays: "1", runCount: "", outputDays: "" }) });
    expect(res.status).toBe(403);
    const token = (await app.login("viewer")).accessToken;
    const api = await app.request("PATCH", `/api/jobs/${job.id}`, { token, body: { retention: { runDays: 1 } } });
    expect(api.status).toBe(403);
    expect(await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ retentionDays: 14 });
    expect(problems).toEqual([]);
    await context.close();
  });

  test("the system, job and pruned-run pages pass the page checks at 1280 and 390 px, light and dark", { timeout: 240_000 }, async () => {
    for (const width of [1280, 390]) {
      for (const colorScheme of ["light", "dark"] as const) {
        const { context, page, problems } = await open("operator", "/system", { width, colorScheme });
        await page.getByRole("region", { name: "Retention" }).getByTestId("retention-last-pass").waitFor();
        await checkPage(page, `system page at ${width} px, ${colorScheme}`, `retention-system-${width}-${colorScheme}`);
        await page.goto(`${app.url}/jobs/${jobId}`);
        await hydrated(page);
        await page.getByRole("region", { name: "Retention" }).getByLabel("Keep runs for (days)").waitFor();
        await checkPage(page, `job page at ${width} px, ${colorScheme}`, `retention-job-${width}-${colorScheme}`);
        await page.goto(`${app.url}/runs/${prunedRunId}`);
        await page.getByTestId("output-pruned").waitFor();
        await checkPage(page, `pruned run at ${width} px, ${colorScheme}`, `retention-run-${width}-${colorScheme}`);
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
