// The run page and the run history in a real browser: a long finished log (virtualized, permalinks,
// search answered by the server, sections, download), live output from a real worker on the WinRM
// test server, cancel from the page, a secret parameter that appears nowhere, what each role may do,
// and the every-page checks at 1280/390 px in both themes.
import { randomBytes } from "node:crypto";
import { appendRunOutput } from "@opsconductor/db";
import { createTestJob, createTestRun, createTestStep, uniqueName, until } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import { startAppWorker, windowsLikeHandler } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, test } from "vitest";

const PLANTED = `Planted-${randomBytes(6).toString("hex")}`;
// The WinRM test server listens on loopback, which connection tests refuse unless allowed.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
const winrm = await startWinRMTestServer({ users: { svc_ops: "Winter2026!secret" }, auth: "ntlm", handler: windowsLikeHandler });
afterAll(() => winrm.close());
await startAppWorker(app);
const browser = useBrowser();
const tokens = await app.signInAll();

const credential = await app.create("/api/credentials", tokens.admin, { name: "svc-ops", type: "winrm", username: "svc_ops", usagePolicy: ["127.0.0.1"], secret: { password: "Winter2026!secret" } });
const target = await app.create("/api/targets", tokens.admin, { name: "sample-windows-server", hostname: "127.0.0.1", port: winrm.port, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });

async function signedIn(role: TestRole, next: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], next);
  return opened;
}

/** A job on the WinRM test server, made over the API as an operator would. */
async function liveJob(steps: { command: string; name?: string }[], parameters: Record<string, unknown> = {}) {
  const name = uniqueName("Live job");
  return app.create("/api/jobs", tokens.operator, { name, version: 1, parameters, steps: steps.map((s) => ({ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", timeoutSec: 120, ...s })) });
}

async function runJob(jobId: string, parameters: Record<string, unknown> = {}): Promise<string> {
  const res = await app.request("POST", `/api/jobs/${jobId}/run`, { token: tokens.operator, body: { parameters } });
  expect(res.status, res.text).toBe(202);
  return res.body.runId;
}

const LONG_LINES = 5000;

/** A finished run of two steps with a long log written as the worker writes it: stderr, colours, a section. */
async function seedLongRun() {
  const job = await createTestJob(app.prisma, { name: uniqueName("Patch servers"), createdById: app.users.operator.id, definition: { name: "Patch servers", steps: [{ type: "winrm.exec", target: "srv-1", command: "a" }, { type: "winrm.exec", target: "srv-1", command: "b" }] } });
  const started = new Date(Date.now() - 90_000);
  const run = await createTestRun(app.prisma, job, { status: "failed", requestedById: app.users.operator.id, startedAt: started, finishedAt: new Date(), error: "step 2 failed: exit code 3" });
  const one = await createTestStep(app.prisma, run.id, { index: 0, name: "Install updates", status: "succeeded", exitCode: 0, targetId: target.id, targetName: "sample-windows-server", startedAt: started, finishedAt: new Date(started.getTime() + 60_000) });
  const two = await createTestStep(app.prisma, run.id, { index: 1, name: "Reboot", status: "failed", exitCode: 3, targetId: target.id, targetName: "sample-windows-server", startedAt: new Date(started.getTime() + 60_000), finishedAt: new Date() });
  const body = Array.from({ length: LONG_LINES - 5 }, (_, i) => `KB${String(i).padStart(6, "0")} installed\r\n`).join("");
  let sequence = 0;
  const chunk = (stepId: string | null, stream: "stdout" | "stderr" | "system", text: string) => ({ stepId, stream, text, sequence: ++sequence });
  await appendRunOutput(app.prisma, run.id, [
    chunk(null, "system", "Run started on worker test-worker.\n"),
    chunk(one.id, "stdout", "::group::Downloading\r\n"),
    ...Array.from({ length: Math.ceil(body.length / 50_000) }, (_, i) => chunk(one.id, "stdout", body.slice(i * 50_000, (i + 1) * 50_000))),
    chunk(one.id, "stdout", "::endgroup::\r\n"),
    chunk(two.id, "stderr", "\u001b[31mReboot refused: a user is signed in (needle-7781)\u001b[0m\r\n"),
    chunk(null, "system", "Run failed: step 2 failed: exit code 3\n"),
  ]);
  return { job, run, steps: [one, two] };
}

const long = await seedLongRun();
const rowsInDom = (page: Page) => page.locator("[data-line]").count();
// A short wait: callers poll, and a line that is not (yet) in the DOM must not hold a poll for long.
const lineText = (page: Page, n: number) => page.locator(`[data-line="${n}"]`).innerText({ timeout: 500 });

describe("the run page", () => {
  test("a long finished log: status, steps, only visible lines in the DOM, permalinks, server search, sections, step filter, download", { timeout: 180_000 }, async () => {
    const { context, page, problems } = await signedIn("operator", `/runs/${long.run.id}`);
    await page.getByRole("heading", { level: 1, name: `Run of ${long.job.name}` }).waitFor();
    expect(await page.title()).toBe(`OpsConductor · Run of ${long.job.name}`);
    expect(await page.getByTestId("run-status").innerText()).toBe("failed");
    expect(await page.getByTestId("run-elapsed").innerText()).toMatch(/^1 min 3\d s$/);
    await expect.poll(() => page.getByTestId("log-line-count").innerText()).toBe(`${LONG_LINES.toLocaleString("en-US")} lines`);
    const steps = page.getByRole("region", { name: "Run log lines" });
    await steps.getByRole("button", { name: /Step 1: Install updates · succeeded · exit 0 · 1 min 00 s · on sample-windows-server/ }).waitFor();
    expect(await lineText(page, 1)).toContain("Run started on worker test-worker.");
    expect(await rowsInDom(page)).toBeLessThan(120);

    // A permalink to a range deep in the log opens there, the lines selected.
    await page.goto(`${app.url}/runs/${long.run.id}#L4000-L4002`);
    await hydrated(page);
    await expect.poll(() => lineText(page, 4001).catch(() => "")).toContain("KB003998 installed");
    expect(await page.locator('[data-line="4001"]').getAttribute("class")).toContain("bg-sky-100");
    expect(await rowsInDom(page)).toBeLessThan(120);
    // Clicking a line number makes it the permalink.
    await page.getByRole("link", { name: "Line 4005", exact: true }).click();
    expect(new URL(page.url()).hash).toBe("#L4005");

    // The server searches the whole log, lines not loaded included.
    await page.getByLabel("Search the log").fill("NEEDLE-7781");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => page.getByTestId("log-search-result").innerText()).toContain(`Match 1 of 1 (line ${LONG_LINES - 1})`);
    await expect.poll(() => lineText(page, LONG_LINES - 1).catch(() => "")).toContain("Reboot refused: a user is signed in");
    // Colours are rendered from the codes, never as text.
    expect(await page.locator(`[data-line="${LONG_LINES - 1}"] .text-rose-700`).count()).toBe(1);
    expect(await lineText(page, LONG_LINES - 1)).not.toContain("[31m");
    await page.getByLabel("Search the log").fill("installed");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => page.getByTestId("log-search-result").innerText()).toContain(`Match 1 of ${(LONG_LINES - 5).toLocaleString("en-US")} (line 3)`);
    await page.getByRole("button", { name: "Previous match" }).click();
    await expect.poll(() => page.getByTestId("log-search-result").innerText()).toContain(`Match ${(LONG_LINES - 5).toLocaleString("en-US")} of ${(LONG_LINES - 5).toLocaleString("en-US")} (line ${LONG_LINES - 3})`);

    // The ::group:: section collapses to its title; the step filter shows one step.
    await page.goto(`${app.url}/runs/${long.run.id}`);
    await hydrated(page);
    const section = steps.getByRole("button", { name: "Collapse section Downloading" });
    await section.click();
    await expect.poll(() => page.locator('[data-line="4"]').count()).toBe(0);
    await steps.getByRole("button", { name: "Expand section Downloading" }).click();
    await page.getByLabel("Show").selectOption({ label: "Step 2: Reboot" });
    await expect.poll(() => lineText(page, LONG_LINES - 1).catch(() => "")).toContain("Reboot refused");
    expect(await page.locator('[data-line="1"]').count()).toBe(0);
    await page.getByLabel("Show").selectOption({ label: "All steps" });
    await steps.getByRole("button", { name: /Step 1: Install updates/ }).click();
    await expect.poll(() => page.locator('[data-line="3"]').count()).toBe(0);

    // The download is the raw log.
    const href = await page.getByRole("link", { name: "Download log" }).getAttribute("href");
    const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const download = await fetch(`${app.url}${href}`, { headers: { cookie: cookies } });
    expect(download.headers.get("content-disposition")).toContain("attachment");
    const text = await download.text();
    expect(text.split("\n").length - 1).toBe(LONG_LINES);
    expect(text).toContain("\u001b[31mReboot refused");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("live output appears while the run streams, from a real worker on the WinRM test server", { timeout: 120_000 }, async () => {
    const job = await liveJob([{ name: "Greet", command: "Write-Output 'hello from the server'; Start-Sleep -Seconds 12; Write-Lines 300" }]);
    const runId = await runJob(job.id);
    const { context, page, problems } = await signedIn("operator", `/runs/${runId}`);
    // Seen while the run is still going: the sleep keeps it running after the first line.
    await expect.poll(() => page.locator("[data-line]").allInnerTexts().then((t) => t.join("\n")), { timeout: 30_000 }).toContain("hello from the server");
    expect((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe("running");
    await expect.poll(() => page.getByTestId("run-status").innerText(), { timeout: 60_000 }).toBe("succeeded");
    // Following the tail, the last line is on screen; the count matches the server's.
    const state = await app.request("GET", `/api/runs/${runId}/log?from=1&count=1`, { token: tokens.viewer });
    await expect.poll(() => page.getByTestId("log-line-count").innerText()).toBe(`${state.body.lineCount} lines`);
    await expect.poll(() => page.locator("[data-line]").allInnerTexts().then((t) => t.join("\n"))).toContain("line 000300");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("cancel from the page: the button shows progress until the worker confirms, and the run ends canceled", { timeout: 180_000 }, async () => {
    const job = await liveJob([{ name: "Wait", command: "Write-Output 'waiting'; Start-Sleep -Seconds 60" }, { name: "Never", command: "Write-Output 'never'" }]);
    const runId = await runJob(job.id);
    const { context, page, problems } = await signedIn("operator", `/runs/${runId}`);
    await expect.poll(() => page.locator("[data-line]").allInnerTexts().then((t) => t.join("\n")), { timeout: 30_000 }).toContain("waiting");
    await page.getByRole("button", { name: "Cancel run" }).click();
    const dialog = page.getByRole("dialog", { name: "Cancel this run?" });
    await dialog.getByRole("button", { name: "Cancel run" }).click();
    // The worker confirms the cancel; on a loaded machine that can take a while (a wait, not a speed check).
    await expect.poll(() => page.getByTestId("run-status").innerText(), { timeout: 90_000 }).toBe("canceled");
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    const run = await app.prisma.jobRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe("canceled");
    expect(await app.prisma.auditLog.count({ where: { action: "run.cancel", entityId: runId, actorId: app.users.operator.id } })).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a secret parameter's value appears nowhere: not in the page, the DOM, the loader data, a search or the downloaded log", { timeout: 120_000 }, async () => {
    const job = await liveJob([{ name: "Use the token", command: "Write-Output {{ token }}" }], { token: { type: "secret", required: true } });
    const runId = await runJob(job.id, { token: PLANTED });
    await until(async () => ["succeeded", "failed"].includes((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: runId } })).status), "the run to finish", 60_000);
    const { context, page, problems } = await signedIn("operator", `/runs/${runId}`);
    await expect.poll(() => page.locator("[data-line]").allInnerTexts().then((t) => t.join("\n"))).toContain("***");
    expect(await page.content()).not.toContain(PLANTED);
    expect(await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify((window as unknown as { __remixContext?: unknown }).__remixContext ?? null))).not.toContain(PLANTED);
    // Rerun is not offered (the value is not stored); the page says why.
    expect(await page.getByRole("button", { name: "Rerun" }).count()).toBe(0);
    expect(await page.getByText("This run had secret parameters (token)").count()).toBe(1);
    const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const download = await (await fetch(`${app.url}/api/runs/${runId}/log.txt`, { headers: { cookie: cookies } })).text();
    expect(download).toContain("***");
    expect(download).not.toContain(PLANTED);
    const html = await (await fetch(`${app.url}/runs/${runId}`, { headers: { cookie: cookies } })).text();
    expect(html).not.toContain(PLANTED);
    expect((await app.request("GET", `/api/runs/${runId}/log/search?q=${PLANTED}`, { token: tokens.viewer })).body.total).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("the output cap", () => {
  test("a run whose output hit RUN_OUTPUT_MAX_BYTES says so above its log, and the worker's notice is in the log", { timeout: 60_000 }, async () => {
    const job = await createTestJob(app.prisma, { name: uniqueName("Chatty job"), createdById: app.users.operator.id });
    const run = await createTestRun(app.prisma, job, { status: "succeeded", requestedById: app.users.operator.id });
    const step = await createTestStep(app.prisma, run.id, { index: 0, status: "succeeded", exitCode: 0 });
    await appendRunOutput(app.prisma, run.id, [
      { stepId: step.id, stream: "stdout", sequence: 1, text: "x".repeat(500) },
      { stepId: step.id, stream: "system", sequence: 2, text: "\n[output truncated: the run's output passed 512 bytes, half of its 1 KiB cap (RUN_OUTPUT_MAX_BYTES); from here only the last part of each step is kept, written with a count of what was dropped when the step ends]\n" },
      { stepId: step.id, stream: "system", sequence: 3, text: "\n[output truncated: 1,234 lines (98,765 bytes) dropped here; the last 400 bytes of the step follow]\n" },
      { stepId: step.id, stream: "stdout", sequence: 4, text: "the tail\n" },
      { stream: "system", sequence: 5, text: "Run succeeded.\n" },
    ]);
    const { context, page, problems } = await signedIn("viewer", `/runs/${run.id}`);
    await page.getByRole("note").getByText("reached the server's output cap").waitFor();
    await expect.poll(() => lineText(page, 3).catch(() => "")).toContain("[output truncated:");
    await expect.poll(() => lineText(page, 5).catch(() => "")).toContain("1,234 lines (98,765 bytes) dropped here");
    await expect.poll(() => lineText(page, 6).catch(() => "")).toContain("the tail");
    expect(await page.getByTestId("run-status").innerText()).toBe("succeeded");
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("what each role may do", () => {
  test("a viewer sees runs and logs but no cancel or rerun, and the server refuses both", { timeout: 120_000 }, async () => {
    const other = await createTestJob(app.prisma, { name: uniqueName("Watched job"), createdById: app.users.operator.id });
    const running = await createTestRun(app.prisma, other, { status: "running", requestedById: app.users.operator.id });
    const { context, page, problems } = await signedIn("viewer", `/runs/${long.run.id}`);
    await expect.poll(() => lineText(page, 1).catch(() => "")).toContain("Run started");
    expect(await page.getByRole("button", { name: "Rerun" }).count()).toBe(0);
    await page.goto(`${app.url}/runs/${running.id}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
    for (const intent of ["cancel", "rerun"]) {
      const res = await fetch(`${app.url}/runs/${running.id}`, { method: "POST", headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ intent, csrf }) });
      expect(res.status, intent).toBe(403);
    }
    expect((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: running.id } })).cancelRequestedAt).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an operator reruns a finished run from its page and lands on the new run", { timeout: 120_000 }, async () => {
    const job = await liveJob([{ command: "hostname" }]);
    const first = await runJob(job.id);
    await until(async () => (await app.prisma.jobRun.findUniqueOrThrow({ where: { id: first } })).status === "succeeded", "the run to finish", 60_000);
    const { context, page, problems } = await signedIn("operator", `/runs/${first}`);
    await page.getByRole("button", { name: "Rerun" }).click();
    await page.waitForURL((url) => url.pathname.startsWith("/runs/") && !url.pathname.endsWith(first));
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Rerun queued.");
    const second = new URL(page.url()).pathname.split("/").at(-1)!;
    expect((await app.prisma.jobRun.findUniqueOrThrow({ where: { id: second } })).jobId).toBe(job.id);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("the run history", () => {
  test("filters by job, status, trigger, target and time; pages with a cursor; links to the failing step", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedIn("viewer", "/");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Runs" }).click();
    await page.waitForURL(`${app.url}/runs`);
    await page.getByRole("heading", { level: 1, name: "Runs" }).waitFor();
    expect(await page.title()).toBe("OpsConductor · Runs");
    await page.getByLabel("Job").selectOption({ label: long.job.name });
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/job=/);
    const table = page.getByRole("table", { name: "Runs" });
    await table.getByRole("link", { name: /Patch servers|Patch/ }).first().waitFor();
    const failing = table.getByRole("link", { name: "2. Reboot" });
    expect(await failing.getAttribute("href")).toBe(`/runs/${long.run.id}#step-2`);
    await page.getByLabel("Status").selectOption("failed");
    await page.getByLabel("Target").selectOption({ label: "sample-windows-server" });
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/status=failed/);
    expect(await table.getByRole("row").count()).toBe(2);
    await page.getByLabel("Status").selectOption("succeeded");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/status=succeeded/);
    await page.getByText("No run matches these filters").waitFor();
    // A time window in the past holds none of them.
    await page.goto(`${app.url}/runs?from=2020-01-01T00:00&to=2020-01-02T00:00`);
    await page.getByText("No run matches these filters").waitFor();
    // A bad value is the 400 page naming it, not a 500.
    const bad = await page.goto(`${app.url}/runs?status=bogus`);
    expect(bad?.status()).toBe(400);

    // Cursor pages: two at a time, every run once.
    const all = await app.prisma.jobRun.count();
    const seen = new Set<string>();
    await page.goto(`${app.url}/runs?limit=2`);
    for (;;) {
      const ids = await table.getByRole("link").evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).pathname).filter((p) => /^\/runs\/[\w-]+$/.test(p)));
      for (const id of ids) seen.add(id);
      const next = page.getByRole("link", { name: "Next page" });
      if ((await next.count()) === 0) break;
      const href = (await next.getAttribute("href"))!;
      expect(href).toContain("cursor=");
      await page.goto(`${app.url}${href}`);
      await table.waitFor();
    }
    expect(seen.size).toBe(all);

    // The failing step's link opens the run at that step.
    await page.goto(`${app.url}/runs?job=${long.job.id}&status=failed`);
    await table.getByRole("link", { name: "2. Reboot" }).click();
    await page.waitForURL(`${app.url}/runs/${long.run.id}#step-2`);
    await hydrated(page);
    await expect.poll(() => page.locator("[data-step-row='2']").count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("every page check", () => {
  for (const role of ["admin", "operator", "viewer"] as const) {
    test(`the run page and the history for ${role} at 1280 and 390 px, light and dark`, { timeout: 180_000 }, async () => {
      // One signed-in page per role, its viewport and theme switched in place.
      const { context, page, problems } = await signedIn(role, `/runs/${long.run.id}`);
      for (const width of [1280, 390]) {
        for (const colorScheme of ["light", "dark"] as const) {
          await page.setViewportSize({ width, height: 900 });
          await page.emulateMedia({ colorScheme });
          await page.goto(`${app.url}/runs/${long.run.id}`);
          await expect.poll(() => lineText(page, 1).catch(() => "")).toContain("Run started");
          await checkPage(page, `run page ${role} ${width} ${colorScheme}`, role === "admin" ? `run-${width}-${colorScheme}` : undefined);
          await page.goto(`${app.url}/runs`);
          await page.getByRole("table", { name: "Runs" }).waitFor();
          await checkPage(page, `runs ${role} ${width} ${colorScheme}`, role === "admin" ? `runs-${width}-${colorScheme}` : undefined);
        }
      }
      expect(problems).toEqual([]);
      await context.close();
    });
  }
});
