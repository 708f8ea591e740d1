// The schedule pages and the scheduler page in a real browser against a real worker: an operator
// builds a 01:30 daily schedule in America/New_York with the cron builder and the preview marks the
// DST days; a seconds-level schedule fires and its runs appear on its page without a reload; an
// admin stops and starts the scheduler and the worker honours it; a viewer sees everything with no
// controls. checkPage (axe + 390 px) light and dark on every page.
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import { createWorkerFixture, startTestWorker, type TestWorker } from "@opsconductor/testing/worker";
import { describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();
const browser = useBrowser();
const fixture = await createWorkerFixture(app.prisma);
const step = { type: "winrm.exec", shell: "powershell", target: fixture.targetName, command: "hostname" };
const backup = await fixture.job({ name: "Nightly backup", parameters: { label: { type: "string", default: "nightly" }, apiKey: { type: "secret", required: false } }, steps: [step] });
const ping = await fixture.job({ name: "Ping", steps: [step] });

async function open(role: TestRole, path: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], path);
  await hydrated(opened.page);
  return opened;
}

let worker: TestWorker | undefined;
async function schedulerWorker(): Promise<TestWorker> {
  worker ??= await startTestWorker({ databaseUrl: app.databaseUrl, masterKeys: fixture.masterKeys, id: "schedules-page-worker" });
  return worker;
}

describe("creating a schedule", () => {
  test("an operator builds 01:30 daily in America/New_York; the preview marks the spring-forward and fall-back days", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await open("operator", "/schedules");
    await page.getByRole("link", { name: "New schedule" }).first().click();
    await page.getByRole("heading", { level: 1, name: "New schedule" }).waitFor();
    await hydrated(page);
    await page.getByLabel("Job", { exact: true }).selectOption({ label: backup.name });
    // The job's secret parameter is not offered, and the form says why.
    await expect.poll(() => page.getByTestId("secret-note").textContent()).toContain("Secret parameters cannot be scheduled");
    expect(await page.getByLabel("apiKey").count()).toBe(0);
    await page.getByLabel("label", { exact: false }).first().fill("dst-check");

    // The raw field is checked as you type.
    const raw = page.getByLabel("Cron expression");
    await raw.fill("61 * * * *");
    await expect.poll(() => page.getByText(/is not a valid cron expression/).count()).toBe(1);

    await page.getByLabel("Repeat").selectOption({ label: "Daily at" });
    await page.getByLabel("At (local time)").fill("01:30");
    await expect.poll(() => raw.inputValue()).toBe("30 1 * * *");
    await expect.poll(() => page.getByText(/is not a valid cron expression/).count()).toBe(0);
    expect(await page.getByTestId("cron-words").textContent()).toContain("01:30");
    await page.getByLabel("Time zone").fill("America/New_York");

    await page.getByLabel("Preview from").fill("2027-03-12");
    const preview = page.getByTestId("cron-preview");
    const spring = preview.locator('tr[data-dst="change-day"]').first();
    await expect.poll(() => spring.textContent()).toContain("14 Mar 2027");
    expect(await spring.textContent()).toContain("DST change day");
    expect(await spring.textContent()).toContain("01:30 exists once and fires normally");
    expect(await preview.locator("tbody tr").count()).toBe(10);
    // Only the transition day is marked; the day before and after are not.
    expect(await preview.locator("tbody tr[data-dst]").count()).toBe(1);
    expect(await preview.locator("tbody tr").first().textContent()).toContain("12 Mar 2027");

    await page.getByLabel("Preview from").fill("2027-11-06");
    const repeated = preview.locator('tr[data-dst="repeated"]');
    await expect.poll(() => repeated.count()).toBe(1);
    expect(await repeated.textContent()).toContain("07 Nov 2027");
    expect(await repeated.textContent()).toContain("the scheduler fires at the first one only");
    // The policies explain themselves.
    await page.getByLabel("When the previous run is still going").selectOption({ label: "Cancel the previous run" });
    await expect.poll(() => page.getByText("The previous run is canceled and the new one starts in its place.").count()).toBe(1);
    await checkPage(page, "new schedule at 1280 px, light", "schedules-new-1280-light");

    await page.getByRole("button", { name: "Create schedule" }).click();
    await page.getByRole("heading", { level: 1, name: `Schedule: ${backup.name}` }).waitFor();
    await expect.poll(() => page.getByText(/^Schedule for Nightly backup\S* created\.$/).count()).toBeGreaterThan(0);
    const saved = await app.prisma.schedule.findFirstOrThrow({ where: { jobId: backup.jobId } });
    expect(saved).toMatchObject({ cron: "30 1 * * *", timezone: "America/New_York", overlapPolicy: "cancel_previous", parameters: { label: "dst-check" } });
    expect(Object.keys(saved.parameters as object)).toEqual(["label"]);
    await checkPage(page, "schedule detail at 1280 px, light", "schedule-detail-1280-light");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("bad input stays next to its field and nothing is written", { timeout: 60_000 }, async () => {
    const before = await app.prisma.schedule.count();
    const { context, page } = await open("operator", "/schedules/new");
    await page.getByLabel("Job", { exact: true }).selectOption({ label: ping.name });
    await page.getByLabel("Time zone").fill("Mars/Olympus_Mons");
    await expect.poll(() => page.getByText(/"Mars\/Olympus_Mons" is not a known time zone/).count()).toBe(1);
    await page.getByRole("button", { name: "Create schedule" }).click();
    await expect.poll(() => page.getByText(/not a known time zone/).count()).toBeGreaterThan(0);
    expect(page.url()).toBe(`${app.url}/schedules/new`);
    expect(await app.prisma.schedule.count()).toBe(before);
    await context.close();
  });
});

describe("a schedule firing", () => {
  test("a seconds-level schedule fires and its runs appear on its page without a reload; a viewer sees no controls", { timeout: 120_000 }, async () => {
    const created = await app.create<{ id: string }>("/api/schedules", tokens.operator, { jobId: ping.jobId, name: "Every two seconds", cron: "*/2 * * * * *", timezone: "Europe/London", overlapPolicy: "allow" });
    const { context, page, problems } = await open("viewer", `/schedules/${created.id}`);
    await page.getByRole("heading", { level: 1, name: "Schedule: Every two seconds" }).waitFor();
    const rows = page.getByRole("table", { name: "Runs this schedule fired" }).locator("tbody tr");
    expect(await page.getByText("No runs yet").count()).toBe(1);
    let loads = 0;
    page.on("load", () => loads++);
    await schedulerWorker();
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => rows.first().textContent(), { timeout: 30_000 }).toMatch(/succeeded|running|queued/);
    expect(loads).toBe(0);
    for (const name of ["Disable", "Edit", "Delete"]) expect(await page.getByRole("button", { name }).or(page.getByRole("link", { name })).count(), name).toBe(0);
    await checkPage(page, "schedule detail (viewer) at 1280 px, light", "schedule-detail-viewer-1280-light");

    await page.goto(`${app.url}/schedules`);
    await page.getByRole("heading", { level: 1, name: "Schedules" }).waitFor();
    expect(await page.getByRole("link", { name: "New schedule" }).count()).toBe(0);
    const list = page.getByRole("table", { name: "Schedules" });
    await expect.poll(() => list.textContent()).toContain("Every two seconds");
    expect(await list.textContent()).toContain("Every 2 seconds");
    // The viewer's form post is refused by the server too.
    const refused = await app.request("PATCH", `/api/schedules/${created.id}`, { token: tokens.viewer, body: { enabled: false } });
    expect(refused.status).toBe(403);
    expect(problems).toEqual([]);
    await context.close();
    await app.request("PATCH", `/api/schedules/${created.id}`, { token: tokens.operator, body: { enabled: false } });
  });
});

describe("the scheduler page", () => {
  test("an admin stops and starts the scheduler from the page and the worker honours it; others see status only", { timeout: 180_000 }, async () => {
    const { worker: running } = await schedulerWorker();
    const created = await app.create<{ id: string }>("/api/schedules", tokens.operator, { jobId: ping.jobId, name: "Honours the switch", cron: "*/2 * * * * *", timezone: "UTC", overlapPolicy: "allow" });
    const fired = () => app.prisma.jobRun.count({ where: { scheduleId: created.id } });
    await expect.poll(fired, { timeout: 30_000 }).toBeGreaterThan(0);

    const { context, page, problems } = await open("admin", "/scheduler");
    await page.getByRole("heading", { level: 1, name: "Scheduler" }).waitFor();
    expect(await page.getByTestId("scheduler-state").textContent()).toContain("running");
    await page.getByRole("button", { name: "Stop scheduler" }).click();
    await page.getByRole("dialog", { name: "Stop the scheduler?" }).getByRole("button", { name: "Stop scheduler" }).click();
    await expect.poll(() => page.getByTestId("scheduler-state").textContent()).toContain("stopped");
    await expect.poll(() => running.scheduler!.status().enabled).toBe(false);
    const stoppedAt = await fired();
    const createdBefore = running.scheduler!.status().runsCreated;
    // Let the schedule come due while stopped, then make the worker look: it fires nothing.
    const due = (await app.prisma.schedule.findUniqueOrThrow({ where: { id: created.id } })).nextRunAt!;
    await expect.poll(() => Date.now() > due.getTime() + 2_500, { timeout: 10_000 }).toBe(true);
    const ticks = running.scheduler!.status().ticks;
    running.scheduler!.wake();
    await expect.poll(() => running.scheduler!.status().ticks).toBeGreaterThan(ticks);
    expect(running.scheduler!.status().runsCreated).toBe(createdBefore);
    expect(await fired()).toBe(stoppedAt);

    await page.getByRole("button", { name: "Start scheduler" }).click();
    await page.getByRole("dialog", { name: "Start the scheduler?" }).getByRole("button", { name: "Start scheduler" }).click();
    await expect.poll(() => page.getByTestId("scheduler-state").textContent()).toContain("running");
    await expect.poll(fired, { timeout: 30_000 }).toBeGreaterThan(stoppedAt);
    await app.request("PATCH", `/api/schedules/${created.id}`, { token: tokens.operator, body: { enabled: false } });
    expect(problems).toEqual([]);
    await context.close();

    for (const role of ["operator", "viewer"] as const) {
      const other = await open(role, "/scheduler");
      await other.page.getByRole("heading", { level: 1, name: "Scheduler" }).waitFor();
      expect(await other.page.getByTestId("scheduler-state").textContent()).toContain("running");
      expect(await other.page.getByRole("button", { name: /scheduler/i }).count(), role).toBe(0);
      expect(await other.page.getByText("Administrators start and stop the scheduler.").count()).toBe(1);
      expect((await app.request("POST", "/api/scheduler/stop", { token: tokens[role] })).status, role).toBe(403);
      expect(other.problems).toEqual([]);
      await other.context.close();
    }
  });
});

describe("every page passes checkPage in light and dark, at 1280 and 390 px", () => {
  test("list, new, detail, edit and scheduler", { timeout: 240_000 }, async () => {
    const schedule = await app.prisma.schedule.findFirstOrThrow({ where: { jobId: backup.jobId } });
    const pages = ["/schedules", "/schedules/new", `/schedules/${schedule.id}`, `/schedules/${schedule.id}/edit`, "/scheduler"];
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await open("admin", "/schedules", { width, colorScheme });
        for (const path of pages) {
          await page.goto(`${app.url}${path}`);
          await page.getByRole("heading", { level: 1 }).waitFor();
          await hydrated(page);
          const name = path.replace(schedule.id, "id").replace(/\//g, "-").slice(1);
          await checkPage(page, `${path} at ${width} px, ${colorScheme}`, `${name}-${width}-${colorScheme}`);
        }
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
