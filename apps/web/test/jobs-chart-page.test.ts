// The job page's run-history charts in a real browser: finished runs of known durations on two
// days give the success rate and the p50/p95 durations PostgreSQL computes; hovering the chart
// shows the values at that time; the data table carries the same numbers for screen readers;
// the page passes axe and the 390 px check in light and dark with the charts drawn.
import { createTestJob, createTestRun, uniqueName } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();

const DAY = 24 * 60 * 60 * 1000;

/** A job with runs finishing today (1, 2, 3 s succeeded, 10 s failed, one canceled) and yesterday (4 s and 6 s succeeded). */
async function jobWithHistory() {
  const job = await createTestJob(app.prisma, { name: uniqueName("charted"), createdById: app.users.operator.id });
  const today = new Date();
  today.setUTCHours(12, 0, 0, 0);
  const finished = async (status: "succeeded" | "failed" | "canceled", seconds: number, end: Date) =>
    createTestRun(app.prisma, job, { status, startedAt: new Date(end.getTime() - seconds * 1000), finishedAt: end });
  const now = new Date(Math.min(Date.now(), today.getTime()));
  for (const s of [1, 2, 3]) await finished("succeeded", s, now);
  await finished("failed", 10, now);
  await finished("canceled", 500, now);
  const yesterday = new Date(now.getTime() - DAY);
  for (const s of [4, 6]) await finished("succeeded", s, yesterday);
  return job;
}

describe("job page charts", () => {
  test("success rate and p50/p95 per day from known runs; hover shows the values; the data table has them too", async () => {
    const job = await jobWithHistory();
    const { context, page, problems } = await openPage(browser());
    await signIn(page, app.url, "viewer", PASSWORDS.viewer, `/jobs/${job.id}`);
    await hydrated(page);
    await expect.poll(() => page.getByTestId("charts-summary").textContent()).toContain("6 finished runs (canceled ones not counted): 5 succeeded, 1 failed or timed out");

    const success = page.getByTestId("chart-success");
    const duration = page.getByTestId("chart-duration");
    await success.locator("canvas").waitFor();
    await duration.locator("canvas").waitFor();

    // The right edge of the plot is today's bucket.
    const over = success.locator(".u-over");
    // The chart may be redrawn once as its width settles: wait for a plot area that is laid out.
    let box: { x: number; y: number; width: number; height: number } | null = null;
    await expect.poll(async () => (box = await over.boundingBox()) !== null).toBe(true);
    box = box!;
    await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
    await expect.poll(() => success.getByTestId("chart-readout").textContent()).toMatch(/Success rate 75%$/);
    const durationOver = duration.locator(".u-over");
    let dbox: { x: number; y: number; width: number; height: number } | null = null;
    await expect.poll(async () => (dbox = await durationOver.boundingBox()) !== null).toBe(true);
    dbox = dbox!;
    await page.mouse.move(dbox.x + dbox.width - 1, dbox.y + dbox.height / 2);
    // percentile_cont over 1, 2, 3, 10 s: p50 2.5 s, p95 3 + 0.85 × 7 = 8.95 s.
    await expect.poll(() => duration.getByTestId("chart-readout").textContent()).toMatch(/p50 2\.50 s, p95 8\.95 s$/);

    // Keyboard: focus the chart, step one point back to yesterday (4 and 6 s: p50 5 s, p95 5.9 s, all succeeded).
    await success.getByRole("group").focus();
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => success.getByTestId("chart-readout").textContent()).toMatch(/Success rate 100%$/);
    await duration.getByRole("group").focus();
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => duration.getByTestId("chart-readout").textContent()).toMatch(/p50 5\.00 s, p95 5\.90 s$/);

    // The visually hidden table: one row per day of the window, the values in words.
    const rows = duration.locator("table tbody tr");
    await expect.poll(() => rows.count()).toBe(30);
    expect(await rows.last().locator("td").allTextContents()).toEqual(["2.50 s", "8.95 s"]);
    expect(await success.locator("table tbody tr").nth(28).locator("td").allTextContents()).toEqual(["100%"]);
    expect(await success.locator("table tbody tr").first().locator("td").allTextContents()).toEqual(["no data"]);

    // The hourly window: one row per hour of the last 48.
    await page.getByRole("link", { name: "48 hours" }).click();
    await expect.poll(() => duration.locator("table tbody tr").count()).toBe(48);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a job without finished runs says so instead of drawing empty charts", async () => {
    const job = await createTestJob(app.prisma, { name: uniqueName("uncharted") });
    await createTestRun(app.prisma, job, { status: "running" });
    const { context, page, problems } = await openPage(browser());
    await signIn(page, app.url, "viewer", PASSWORDS.viewer, `/jobs/${job.id}`);
    await expect.poll(() => page.getByTestId("charts-summary").textContent()).toBe("No run finished in this window.");
    expect(await page.getByTestId("chart-success").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("axe and 390 px with the charts drawn, light and dark", async () => {
    const job = await jobWithHistory();
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await openPage(browser(), { width, colorScheme });
        await signIn(page, app.url, "viewer", PASSWORDS.viewer, `/jobs/${job.id}`);
        await hydrated(page);
        await page.getByTestId("chart-duration").locator("canvas").waitFor();
        await checkPage(page, `job charts ${width} ${colorScheme}`, `job-charts-${width}-${colorScheme}`);
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  }, 180_000);
});
