// The Jobs pages in a real browser: the list (search, state filter, last run, next scheduled run,
// who changed a job last); a job's page with its versions, a diff of any two and restore; the run
// dialog made from the parameter declarations, with its preview, secrets never echoed; and what
// each role may see and do there (the server refusing what the page does not offer).
import { parseJobDefinition } from "@opsconductor/core";
import { addJobVersion, type Prisma } from "@opsconductor/db";
import { createTestJob, createTestRun, createTestSchedule, uniqueName } from "@opsconductor/testing";
import { checkPage, describedText, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import type { Page } from "playwright-core";
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

/** A job stored as the API stores it (the parsed definition), saved by `role`'s user. */
async function parsedJob(definition: Record<string, unknown>, role: TestRole = "operator") {
  const parsed = parseJobDefinition(definition);
  return createTestJob(app.prisma, { name: parsed.name, definition: parsed, createdById: app.users[role].id });
}

/** The Cookie header of a browser context's cookies, to post a form as that browser would without JavaScript. */
const cookieHeader = (cookies: { name: string; value: string }[]) => cookies.map((c) => `${c.name}=${c.value}`).join("; ");

async function postForm(page: Page, path: string, fields: Record<string, string>) {
  const cookies = await page.context().cookies();
  const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
  return fetch(`${app.url}${path}`, { method: "POST", redirect: "manual", headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, ...fields }) });
}

const SECRET = "tr0ub4dor-and-3-horses";

function typedJob(name: string) {
  return {
    name,
    description: "Every kind of parameter",
    parameters: {
      svc: { type: "string", required: true, description: "The service to restart", pattern: "[A-Za-z]+" },
      count: { type: "number", min: 1, max: 5, default: 2 },
      mode: { type: "enum", values: ["fast", "safe"], default: "safe" },
      dryRun: { type: "boolean", default: true },
      token: { type: "secret", required: true },
    },
    steps: [
      { type: "winrm.exec", name: "Restart", target: "srv-1", command: "Restart-Service -Name {{ svc }} -Count {{ count }} -Mode {{ mode }} -WhatIf:{{ dryRun }}" },
      { type: "winrm.exec", name: "Report", target: "srv-1", shell: "cmd", command: "report.exe --token {{ token }}" },
    ],
  };
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

describe("a job's page", () => {
  test("shows the definition and its versions with author and time; any two versions are diffed; an old one is restored as a new version", { timeout: 120_000 }, async () => {
    const name = uniqueName("versioned");
    const job = await parsedJob({ name, steps: [{ type: "winrm.exec", target: "srv-1", command: "Get-Service spooler" }] }, "admin");
    await addJobVersion(app.prisma, job.id, parseJobDefinition({ name, description: "Now restarts it", steps: [{ type: "winrm.exec", target: "srv-1", command: "Restart-Service spooler", timeoutSec: 60 }] }) as unknown as Prisma.InputJsonValue, app.users.operator.id);
    await app.prisma.job.update({ where: { id: job.id }, data: { description: "Now restarts it" } });

    const { context, page, problems } = await signedIn("operator", `/jobs?q=${name}`);
    await page.getByRole("table", { name: "Jobs" }).getByRole("link", { name }).click();
    await page.waitForURL(`${app.url}/jobs/${job.id}`);
    await page.getByRole("heading", { level: 1, name }).waitFor();
    await expect.poll(() => page.title()).toBe(`OpsConductor · ${name}`);
    const definition = page.locator("section", { has: page.getByRole("heading", { level: 2, name: /^Definition/ }) });
    expect(await definition.textContent()).toContain("Restart-Service spooler");

    const versions = page.getByRole("table", { name: "Versions" });
    const rows = versions.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toMatch(/v2\s*current.*operator.*UTC/);
    expect(await rows.nth(1).textContent()).toMatch(/v1.*admin.*UTC/);

    // Two versions: the page compares the last two at once.
    const diff = page.getByTestId("diff");
    expect(await page.getByTestId("diff-summary").textContent()).toMatch(/^From version 1 to version 2: \d+ lines added, \d+ removed\.$/);
    const removed = await diff.locator('li[data-kind="removed"]').allTextContents();
    const added = await diff.locator('li[data-kind="added"]').allTextContents();
    expect(removed).toEqual(expect.arrayContaining([expect.stringContaining('"command": "Get-Service spooler"'), expect.stringContaining('"timeoutSec": 3600')]));
    expect(added).toEqual(expect.arrayContaining([expect.stringContaining('"command": "Restart-Service spooler"'), expect.stringContaining('"timeoutSec": 60'), expect.stringContaining('"description": "Now restarts it"')]));
    // Unchanged lines are not marked.
    expect([...removed, ...added].some((line) => line.includes('"type": "winrm.exec"'))).toBe(false);
    // Any two, either way round.
    const compare = page.getByRole("search", { name: "Versions to compare" });
    await compare.getByLabel("From").selectOption("2");
    await compare.getByLabel("To").selectOption("1");
    await compare.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/from=2&to=1/);
    await expect.poll(() => page.getByTestId("diff-summary").textContent()).toBe(`From version 2 to version 1: ${removed.length} lines added, ${added.length} removed.`);

    await page.getByRole("button", { name: "Restore version 1" }).click();
    await expect.poll(() => page.getByTestId("toast").textContent()).toContain("Version 1 restored as version 3.");
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.nth(0).textContent()).toMatch(/v3\s*current.*operator/);
    const [v1, v3] = await Promise.all([1, 3].map((number) => app.prisma.jobVersion.findUniqueOrThrow({ where: { jobId_number: { jobId: job.id, number } } })));
    expect(v3!.definition).toEqual(v1!.definition);
    expect((await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).description).toBeNull();
    expect(await app.prisma.auditLog.count({ where: { action: "job.version", entityId: job.id, summary: { contains: "restored version 1" } } })).toBe(1);
    await page.goto(`${app.url}/jobs/${job.id}?from=1&to=3`);
    await expect.poll(() => page.getByText("Versions 1 and 3 have the same definition.").count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("the run dialog: choices as a select, yes/no as a switch, numbers checked, a secret as a password field, defaults filled, required marked, and the preview of each command with the secret as ***", { timeout: 150_000 }, async () => {
    const name = uniqueName("typed");
    const job = await parsedJob(typedJob(name));
    const { context, page, problems } = await signedIn("operator", `/jobs/${job.id}`);
    await page.getByRole("button", { name: "Run…" }).click();
    const dialog = page.getByRole("dialog", { name: `Run ${name}` });
    await dialog.waitFor();
    const preview = dialog.getByTestId("run-preview");
    expect(await dialog.getByLabel(/^svc/).getAttribute("type")).toBe("text");
    expect(await dialog.locator("label", { hasText: "svc" }).textContent()).toContain("(required)");
    expect(await dialog.getByLabel(/^count/).inputValue()).toBe("2");
    expect(await dialog.getByLabel(/^mode/).evaluate((el) => [el.tagName, (el as HTMLSelectElement).value, [...(el as HTMLSelectElement).options].map((o) => o.value)])).toEqual(["SELECT", "safe", ["fast", "safe"]]);
    expect(await dialog.getByRole("switch", { name: /^dryRun/ }).getAttribute("aria-checked")).toBe("true");
    expect(await dialog.getByLabel(/^token/).getAttribute("type")).toBe("password");
    expect(await dialog.locator("label", { hasText: "token" }).textContent()).toContain("(required)");
    // Nothing typed yet: the preview says what is missing.
    expect(await preview.textContent()).toContain("{{ svc }} has no value");

    await dialog.getByLabel(/^svc/).fill("Spooler");
    await dialog.getByLabel(/^count/).fill("3");
    await dialog.getByLabel(/^mode/).selectOption("fast");
    await dialog.getByRole("switch", { name: /^dryRun/ }).click();
    await dialog.getByLabel(/^token/).fill(SECRET);
    await expect.poll(() => preview.textContent()).toContain("Restart-Service -Name 'Spooler' -Count 3 -Mode 'fast' -WhatIf:$false");
    expect(await preview.textContent()).toContain('report.exe --token "***"');
    expect(await preview.textContent()).not.toContain(SECRET);

    // A number that is not one is refused at its field before anything is sent.
    await dialog.getByLabel(/^count/).fill("three");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await expect.poll(() => dialog.getByLabel(/^count/).getAttribute("aria-invalid")).toBe("true");
    expect(await describedText(page, "count")).toContain("Must be a number.");
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);
    await dialog.getByLabel(/^count/).fill("9");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await expect.poll(() => describedText(page, "count")).toContain("Must be at most 5.");
    await dialog.getByLabel(/^count/).fill("3");

    await dialog.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const run = await app.prisma.jobRun.findFirstOrThrow({ where: { jobId: job.id } });
    expect(page.url()).toBe(`${app.url}/runs/${run.id}`);
    expect(run.parameters).toEqual({ svc: "Spooler", count: 3, mode: "fast", dryRun: false, token: "***" });
    expect([run.trigger, run.requestedById, run.status]).toEqual(["manual", app.users.operator.id, "queued"]);
    // The secret is nowhere in the page the browser now shows, nor in what the server stored or audited.
    expect(await page.content()).not.toContain(SECRET);
    const audited = await app.prisma.auditLog.findMany({ where: { entityId: run.id } });
    expect(audited).toHaveLength(1);
    expect(JSON.stringify(audited, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value))).not.toContain(SECRET);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a refused run keeps the dialog open with the server's errors at their fields and never sends a secret back", { timeout: 120_000 }, async () => {
    const name = uniqueName("refused");
    const job = await parsedJob(typedJob(name));
    const { context, page, problems } = await signedIn("operator", `/jobs/${job.id}`);
    // Posted as a browser without JavaScript would: the server checks with core and answers 400.
    const res = await postForm(page, `/jobs/${job.id}`, { intent: "run", "parameters.svc": "not a service!", "parameters.count": "7", "secrets.token": SECRET });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).not.toContain(SECRET);
    expect(html).toContain("Must match the pattern");
    expect(html).toContain("Must be at most 5");
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);

    // In the browser: a secret that breaks no rule of the form but one of the server (the job was
    // deactivated meanwhile) comes back as a form error, the dialog open and the password field empty.
    await page.getByRole("button", { name: "Run…" }).click();
    const dialog = page.getByRole("dialog", { name: `Run ${name}` });
    await dialog.getByLabel(/^svc/).fill("Spooler");
    await dialog.getByLabel(/^token/).fill(SECRET);
    await app.prisma.job.update({ where: { id: job.id }, data: { active: false } });
    await dialog.getByRole("button", { name: "Start run" }).click();
    await expect.poll(() => dialog.textContent()).toContain("is inactive; activate it before running it");
    expect(await dialog.getByLabel(/^token/).inputValue()).toBe("");
    expect(await dialog.getByLabel(/^svc/).inputValue()).toBe("Spooler");
    expect(await page.content()).not.toContain(SECRET);
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an operator deactivates, activates and, after a confirmation, deletes a job", { timeout: 90_000 }, async () => {
    const name = uniqueName("managed");
    const job = await parsedJob({ name, steps: [{ type: "winrm.exec", target: "srv-1", command: "hostname" }] });
    const { context, page, problems } = await signedIn("operator", `/jobs/${job.id}`);
    await page.getByRole("button", { name: "Deactivate" }).click();
    await expect.poll(() => page.getByTestId("toast").textContent()).toContain("is inactive");
    await page.getByText("This job is inactive").waitFor();
    expect(await page.getByRole("button", { name: "Run…" }).count()).toBe(0);
    expect((await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).active).toBe(false);
    await page.getByRole("button", { name: "Activate" }).click();
    await page.getByRole("button", { name: "Run…" }).waitFor();
    await page.getByRole("button", { name: "Delete job" }).click();
    const confirm = page.getByRole("dialog", { name: `Delete ${name}?` });
    expect(await confirm.textContent()).toContain("Every version of this job goes");
    await confirm.getByRole("button", { name: "Delete job" }).click();
    await page.waitForURL(`${app.url}/jobs`);
    await expect.poll(() => page.getByTestId("toast").textContent()).toContain(`Job ${name} deleted.`);
    expect(await app.prisma.job.count({ where: { id: job.id } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a viewer sees the definition and versions but no run, edit, restore or manage control, and the server refuses each action", { timeout: 90_000 }, async () => {
    const name = uniqueName("viewer-sees");
    const job = await parsedJob({ name, parameters: { svc: "Spooler" }, steps: [{ type: "winrm.exec", target: "srv-1", command: "Restart-Service {{ svc }}" }] });
    await addJobVersion(app.prisma, job.id, parseJobDefinition({ name, steps: [{ type: "winrm.exec", target: "srv-1", command: "hostname" }] }) as unknown as Prisma.InputJsonValue, app.users.operator.id);
    const { context, page, problems } = await signedIn("viewer", `/jobs/${job.id}`);
    await page.getByRole("table", { name: "Versions" }).waitFor();
    await page.getByTestId("diff").waitFor();
    for (const control of ["Run…", "Restore version 1", "Deactivate", "Delete job"]) expect(await page.getByRole("button", { name: control }).count(), control).toBe(0);
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);
    const forms: Record<string, string>[] = [{ intent: "run", "parameters.svc": "Spooler" }, { intent: "restore", version: "1" }, { intent: "active", active: "false" }, { intent: "delete" }];
    for (const fields of forms) {
      expect((await postForm(page, `/jobs/${job.id}`, fields)).status, fields.intent).toBe(403);
    }
    expect(await app.prisma.jobRun.count({ where: { jobId: job.id } })).toBe(0);
    expect(await app.prisma.jobVersion.count({ where: { jobId: job.id } })).toBe(2);
    expect((await app.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).active).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("every jobs page at 1280 and 390 px, light and dark", () => {
  test("no horizontal page scroll, no serious or critical axe violation, every control named", { timeout: 240_000 }, async () => {
    const name = uniqueName("checked");
    await seedJob(name, "admin", { description: "A job with a rather long description that has to wrap on a phone instead of widening the page" });
    const typed = await parsedJob(typedJob(uniqueName("checked-typed")), "admin");
    await addJobVersion(app.prisma, typed.id, parseJobDefinition({ ...typedJob(typed.name), description: "Changed" }) as unknown as Prisma.InputJsonValue, app.users.admin.id);
    const pages = [
      { name: "jobs", path: "/jobs" },
      { name: "job", path: `/jobs/${typed.id}` },
    ];
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await signedIn("admin", "/", { width, colorScheme });
        for (const { name: shot, path } of pages) {
          await page.goto(`${app.url}${path}`);
          await hydrated(page);
          await checkPage(page, `${shot} admin ${width} ${colorScheme}`, `${shot}-${width}-${colorScheme}`);
        }
        await page.getByRole("button", { name: "Run…" }).click();
        await page.getByRole("dialog").waitFor();
        await checkPage(page, `run dialog admin ${width} ${colorScheme}`, `job-run-dialog-${width}-${colorScheme}`);
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
