// The Jobs pages in a real browser: the list (search, state filter, last run, next scheduled run,
// who changed a job last), and what each role may see and do there.
import { createTestJob, createTestRun, createTestSchedule, uniqueName } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();

async function signedIn(role: TestRole, next: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], next);
  return opened;
}

/** A job made through the data layer as the API stores it, saved by `role`'s user. */
async function seedJob(name: string, role: TestRole = "operator", extra: { description?: string } = {}) {
  const job = await createTestJob(app.prisma, { name, createdById: app.users[role].id, definition: { name, version: 1, parameters: {}, steps: [{ type: "winrm.exec", target: "srv-1", shell: "powershell", command: "hostname", timeoutSec: 3600, continueOnError: false }], ...extra } });
  if (extra.description) await app.prisma.job.update({ where: { id: job.id }, data: { description: extra.description } });
  return job;
}

describe("the jobs list", () => {
  test("shows each job's state, last run, next scheduled run and last change; search and state filters narrow it; it sorts by name", { timeout: 120_000 }, async () => {
    const marker = uniqueName("listed");
    const ran = await seedJob(`${marker}-alpha`, "operator", { description: "Restarts the print spooler" });
    const scheduled = await seedJob(`${marker}-beta`, "admin");
    const idle = await seedJob(`${marker}-gamma`);
    await app.prisma.job.update({ where: { id: idle.id }, data: { active: false } });
    await createTestRun(app.prisma, ran, { status: "succeeded", queuedAt: new Date("2026-11-01T10:00:00Z") });
    const failed = await createTestRun(app.prisma, ran, { status: "failed", queuedAt: new Date("2026-11-02T10:00:00Z"), finishedAt: new Date("2026-11-02T10:05:00Z") });
    await createTestSchedule(app.prisma, { jobId: scheduled.id, nextRunAt: new Date("2027-01-01T06:30:00Z") });
    await createTestSchedule(app.prisma, { jobId: scheduled.id, nextRunAt: new Date("2027-01-01T05:00:00Z"), enabled: false });

    const { context, page, problems } = await signedIn("operator", "/");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Jobs" }).click();
    await page.waitForURL(`${app.url}/jobs`);
    await page.getByRole("heading", { level: 1, name: "Jobs" }).waitFor();
    expect(await page.title()).toBe("OpsConductor · Jobs");
    await page.getByRole("link", { name: "New job" }).waitFor();

    const filters = page.getByRole("search", { name: "Filter jobs" });
    await filters.getByLabel("Search name or description").fill(marker);
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/q=listed/);
    const table = page.getByRole("table", { name: "Jobs" });
    const names = () => table.locator("tbody tr td:first-child a").allTextContents();
    // Newest first by default.
    await expect.poll(names).toEqual([`${marker}-gamma`, `${marker}-beta`, `${marker}-alpha`]);

    const row = (name: string) => table.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
    const alpha = await row(`${marker}-alpha`).textContent();
    expect(alpha).toContain("Restarts the print spooler");
    expect(alpha).toContain("active");
    expect(alpha).toContain("2026-11-02 10:05 UTC");
    expect(alpha).toContain("v1 by operator");
    await row(`${marker}-alpha`).getByRole("link", { name: /Last run of .*: failed/ }).waitFor();
    expect(await row(`${marker}-alpha`).getByRole("link", { name: /Last run/ }).getAttribute("href")).toBe(`/runs/${failed.id}`);
    // The earliest enabled schedule; a disabled one does not count.
    const beta = await row(`${marker}-beta`).textContent();
    expect(beta).toContain("2027-01-01 06:30 UTC");
    expect(beta).toContain("Never run");
    expect(beta).toContain("by admin");
    expect(await row(`${marker}-gamma`).textContent()).toContain("inactive");

    await filters.getByLabel("State").selectOption({ label: "Inactive" });
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/active=false/);
    await expect.poll(names).toEqual([`${marker}-gamma`]);

    await filters.getByLabel("State").selectOption({ label: "Any state" });
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL((url) => url.searchParams.get("active") === "");
    await table.getByRole("link", { name: "Name" }).click();
    await page.waitForURL(/sort=name/);
    await expect.poll(names).toEqual([`${marker}-alpha`, `${marker}-beta`, `${marker}-gamma`]);
    await table.getByRole("link", { name: "Name" }).click();
    await page.waitForURL(/sort=-name/);
    await expect.poll(names).toEqual([`${marker}-gamma`, `${marker}-beta`, `${marker}-alpha`]);

    // Nothing matches: the empty state says how to see every job.
    await page.goto(`${app.url}/jobs?q=${marker}-nothing`);
    await page.getByText("No job matches these filters").waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a viewer sees the jobs but no control to create one", { timeout: 120_000 }, async () => {
    const name = uniqueName("viewed");
    await seedJob(name);
    const { context, page, problems } = await signedIn("viewer", `/jobs?q=${name}`);
    await page.getByRole("table", { name: "Jobs" }).getByRole("link", { name }).waitFor();
    expect(await page.getByRole("link", { name: "New job" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("every jobs page at 1280 and 390 px, light and dark", () => {
  test("no horizontal page scroll, no serious or critical axe violation, every control named", { timeout: 240_000 }, async () => {
    const name = uniqueName("checked");
    await seedJob(name, "admin", { description: "A job with a rather long description that has to wrap on a phone instead of widening the page" });
    const pages = [{ name: "jobs", path: "/jobs" }];
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await signedIn("admin", "/", { width, colorScheme });
        for (const { name: shot, path } of pages) {
          await page.goto(`${app.url}${path}`);
          await hydrated(page);
          await checkPage(page, `${shot} admin ${width} ${colorScheme}`, `${shot}-${width}-${colorScheme}`);
        }
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
