// The targets pages in a real browser: an admin registers a target through the form (the port
// follows the transport), tests its connection against the in-process WinRM server (success with
// latency and host name; a wrong password with the hint), edits and deletes; an operator cannot
// bind a credential outside its usage policy; bad input stays next to its field; a viewer sees no
// controls and the server refuses them anyway.
import { join } from "node:path";
import { createTestJob, createTestRun, createTestStep } from "@opsconductor/testing";
import { describedText, hydrated, openPage, SHOTS_DIR, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, test } from "vitest";

// While a test holds `gate`, hostname waits for it: the page's pending state can be looked at
// without racing the answer.
let gate: Promise<void> | null = null;
const winrm = await startWinRMTestServer({
  users: { svc: "right-winrm-password" },
  auth: "ntlm",
  machineName: "WIN-TEST-01",
  handler: async (ctx) => {
    if (ctx.shell !== "cmd" || ctx.commandLine.trim() !== "hostname") return 1;
    await gate;
    ctx.stdout.write(`${ctx.machineName}\r\n`);
  },
});
afterAll(() => winrm.close());
// The WinRM test server listens on loopback, which connection tests refuse unless allowed.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
const tokens = await app.signInAll();
const browser = useBrowser();

const credential = (name: string, password: string, usagePolicy: string[]) =>
  app.create<{ id: string; name: string }>("/api/credentials", tokens.admin, { name, type: "winrm", username: "svc", usagePolicy, secret: { password } });
const right = await credential("lab-winrm", "right-winrm-password", ["127.0.0.1", "*.corp.example"]);
const wrong = await credential("lab-wrong-password", "not-the-password", ["127.0.0.1"]);
await credential("dc-only", "pw-for-tests-only", ["dc01.corp.example"]);
const metadata = await credential("metadata-cred", "pw-for-tests-only", ["169.254.169.254"]);

const target = (body: Record<string, unknown>) => app.create<{ id: string; name: string }>("/api/targets", tokens.admin, body);

const options = (page: Page, label: string) => page.getByLabel(label, { exact: true }).locator("option").allTextContents();

async function signedIn(role: "admin" | "operator" | "viewer", next: string, width = 1280) {
  const opened = await openPage(browser(), { width });
  await signIn(opened.page, app.url, role, PASSWORDS[role], next);
  return opened;
}

describe("registering and testing a target", () => {
  test("an admin creates a target (the port follows the transport unless typed), then tests it: latency and the host name", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedIn("admin", "/targets");
    // The header's button (an empty list offers one too).
    await page.getByRole("link", { name: "New target" }).first().click();
    await page.getByRole("heading", { level: 1, name: "New target" }).waitFor();
    await hydrated(page);

    const port = page.getByLabel("Port", { exact: true });
    expect(await port.inputValue()).toBe("5985");
    await page.getByLabel("Transport").selectOption("https");
    await expect.poll(() => port.inputValue()).toBe("5986");
    // HTTPS shows its own settings: TLS verification on by default, a CA certificate field.
    expect(await page.getByLabel("Verify the listener's TLS certificate").isChecked()).toBe(true);
    await page.getByLabel("Transport").selectOption("http");
    await expect.poll(() => port.inputValue()).toBe("5985");
    await expect.poll(() => page.getByLabel("Verify the listener's TLS certificate").isVisible()).toBe(false);
    // A port of one's own stays when the transport changes.
    await port.fill(String(winrm.port));
    await page.getByLabel("Transport").selectOption("https");
    await page.getByLabel("Transport").selectOption("http");
    expect(await port.inputValue()).toBe(String(winrm.port));

    expect(await describedText(page, "Allow unencrypted traffic")).toContain("readable by anyone on the path");
    await page.getByLabel("Authentication").selectOption("basic");
    await page.getByText("Basic auth over HTTP sends the password readably").waitFor();
    await page.getByLabel("Authentication").selectOption("ntlm");

    await page.getByLabel("Name", { exact: true }).fill("win-lab-01");
    // Before a host is typed the picker says what it waits for.
    expect(await describedText(page, "Credential")).toContain("Type the host name first");
    await page.getByLabel("Host name").fill("127.0.0.1");
    // Offered by policy for 127.0.0.1; an admin may still pick dc-only, marked as outside its policy.
    await expect.poll(() => options(page, "Credential")).toEqual(["No credential", "lab-winrm", "lab-wrong-password", "dc-only (outside its usage policy)", "metadata-cred (outside its usage policy)"]);
    expect(await describedText(page, "Credential")).toContain("Outside their policy: dc-only, metadata-cred.");
    await page.getByLabel("Credential").selectOption({ label: "lab-winrm" });
    await page.getByLabel("Tags", { exact: true }).fill("lab");
    await page.getByLabel("Tags", { exact: true }).press("Enter");
    await page.getByLabel("Tags", { exact: true }).fill("prod");
    await page.getByLabel("Tags", { exact: true }).press(",");
    await page.getByLabel("Description").fill("The lab's WinRM host");
    await page.getByRole("button", { name: "Create target" }).click();

    await page.waitForURL(/\/targets\/[0-9a-f-]{36}$/);
    await page.getByRole("heading", { level: 1, name: "win-lab-01" }).waitFor();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Target win-lab-01 registered." }).count()).toBeGreaterThan(0);
    const row = await app.prisma.target.findUniqueOrThrow({ where: { name: "win-lab-01" } });
    expect(row).toMatchObject({ hostname: "127.0.0.1", port: winrm.port, winrmTransport: "http", winrmAuth: "ntlm", winrmAllowUnencrypted: false, credentialId: right.id, tags: ["lab", "prod"], description: "The lab's WinRM host" });
    expect(await page.getByText("Never tested.").count()).toBe(1);

    await hydrated(page);
    const identifies = winrm.stats.operations.identify;
    let release = () => {};
    gate = new Promise((resolve) => (release = resolve));
    await page.getByRole("button", { name: "Test connection" }).click();
    // While the host has not answered: the button is busy and the page says whom it is reaching.
    const busy = page.getByRole("button", { name: "Testing…" });
    await busy.waitFor();
    expect(await busy.isDisabled()).toBe(true);
    await page.getByRole("status").getByText(`Connecting to 127.0.0.1:${winrm.port} over HTTP…`).waitFor();
    if (SHOTS_DIR) await page.screenshot({ path: join(SHOTS_DIR, "target-test-running-1280-light.png"), fullPage: true });
    release();
    gate = null;
    await page.getByTestId("test-latency").waitFor();
    expect(await page.getByTestId("test-latency").textContent()).toMatch(/^\d+ ms$/);
    expect(await page.getByTestId("test-hostname").textContent()).toBe("WIN-TEST-01");
    expect(winrm.stats.operations.identify).toBeGreaterThan(identifies);
    if (SHOTS_DIR) await page.screenshot({ path: join(SHOTS_DIR, "target-test-ok-1280-light.png"), fullPage: true });
    // The page's last test follows (the action revalidates the loader), as the list does.
    await page.getByText("connected; hostname WIN-TEST-01").waitFor();
    const tested = await app.prisma.target.findUniqueOrThrow({ where: { id: row.id } });
    expect(tested).toMatchObject({ lastTestOk: true });
    await page.goto(`${app.url}/targets`);
    const listed = page.getByRole("row").filter({ hasText: "win-lab-01" });
    expect(await listed.textContent()).toContain("ok");
    expect(await listed.textContent()).toContain(`${tested.lastTestLatencyMs} ms`);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a wrong password: the test shows the error and the hint of what to fix on the Windows side", { timeout: 90_000 }, async () => {
    const t = await target({ name: "win-wrong-pass", hostname: "127.0.0.1", port: winrm.port, credentialId: wrong.id });
    const { context, page, problems } = await signedIn("operator", `/targets/${t.id}`);
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByTestId("test-hint").waitFor();
    expect(await page.getByTestId("test-hint").textContent()).toContain("The host refused the credential: check the credential's user name, password and domain");
    expect(await page.getByTestId("test-error").textContent()).not.toContain("not-the-password");
    if (SHOTS_DIR) await page.screenshot({ path: join(SHOTS_DIR, "target-test-failed-1280-light.png"), fullPage: true });
    await page.getByRole("region", { name: "Connection test" }).getByText("failed", { exact: true }).waitFor();
    expect((await app.prisma.target.findUniqueOrThrow({ where: { id: t.id } })).lastTestOk).toBe(false);
    expect(await page.content()).not.toContain("not-the-password");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a test the service refuses (an address connection tests may not reach) says why next to the button, and nothing is sent", { timeout: 90_000 }, async () => {
    const t = await target({ name: "win-metadata", hostname: "169.254.169.254", credentialId: metadata.id });
    const { context, page, problems } = await signedIn("admin", `/targets/${t.id}`);
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByRole("status").getByText("Connection tests may not reach 169.254.169.254").waitFor();
    expect(await page.getByRole("button", { name: "Test connection" }).isEnabled()).toBe(true);
    expect((await app.prisma.target.findUniqueOrThrow({ where: { id: t.id } })).lastTestAt).toBeNull();
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("the credential picker and the usage policy", () => {
  test("an operator is offered only credentials whose policy includes the host, is told why others are missing, and binding one outside the policy is refused next to the field", { timeout: 90_000 }, async () => {
    const { context, page, problems } = await signedIn("operator", "/targets/new");
    await page.getByLabel("Name", { exact: true }).fill("web-01");
    await page.getByLabel("Host name").fill("web01.corp.example");
    await expect.poll(() => options(page, "Credential")).toEqual(["No credential", "lab-winrm"]);
    expect(await describedText(page, "Credential")).toContain("Not offered: dc-only, lab-wrong-password, metadata-cred, whose usage policy does not include web01.corp.example");
    await page.getByLabel("Credential").selectOption({ label: "lab-winrm" });

    // Re-pointed at a host outside lab-winrm's policy: the choice stays, marked, and saving is refused.
    await page.getByLabel("Host name").fill("web01.other.example");
    await expect.poll(() => options(page, "Credential")).toEqual(["No credential", "lab-winrm (not allowed for web01.other.example)"]);
    expect(await describedText(page, "Credential")).toContain("saving will be refused");
    await page.getByRole("button", { name: "Create target" }).click();
    await expect.poll(() => describedText(page, "Credential")).toContain("Credential lab-winrm may not be used against host web01.other.example");
    expect(await page.getByLabel("Credential").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("web-01");
    expect(await page.getByLabel("Host name").inputValue()).toBe("web01.other.example");
    expect(await app.prisma.target.count({ where: { name: "web-01" } })).toBe(0);
    expect(await app.prisma.auditLog.count({ where: { action: "credential.policy_refused", actorName: "operator" } })).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("bad input", () => {
  test("is shown next to its field, keeps the other fields and saves nothing (browser checks and the service's refusals)", { timeout: 90_000 }, async () => {
    await target({ name: "taken-name", hostname: "taken.corp.example" });
    const { context, page, problems } = await signedIn("admin", "/targets/new");
    await hydrated(page);
    await page.getByLabel("Name", { exact: true }).fill("bad-host");
    await page.getByLabel("Host name").fill("not a host!");
    await page.getByLabel("Description").fill("kept");
    await page.getByRole("button", { name: "Create target" }).click();
    await expect.poll(() => describedText(page, "Host name")).toContain("Must be a host name or IP address.");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("bad-host");

    // The service's refusals: a name already taken (any case), a CA certificate that is no PEM.
    await page.getByLabel("Host name").fill("ok.corp.example");
    await page.getByLabel("Name", { exact: true }).fill("TAKEN-name");
    await page.getByRole("button", { name: "Create target" }).click();
    await expect.poll(() => describedText(page, "Name")).toContain("already exists");
    expect(await page.getByLabel("Host name").inputValue()).toBe("ok.corp.example");
    expect(await page.getByLabel("Description").inputValue()).toBe("kept");

    await page.getByLabel("Name", { exact: true }).fill("tls-01");
    await page.getByLabel("Transport").selectOption("https");
    await page.getByLabel("CA certificate (PEM)").fill("not a certificate");
    await page.getByRole("button", { name: "Create target" }).click();
    await expect.poll(() => describedText(page, "CA certificate (PEM)")).toContain("Must be PEM text");
    expect(await page.getByLabel("Port", { exact: true }).inputValue()).toBe("5986");

    // A CA certificate read from a file fills the field (the file itself is never posted).
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----\n";
    await page.getByLabel("Read the CA certificate from a file").setInputFiles({ name: "lab-ca.pem", mimeType: "application/x-pem-file", buffer: Buffer.from(pem) });
    await expect.poll(() => page.getByLabel("CA certificate (PEM)").inputValue()).toBe(pem);
    await page.getByLabel("Depends on").fill("no-such-target");
    await page.getByLabel("Depends on").press("Enter");
    await page.getByRole("button", { name: "Create target" }).click();
    await expect.poll(() => describedText(page, "Depends on")).toContain("Names no target called no-such-target");
    expect(await app.prisma.target.count({ where: { name: { in: ["bad-host", "tls-01"] } } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("editing, dependencies and deleting", () => {
  test("an edit keeps what it does not touch; the detail page links dependencies both ways and lists recent runs; delete asks first and is refused while a job names the target", { timeout: 120_000 }, async () => {
    const base = await target({ name: "dep-base", hostname: "base.corp.example" });
    const app1 = await target({ name: "dep-app", hostname: "app.corp.example", dependsOn: [base.id], tags: ["web"] });
    const job = await createTestJob(app.prisma, { name: "uses-dep-app", definition: { name: "uses-dep-app", steps: [{ type: "winrm.exec", target: "DEP-APP", command: "hostname" }] } });
    const run = await createTestRun(app.prisma, job, { status: "succeeded" });
    await createTestStep(app.prisma, run.id, { targetId: app1.id, targetName: "dep-app", status: "succeeded" });

    const { context, page, problems } = await signedIn("admin", `/targets/${base.id}`);
    // Needed by: the other direction of the dependency.
    await page.getByRole("link", { name: "dep-app" }).click();
    await page.getByRole("heading", { level: 1, name: "dep-app" }).waitFor();
    await page.getByRole("link", { name: "dep-base" }).waitFor();
    const runs = page.getByRole("region", { name: "Recent runs on this target" });
    expect(await runs.getByRole("row").filter({ hasText: "uses-dep-app" }).textContent()).toContain("succeeded");
    expect(await runs.getByRole("link", { name: "uses-dep-app" }).getAttribute("href")).toBe(`/runs/${run.id}`);
    expect(await page.getByRole("link", { name: "All runs on this target" }).getAttribute("href")).toBe(`/runs?target=${app1.id}`);

    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("heading", { level: 1, name: "Edit dep-app" }).waitFor();
    await hydrated(page);
    expect(await page.getByRole("list", { name: "Depends on: 1" }).textContent()).toContain("dep-base");
    await page.getByLabel("Description").fill("now described");
    await page.getByRole("button", { name: "Save target" }).click();
    await page.waitForURL(`${app.url}/targets/${app1.id}`);
    const saved = await app.prisma.target.findUniqueOrThrow({ where: { id: app1.id }, include: { dependsOn: true } });
    expect(saved).toMatchObject({ description: "now described", tags: ["web"], hostname: "app.corp.example", winrmRejectUnauthorized: true });
    expect(saved.dependsOn.map((d) => d.dependsOnId)).toEqual([base.id]);

    // A job's steps name it: the dialog says so, and the service refuses.
    await hydrated(page);
    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete dep-app?" });
    expect(await dialog.textContent()).toContain("The steps of uses-dep-app name it");
    await dialog.getByRole("button", { name: "Delete target" }).click();
    await page.getByRole("alert").getByText("Not deleted: Target dep-app is named by the steps of job uses-dep-app").waitFor();
    expect(await app.prisma.target.count({ where: { id: app1.id } })).toBe(1);

    // dep-base is named by no job: deleted after the confirmation, its dependents told beforehand.
    await page.goto(`${app.url}/targets/${base.id}`);
    await hydrated(page);
    await page.getByRole("button", { name: "Delete" }).click();
    const baseDialog = page.getByRole("dialog", { name: "Delete dep-base?" });
    expect(await baseDialog.textContent()).toContain("dep-app depends on it and loses that dependency");
    await baseDialog.getByRole("button", { name: "Cancel" }).click();
    expect(await app.prisma.target.count({ where: { id: base.id } })).toBe(1);
    await page.getByRole("button", { name: "Delete" }).click();
    await baseDialog.getByRole("button", { name: "Delete target" }).click();
    await page.waitForURL(`${app.url}/targets`);
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Target dep-base deleted." }).count()).toBeGreaterThan(0);
    expect(await app.prisma.target.count({ where: { id: base.id } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("the list", () => {
  test("filters by text, tag and OS, sorts by the column headers, and pages with a cursor", { timeout: 90_000 }, async () => {
    for (let i = 1; i <= 27; i++) await target({ name: `fleet-${String(i).padStart(2, "0")}`, hostname: `fleet${i}.corp.example`, tags: i % 2 ? ["odd"] : ["even"], os: i === 7 ? "linux" : "windows" });
    const { context, page, problems } = await signedIn("viewer", "/targets?q=fleet");
    const names = () => page.getByRole("region", { name: "Targets" }).getByRole("row").locator("td:first-child").allTextContents();
    // Signing in ends with a client-side navigation: wait for the list it leads to.
    await expect.poll(async () => (await names()).slice(0, 3)).toEqual(["fleet-01", "fleet-02", "fleet-03"]);
    expect(await names()).toHaveLength(25);
    await page.getByRole("link", { name: "Next page" }).click();
    await expect.poll(names).toEqual(["fleet-26", "fleet-27"]);
    await page.getByRole("link", { name: "First page" }).click();
    await page.getByRole("link", { name: /^Name/ }).click();
    await expect.poll(async () => (await names())[0]).toBe("fleet-27");
    expect(page.url()).toContain("sort=-name");

    await page.getByLabel("Tag", { exact: true }).fill("even");
    await page.getByLabel("OS", { exact: true }).selectOption("windows");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(async () => (await names()).length).toBe(13);
    expect(page.url()).toContain("sort=-name");
    await page.getByLabel("Search name, host or description").fill("fleet7.corp");
    await page.getByLabel("Tag", { exact: true }).fill("");
    await page.getByLabel("OS", { exact: true }).selectOption("linux");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(names).toEqual(["fleet-07"]);
    await page.getByLabel("OS", { exact: true }).selectOption("windows");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("No target matches these filters").waitFor();
    // A cursor made under another order is the 400 page, not a 500.
    await page.goto(`${app.url}/targets?q=fleet`);
    const next = await page.getByRole("link", { name: "Next page" }).getAttribute("href");
    expect(next).toMatch(/^\/targets\?q=fleet&cursor=/);
    const res = await page.goto(`${app.url}${next!.replace("?", "?sort=-hostname&")}`);
    expect(res?.status()).toBe(400);
    await page.getByRole("heading", { name: "This address asks for something the page cannot show" }).waitFor();
    await page.getByText("query.cursor belongs to another sort order").waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("roles", () => {
  test("a viewer sees no create, import, edit, delete or test controls, gets the 403 page on the forms, and the server refuses their actions", { timeout: 90_000 }, async () => {
    const t = await target({ name: "viewer-sees", hostname: "127.0.0.1", port: winrm.port, credentialId: right.id });
    const { context, page, problems } = await signedIn("viewer", "/targets?q=viewer-sees");
    await page.getByRole("heading", { level: 1, name: "Targets" }).waitFor();
    for (const name of ["New target", "Import from CSV"]) expect(await page.getByRole("link", { name }).count()).toBe(0);
    await page.getByRole("link", { name: "viewer-sees" }).click();
    await page.getByRole("heading", { level: 1, name: "viewer-sees" }).waitFor();
    expect(await page.getByRole("button").allTextContents()).toEqual(["Sign out"]);
    expect(await page.getByRole("link", { name: "Edit" }).count()).toBe(0);
    // An id that is no UUID, or names no target, is the 404 page.
    for (const path of ["/targets/not-a-uuid", `/targets/${crypto.randomUUID()}`, `/targets/${crypto.randomUUID()}/edit`]) {
      expect((await page.goto(`${app.url}${path}`))?.status(), path).toBe(path.endsWith("/edit") ? 403 : 404);
    }
    for (const path of ["/targets/new", "/targets/import", `/targets/${t.id}/edit`]) {
      const res = await page.goto(`${app.url}${path}`);
      expect(res?.status(), path).toBe(403);
      await page.getByRole("heading", { name: "You don't have access to this page" }).waitFor();
    }
    // The forms' actions refuse a viewer even when posted by hand.
    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${app.url}${path}`, { method: "POST", redirect: "manual", headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, ...form }) });
    for (const [path, form] of [
      [`/targets/${t.id}`, { intent: "delete" }],
      [`/targets/${t.id}`, { intent: "test" }],
      ["/targets/new", { intent: "save", name: "by-viewer", hostname: "h", os: "windows", "winrm.transport": "http", "winrm.auth": "ntlm" }],
      ["/targets/import", { intent: "import", csv: "name,hostname\nby-viewer-csv,h" }],
    ] as const) {
      expect((await post(path, form)).status, `${path} ${form.intent}`).toBe(403);
    }
    expect(await app.prisma.target.count({ where: { id: t.id } })).toBe(1);
    expect(await app.prisma.target.count({ where: { name: { in: ["by-viewer", "by-viewer-csv"] } } })).toBe(0);
    expect(await app.prisma.target.findUniqueOrThrow({ where: { id: t.id } })).toMatchObject({ lastTestAt: null });
    expect(problems).toEqual([]);
    await context.close();
  });
});
