// The job editor in a real browser: an operator builds the original product's sample job
// (Restart-Service with {{ svc }}) in the visual builder, switches to JSON and back with nothing
// lost, saves it and runs it with svc=Spooler; a broken definition pasted in the JSON view shows its problems at their lines
// and cannot be saved; steps are reordered by drag and by keyboard, duplicated and removed; the
// server's own refusals come back to their fields; a viewer can neither open nor post the editor.
import { createTestJob, uniqueName } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import type { Locator, Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();

const target = await app.prisma.target.create({ data: { name: uniqueName("srv"), hostname: "127.0.0.1" } });

async function signedIn(role: TestRole, next: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], next);
  return opened;
}

/** The Cookie header of a browser context's cookies, to post a form as that browser would without JavaScript. */
const cookieHeader = (cookies: { name: string; value: string }[]) => cookies.map((c) => `${c.name}=${c.value}`).join("; ");
const step = (page: Page, n: number) => page.getByRole("group", { name: new RegExp(`^Step ${n}\\b`) });
const parameter = (page: Page, n: number) => page.getByRole("group", { name: `Parameter ${n}` });
/** What the save form would post right now. */
const posted = async (page: Page) => JSON.parse(await page.locator('input[name="definition"]').inputValue()) as Record<string, unknown>;

/** Waits for CodeMirror to replace the plain text area, then types into it. */
async function typeInto(editor: Locator, page: Page, text: string) {
  const content = editor.locator(".cm-content");
  await content.waitFor();
  await content.click();
  await page.keyboard.type(text);
}

async function replaceIn(editor: Locator, page: Page, text: string) {
  const content = editor.locator(".cm-content");
  await content.waitFor();
  await content.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(text);
}

describe("the job editor", () => {
  test("an operator builds the sample job in the builder, switches to JSON and back with nothing lost, saves version 1 and runs it with svc=Spooler", { timeout: 150_000 }, async () => {
    const name = uniqueName("Restart spooler");
    const { context, page, problems } = await signedIn("operator", "/jobs");
    await page.getByRole("link", { name: "New job" }).first().click();
    await page.waitForURL(`${app.url}/jobs/new`);
    await page.getByRole("heading", { level: 1, name: "New job" }).waitFor();
    await expect.poll(() => page.title()).toBe("OpsConductor · New job");
    await hydrated(page);

    await page.getByLabel("Name", { exact: true }).first().fill(name);
    await page.getByLabel("Description", { exact: true }).first().fill("Restarts a Windows service");
    await page.getByRole("button", { name: "Add parameter" }).click();
    const svc = parameter(page, 1);
    await svc.getByLabel("Name", { exact: true }).fill("svc");
    await svc.getByLabel("Description", { exact: true }).fill("The service to restart");
    // A text parameter without a default is required.
    expect(await svc.getByRole("switch", { name: "Required" }).getAttribute("aria-checked")).toBe("true");

    const first = step(page, 1);
    await first.getByLabel("Name", { exact: true }).fill("Restart");
    // The target picker offers the registered targets and flags a name it does not know.
    await first.getByLabel("Target", { exact: true }).fill("no-such-target");
    await first.getByText("No target is named “no-such-target”").waitFor();
    await first.getByLabel("Target", { exact: true }).fill(target.name);
    await expect.poll(() => first.getByText("No target is named").count()).toBe(0);
    expect(await first.getByLabel("Shell").inputValue()).toBe("powershell");

    // The command editor completes placeholders from the declared parameters and flags unknown ones.
    const command = first.locator('[data-code-editor="powershell"]');
    await typeInto(command, page, "Restart-Service -Name {{ nope }} ");
    await command.locator(".cm-lintRange-error").first().waitFor();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.press("Backspace");
    await page.keyboard.type("Restart-Service -Name {{ s");
    const option = page.locator(".cm-tooltip-autocomplete").getByRole("option", { name: /svc/ });
    await option.click();
    await expect.poll(() => command.locator(".cm-content").textContent()).toBe("Restart-Service -Name {{ svc }}");
    await expect.poll(() => command.locator(".cm-lintRange-error").count()).toBe(0);
    await first.getByLabel("Timeout (seconds)").fill("120");
    await first.getByRole("switch", { name: "Continue on error" }).click();

    const expected = {
      name,
      parameters: { svc: { type: "string", description: "The service to restart" } },
      steps: [{ type: "winrm.exec", name: "Restart", target: target.name, shell: "powershell", command: "Restart-Service -Name {{ svc }}", timeoutSec: 120, continueOnError: true }],
      description: "Restarts a Windows service",
    };
    expect(await posted(page)).toEqual(expected);

    await page.getByRole("tab", { name: "JSON" }).click();
    const json = page.locator('[data-code-editor="json"]');
    await json.locator(".cm-content").waitFor();
    await page.getByText("No problems found.").waitFor();
    expect(await posted(page)).toEqual(expected);
    expect(await json.locator(".cm-content").textContent()).toContain('"command": "Restart-Service -Name {{ svc }}"');
    // An edit in the JSON view shows in the builder afterwards.
    await replaceIn(json, page, JSON.stringify({ ...expected, steps: [{ ...expected.steps[0], timeoutSec: 300 }] }, null, 2));
    await page.getByRole("tab", { name: "Builder" }).click();
    await expect.poll(() => step(page, 1).getByLabel("Timeout (seconds)").inputValue()).toBe("300");
    expect(await page.getByLabel("Name", { exact: true }).first().inputValue()).toBe(name);
    expect(await parameter(page, 1).getByLabel("Name", { exact: true }).inputValue()).toBe("svc");
    expect(await step(page, 1).locator('[data-code-editor="powershell"] .cm-content').textContent()).toBe("Restart-Service -Name {{ svc }}");
    expect(await step(page, 1).getByRole("switch", { name: "Continue on error" }).getAttribute("aria-checked")).toBe("true");
    const saved = { ...expected, steps: [{ ...expected.steps[0], timeoutSec: 300 }] };
    expect(await posted(page)).toEqual(saved);

    await page.getByRole("button", { name: "Create job" }).click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const job = await app.prisma.job.findUniqueOrThrow({ where: { name }, include: { currentVersion: true } });
    expect(page.url()).toBe(`${app.url}/jobs/${job.id}`);
    expect(job.currentVersion?.number).toBe(1);
    expect(job.currentVersion?.createdById).toBe(app.users.operator.id);
    expect(job.description).toBe("Restarts a Windows service");
    expect(job.currentVersion?.definition).toMatchObject({ name, parameters: { svc: { type: "string", required: true } }, steps: [{ command: "Restart-Service -Name {{ svc }}", target: target.name, timeoutSec: 300, continueOnError: true }] });
    await expect.poll(() => page.getByTestId("toast").textContent()).toContain(`Job ${name} created (version 1).`);

    // Run it with svc=Spooler: the preview shows the command as it will run, then the run's page.
    await page.getByRole("button", { name: "Run…" }).click();
    const dialog = page.getByRole("dialog", { name: `Run ${name}` });
    await dialog.getByLabel(/^svc/).fill("Spooler");
    await expect.poll(() => dialog.getByTestId("run-preview").textContent()).toContain("Restart-Service -Name 'Spooler'");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const run = await app.prisma.jobRun.findFirstOrThrow({ where: { jobId: job.id } });
    expect(page.url()).toBe(`${app.url}/runs/${run.id}`);
    expect(run.parameters).toEqual({ svc: "Spooler" });
    expect(run.jobVersionId).toBe(job.currentVersionId);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a broken definition pasted in the JSON view shows its problems at their lines and cannot be saved", { timeout: 120_000 }, async () => {
    const name = uniqueName("broken");
    const { context, page, problems } = await signedIn("operator", "/jobs/new");
    await page.getByRole("tab", { name: "JSON" }).click();
    const json = page.locator('[data-code-editor="json"]');
    const broken = [
      "{",
      `  "name": "${name}",`,
      '  "steps": [',
      "    {",
      '      "type": "winrm.exec",',
      `      "target": "${target.name}",`,
      '      "command": "Restart-Service {{ svc }}",',
      '      "timeoutSec": 0,',
      '      "colour": "blue"',
      "    }",
      "  ]",
      "}",
    ].join("\n");
    await replaceIn(json, page, broken);
    const list = page.getByTestId("json-problems");
    await expect.poll(() => list.locator("li").allTextContents()).toEqual([
      expect.stringMatching(/^Line 4: steps\[0\] Has an unknown field "colour"/),
      expect.stringMatching(/^Line 7: steps\[0\]\.command Uses \{\{ svc \}\}, but the job declares no parameter "svc"/),
      expect.stringMatching(/^Line 8: steps\[0\]\.timeoutSec Must be between 1 and 86400/),
    ]);
    // The lines are marked in the editor too, in its gutter.
    await expect.poll(() => json.locator(".cm-lintRange-error").count()).toBeGreaterThanOrEqual(3);
    await page.getByRole("button", { name: "Create job" }).click();
    const summary = page.getByRole("alert").filter({ hasText: "problems stop this definition from being saved" });
    await summary.waitFor();
    expect(await summary.textContent()).toContain("Line 8: steps[0].timeoutSec Must be between 1 and 86400");
    expect(page.url()).toBe(`${app.url}/jobs/new`);

    // JSON that does not parse: the problem is at its line, and the builder will not take it.
    await replaceIn(json, page, broken.replace('"timeoutSec": 0,', '"timeoutSec": 0'));
    await expect.poll(() => list.locator("li").allTextContents()).toEqual([expect.stringMatching(/^Line 9: Not valid JSON/)]);
    await page.getByRole("tab", { name: "Builder" }).click();
    await page.getByRole("alert").filter({ hasText: "The JSON cannot be read (line 9" }).waitFor();
    expect(await page.getByRole("tab", { name: "JSON" }).getAttribute("aria-selected")).toBe("true");
    await page.getByRole("button", { name: "Create job" }).click();
    expect(await app.prisma.job.count({ where: { name } })).toBe(0);

    // The server refuses what core refuses, however it is sent: every problem named, nothing saved.
    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
    const plain = await fetch(`${app.url}/jobs/new`, {
      method: "POST",
      headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, intent: "save", definition: broken }),
    });
    expect(plain.status).toBe(400);
    const html = await plain.text();
    expect(html).toContain("Uses {{ svc }}, but the job declares no parameter");
    expect(html).toContain("Must be between 1 and 86400");
    expect(await app.prisma.job.count({ where: { name } })).toBe(0);

    // A long script (200,000 characters, far over a small form's 64 KiB) saves through the same form.
    const longName = `${name}-long`;
    const script = `Write-Output '${"x".repeat(199_980)}'`;
    const long = await fetch(`${app.url}/jobs/new`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, intent: "save", definition: JSON.stringify({ name: longName, steps: [{ type: "winrm.exec", target: "web-01", command: script }] }) }),
    });
    expect(long.status).toBe(302);
    const saved = await app.prisma.job.findUniqueOrThrow({ where: { name: longName }, include: { currentVersion: true } });
    expect(JSON.stringify(saved.currentVersion?.definition)).toContain(script);

    // Property names are completed from the schema of the place the cursor is at: a winrm.exec step's fields.
    await replaceIn(json, page, `{\n  "name": "${name}",\n  "steps": [\n    {\n      "type": "winrm.exec",\n      `);
    await page.keyboard.type('"');
    await page.keyboard.press("Control+Space");
    const completions = page.locator(".cm-tooltip-autocomplete").getByRole("option");
    await expect.poll(() => completions.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining("target"), expect.stringContaining("command"), expect.stringContaining("timeoutSec"), expect.stringContaining("continueOnError")]));
    expect((await completions.allTextContents()).some((o) => o.includes("destination") || o.startsWith("type"))).toBe(false);
    await completions.filter({ hasText: "timeoutSec" }).click();
    await expect.poll(() => json.locator(".cm-line").last().textContent()).toBe('      "timeoutSec": ');

    expect(problems).toEqual([]);
    await context.close();
  });

  test("steps are reordered by drag and by keyboard, duplicated and removed; a name the server refuses comes back to its field", { timeout: 150_000 }, async () => {
    const taken = uniqueName("taken");
    await createTestJob(app.prisma, { name: taken });
    const name = uniqueName("three steps");
    const job = await createTestJob(app.prisma, {
      name,
      definition: {
        name,
        version: 1,
        parameters: {},
        steps: ["one", "two", "three"].map((s) => ({ type: "winrm.exec", name: s, target: target.name, shell: "cmd", command: `echo ${s}`, timeoutSec: 60, continueOnError: false })),
      },
    });
    const { context, page, problems } = await signedIn("operator", `/jobs/${job.id}/edit`);
    await expect.poll(() => page.title()).toBe(`OpsConductor · Edit ${name}`);
    const names = async () => ((await posted(page)).steps as { name: string }[]).map((s) => s.name);
    expect(await names()).toEqual(["one", "two", "three"]);
    // cmd steps are highlighted as cmd.
    await step(page, 1).locator('[data-code-editor="cmd"] .cm-content').waitFor();

    // Dragged by its handle onto the end of the step above (both in view).
    await step(page, 2).getByRole("button", { name: "Reorder step 2" }).dragTo(step(page, 1).getByLabel("Step id"));
    await expect.poll(names).toEqual(["two", "one", "three"]);
    const handle = step(page, 1).getByRole("button", { name: "Reorder step 1" });
    await handle.focus();
    await page.keyboard.press("ArrowDown");
    await expect.poll(names).toEqual(["one", "two", "three"]);
    // Focus follows the moved step, so pressing again moves it further.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toMatch(/^Reorder step 2/);
    await page.keyboard.press("ArrowDown");
    await expect.poll(names).toEqual(["one", "three", "two"]);
    await page.getByText("Step 2 moved to position 3 of 3.").waitFor({ state: "attached" });
    await page.keyboard.press("ArrowUp");
    await expect.poll(names).toEqual(["one", "two", "three"]);

    await page.getByRole("button", { name: "Duplicate step 1" }).click();
    await expect.poll(names).toEqual(["one", "one", "two", "three"]);
    await page.getByRole("button", { name: "Remove step 4" }).click();
    await page.getByRole("button", { name: "Move step 3 up" }).click();
    await expect.poll(names).toEqual(["one", "two", "one"]);

    // A name another job has: the server's refusal is shown at the Name field, the edits stay.
    await page.getByLabel("Name", { exact: true }).first().fill(taken);
    await page.getByRole("button", { name: "Save version 2" }).click();
    await expect.poll(() => page.getByLabel("Name", { exact: true }).first().getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#job-name-error").textContent()).toContain(`"${taken}" is already taken`);
    expect(await names()).toEqual(["one", "two", "one"]);
    // The JSON view shows the same refusal at its line.
    await page.getByRole("tab", { name: "JSON" }).click();
    await expect.poll(() => page.getByTestId("json-problems").textContent()).toContain(`Line 2: name`);
    await page.getByRole("tab", { name: "Builder" }).click();
    await page.getByLabel("Name", { exact: true }).first().fill(`${name} v2`);
    await page.getByRole("button", { name: "Save version 2" }).click();
    await page.waitForURL(`${app.url}/jobs/${job.id}`);
    const saved = await app.prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { currentVersion: true } });
    expect(saved.name).toBe(`${name} v2`);
    expect(saved.currentVersion?.number).toBe(2);
    expect((saved.currentVersion?.definition as { steps: { name: string }[] }).steps.map((s) => s.name)).toEqual(["one", "two", "one"]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a viewer gets the 403 page for the editor, and the server refuses a viewer's save", { timeout: 60_000 }, async () => {
    const name = uniqueName("not yours");
    const job = await createTestJob(app.prisma, { name });
    const { context, page, problems } = await signedIn("viewer", "/jobs");
    for (const path of ["/jobs/new", `/jobs/${job.id}/edit`]) {
      const res = await page.goto(`${app.url}${path}`);
      expect(res?.status()).toBe(403);
    }
    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
    const definition = JSON.stringify({ name: `${name} renamed`, steps: [{ type: "winrm.exec", target: "srv-1", command: "hostname" }] });
    for (const path of ["/jobs/new", `/jobs/${job.id}/edit`]) {
      const res = await fetch(`${app.url}${path}`, { method: "POST", headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, intent: "save", definition }) });
      expect(res.status).toBe(403);
    }
    expect(await app.prisma.jobVersion.count({ where: { jobId: job.id } })).toBe(1);
    expect(await app.prisma.job.count({ where: { name: `${name} renamed` } })).toBe(0);
    // An unknown job's editor is the 404 page.
    await context.close();
    const operator = await signedIn("operator", "/jobs");
    expect((await operator.page.goto(`${app.url}/jobs/00000000-0000-4000-8000-000000000000/edit`))?.status()).toBe(404);
    expect((await operator.page.goto(`${app.url}/jobs/not-a-uuid/edit`))?.status()).toBe(404);
    expect([...problems, ...operator.problems]).toEqual([]);
    await operator.context.close();
  });
});

describe("editor pages at 1280 and 390 px, light and dark", () => {
  test("no horizontal page scroll, no serious or critical axe violation, every control named, in both views", { timeout: 240_000 }, async () => {
    const name = uniqueName("checked");
    const job = await createTestJob(app.prisma, {
      name,
      definition: { name, version: 1, parameters: { svc: { type: "string", required: true, description: "Service name" }, mode: { type: "enum", required: false, values: ["fast", "safe"], default: "safe" } }, steps: [{ type: "winrm.exec", name: "Restart", target: target.name, shell: "powershell", command: "Restart-Service {{ svc }}", timeoutSec: 3600, continueOnError: false }] },
    });
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await signedIn("admin", "/", { width, colorScheme });
        for (const [shot, path] of [
          ["job-new", "/jobs/new"],
          ["job-edit", `/jobs/${job.id}/edit`],
        ] as const) {
          await page.goto(`${app.url}${path}`);
          await hydrated(page);
          await page.locator(".cm-content").first().waitFor();
          await checkPage(page, `${shot} admin ${width} ${colorScheme}`, `${shot}-${width}-${colorScheme}`);
        }
        await page.getByRole("tab", { name: "JSON" }).click();
        await page.locator('[data-code-editor="json"] .cm-content').waitFor();
        await checkPage(page, `job-edit JSON admin ${width} ${colorScheme}`, `job-edit-json-${width}-${colorScheme}`);
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
