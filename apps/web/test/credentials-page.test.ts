// The Credentials pages in a real browser: creating each kind with its own fields and a usage
// policy (an SSH key read from a local file), replacing a secret, editing the policy (a bad entry
// refused next to the field, nothing saved), delete refused while targets use it (named, linked),
// what operators and viewers get, and that no stored secret ever reaches a page, its loader data or
// an action's answer.
import { createKeyring, decryptSecret } from "@opsconductor/core";
import { parseMasterKeys } from "@opsconductor/db";
import { checkPage, describedText, hydrated, openPage, signIn, useBrowser, type OpenedPage } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();
const tokens = await app.signInAll();
const keyring = createKeyring(parseMasterKeys(app.masterKey));

// Every secret any test stores; none may appear in anything the server sends a browser.
const SECRETS = {
  winrm: "Winrm-Secret-Pass-1",
  rotated: "Winrm-Rotated-Pass-2",
  sshKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDfakeKeyBody\n-----END OPENSSH PRIVATE KEY-----\n",
  passphrase: "ssh-pass-phrase-9",
  apiKey: "ak-live-0123456789abcdef",
  apiRotated: "ak-live-rotated-fedcba987654",
  typedNotSaved: "Typed-But-Refused-Pass-3",
};
const SECRET_NEEDLES = Object.values(SECRETS).flatMap((s) => [s, s.slice(0, 12)]).concat(["b3BlbnNzaC1rZXktdjEAAAA"]);

async function secretOf(id: string): Promise<unknown> {
  const row = await app.prisma.credential.findUniqueOrThrow({ where: { id } });
  const b64 = (v: Uint8Array) => Buffer.from(v).toString("base64");
  const sealed = { v: 1 as const, alg: "AES-256-GCM" as const, keyId: row.keyId, wrappedKey: b64(row.wrappedKey), iv: b64(row.iv), ciphertext: b64(row.ciphertext), authTag: b64(row.authTag) };
  return JSON.parse(decryptSecret(keyring, sealed, { aad: id }));
}

// Keeps the body of every answer the app gives the page (documents, loader data, action answers).
function recordAnswers(page: Page): string[] {
  const bodies: string[] = [];
  page.on("response", (response) => {
    if (!response.url().startsWith(app.url) || response.status() === 204 || (response.status() >= 300 && response.status() < 400)) return;
    void response.text().then(
      (text) => bodies.push(`${response.url()}\n${text}`),
      () => undefined,
    );
  });
  return bodies;
}

const leaks = (bodies: readonly string[]) => bodies.flatMap((body) => SECRET_NEEDLES.filter((needle) => body.includes(needle)).map((needle) => `${needle} in ${body.split("\n")[0]}`));

async function openAs(role: TestRole, path: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}): Promise<OpenedPage & { answers: string[] }> {
  const opened = await openPage(browser(), options);
  const answers = recordAnswers(opened.page);
  await signIn(opened.page, app.url, role, PASSWORDS[role], path);
  return { ...opened, answers };
}

// What the browser's cookies fetch without JavaScript: a page's HTML or a form's answer.
async function plain(context: BrowserContext, path: string, form?: Record<string, string | string[]>) {
  const cookies = await context.cookies();
  const headers: Record<string, string> = { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; ") };
  let body: URLSearchParams | undefined;
  if (form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams();
    body.append("csrf", cookies.find((c) => c.name === "oc_csrf")?.value ?? "");
    for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) body.append(name, v);
  }
  const res = await fetch(`${app.url}${path}`, { method: form ? "POST" : "GET", headers, body, redirect: "manual" });
  return { status: res.status, text: await res.text(), location: res.headers.get("location") };
}

const createViaApi = (body: Record<string, unknown>) => app.create<{ id: string; name: string }>("/api/credentials", tokens.admin, body);

async function addPolicyEntries(page: Page, entries: string[]) {
  const input = page.getByLabel("Allowed hosts", { exact: true });
  for (const entry of entries) {
    await input.fill(entry);
    await input.press("Enter");
  }
}

describe("an admin", () => {
  test("creates a WinRM credential with a usage policy: a bad entry is refused next to the field first, the rest kept", { timeout: 120_000 }, async () => {
    const { context, page, problems, answers } = await openAs("admin", "/credentials");
    await page.getByText("No credentials yet").waitFor();
    await page.getByRole("link", { name: "New credential" }).first().click();
    await page.waitForURL(`${app.url}/credentials/new`);
    await hydrated(page);
    expect(await describedText(page, "Allowed hosts")).toContain("a host name (web-01.corp.example), a wildcard (*.corp.example), an IP address (10.0.0.5) or a CIDR range (10.0.0.0/24)");

    await page.getByLabel("Name", { exact: true }).fill("corp-admin");
    await page.getByLabel("Username", { exact: true }).fill("svc-ops");
    await page.getByLabel("Domain", { exact: true }).fill("CORP");
    await page.getByLabel("Description", { exact: true }).fill("Domain account for the web farm");
    await page.getByLabel("Password", { exact: true }).fill(SECRETS.winrm);
    await addPolicyEntries(page, ["*.corp.example", "10.0.0.0/24", "web farm"]);
    await page.getByRole("button", { name: "Create credential" }).click();
    await expect.poll(() => describedText(page, "Allowed hosts")).toContain("“web farm”: Must be a host name");
    expect(await page.getByLabel("Allowed hosts", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("corp-admin");
    expect(await page.getByLabel("Domain", { exact: true }).inputValue()).toBe("CORP");
    expect(await app.prisma.credential.count()).toBe(0);

    await page.getByRole("button", { name: "Remove web farm" }).click();
    await page.getByRole("button", { name: "Create credential" }).click();
    await page.waitForURL(/\/credentials\/[0-9a-f-]{36}$/);
    await page.getByRole("status").getByText("Credential corp-admin created.").waitFor();
    await page.getByRole("heading", { level: 1, name: "corp-admin" }).waitFor();
    const stored = await app.prisma.credential.findUniqueOrThrow({ where: { name: "corp-admin" } });
    expect([stored.type, stored.username, stored.domain, stored.description, stored.usagePolicy]).toEqual(["winrm", "svc-ops", "CORP", "Domain account for the web farm", ["*.corp.example", "10.0.0.0/24"]]);
    expect(await secretOf(stored.id)).toEqual({ password: SECRETS.winrm });

    // The list shows it with its policy, no target, and when it changed.
    await page.getByRole("link", { name: "All credentials" }).click();
    const row = page.getByRole("row").filter({ hasText: "corp-admin" });
    await row.waitFor();
    expect(await row.getByRole("cell").allInnerTexts()).toEqual(["corp-admin", "WinRM", expect.stringMatching(/\*\.corp\.example\s+10\.0\.0\.0\/24/), "0", expect.stringMatching(/ UTC$/)]);
    expect(leaks(answers)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("creates an SSH credential from a key file read in the browser (a public key file is refused), and an API key credential", { timeout: 120_000 }, async () => {
    const { context, page, problems, answers } = await openAs("admin", "/credentials/new");
    await page.getByLabel("Type", { exact: true }).selectOption("ssh");
    await page.getByLabel("Private key", { exact: true }).waitFor();
    expect(await page.getByLabel("Domain", { exact: true }).count()).toBe(0);
    expect(await page.getByLabel("Password", { exact: true }).count()).toBe(0);
    const keyFile = page.getByLabel("Or read the private key from a file");
    await keyFile.setInputFiles({ name: "id_ed25519.pub", mimeType: "text/plain", buffer: Buffer.from("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake deploy@ci\n") });
    await expect.poll(() => describedText(page, "Or read the private key from a file")).toContain("id_ed25519.pub holds a public key.");
    expect(await page.getByLabel("Private key", { exact: true }).inputValue()).toBe("");
    await keyFile.setInputFiles({ name: "id_ed25519", mimeType: "application/octet-stream", buffer: Buffer.from(SECRETS.sshKey) });
    await expect.poll(() => page.getByLabel("Private key", { exact: true }).inputValue()).toBe(SECRETS.sshKey);
    expect(await describedText(page, "Or read the private key from a file")).toContain("Read id_ed25519 into the key field.");
    await page.getByLabel("Name", { exact: true }).fill("deploy-key");
    await page.getByLabel("Username", { exact: true }).fill("deploy");
    await page.getByLabel("Passphrase", { exact: true }).fill(SECRETS.passphrase);
    await addPolicyEntries(page, ["build-01.corp.example"]);
    await page.getByRole("button", { name: "Create credential" }).click();
    await page.getByRole("status").getByText("Credential deploy-key created.").waitFor();
    const ssh = await app.prisma.credential.findUniqueOrThrow({ where: { name: "deploy-key" } });
    expect([ssh.type, ssh.username, ssh.usagePolicy]).toEqual(["ssh", "deploy", ["build-01.corp.example"]]);
    expect(await secretOf(ssh.id)).toEqual({ privateKey: SECRETS.sshKey, passphrase: SECRETS.passphrase });

    await page.goto(`${app.url}/credentials/new`);
    await hydrated(page);
    await page.getByLabel("Type", { exact: true }).selectOption("api_key");
    expect(await page.getByLabel("Username", { exact: true }).count()).toBe(0);
    await page.getByLabel("Name", { exact: true }).fill("monitoring");
    // An empty secret is refused next to it; nothing is stored.
    await page.getByRole("button", { name: "Create credential" }).click();
    await expect.poll(() => describedText(page, "API key")).toContain("Required.");
    await page.getByLabel("API key", { exact: true }).fill(SECRETS.apiKey);
    await page.getByRole("button", { name: "Create credential" }).click();
    await page.getByRole("status").getByText("Credential monitoring created.").waitFor();
    const api = await app.prisma.credential.findUniqueOrThrow({ where: { name: "monitoring" } });
    expect([api.type, api.username, api.usagePolicy]).toEqual(["api_key", null, []]);
    expect(await secretOf(api.id)).toEqual({ apiKey: SECRETS.apiKey });
    expect(leaks(answers)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("replaces a secret with a form that takes only the new one; a refused answer echoes no secret", { timeout: 120_000 }, async () => {
    const made = await createViaApi({ name: "rotate-me", type: "winrm", username: "svc", usagePolicy: ["rot.corp.example"], secret: { password: SECRETS.winrm } });
    const { context, page, problems, answers } = await openAs("admin", `/credentials/${made.id}`);
    expect(await page.getByLabel("New password", { exact: true }).inputValue()).toBe("");
    await page.getByRole("button", { name: "Replace secret" }).click();
    await expect.poll(() => describedText(page, "New password")).toContain("Required.");
    await page.getByLabel("New password", { exact: true }).fill(SECRETS.rotated);
    await page.getByRole("button", { name: "Replace secret" }).click();
    await page.getByRole("status").getByText("Secret replaced.").waitFor();
    await expect.poll(() => page.getByLabel("New password", { exact: true }).inputValue()).toBe("");
    expect(await secretOf(made.id)).toEqual({ password: SECRETS.rotated });
    const row = await app.prisma.credential.findUniqueOrThrow({ where: { id: made.id } });
    expect([row.rotatedAt !== null, row.username, row.usagePolicy]).toEqual([true, "svc", ["rot.corp.example"]]);
    expect(await app.prisma.auditLog.count({ where: { action: "credential.rotate", entityId: made.id } })).toBe(1);
    await page.getByText("Secret last replaced").waitFor();

    // Without JavaScript: a secret of the wrong shape comes back refused, naming the field, holding no secret.
    const refused = await plain(context, `/credentials/${made.id}`, { intent: "rotate", type: "winrm", "secret.password": "", "secret.apiKey": SECRETS.typedNotSaved });
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain(SECRETS.typedNotSaved);
    expect(await secretOf(made.id)).toEqual({ password: SECRETS.rotated });
    // An API key credential's form asks for a new API key.
    const api = await createViaApi({ name: "rotate-key", type: "api_key", secret: { apiKey: SECRETS.apiKey } });
    await page.goto(`${app.url}/credentials/${api.id}`);
    await hydrated(page);
    await page.getByLabel("New API key", { exact: true }).fill(SECRETS.apiRotated);
    await page.getByRole("button", { name: "Replace secret" }).click();
    await page.getByRole("status").getByText("Secret replaced.").waitFor();
    expect(await secretOf(api.id)).toEqual({ apiKey: SECRETS.apiRotated });
    expect(leaks([...answers, refused.text])).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("edits the usage policy: a bad entry is refused next to the field, the other fields keep what was typed, nothing is saved; then it saves", { timeout: 120_000 }, async () => {
    const made = await createViaApi({ name: "policy-edit", type: "winrm", username: "svc", domain: "CORP", description: "before", usagePolicy: ["a.corp.example"], secret: { password: SECRETS.winrm } });
    const { context, page, problems, answers } = await openAs("admin", `/credentials/${made.id}`);
    await page.getByRole("list", { name: "Allowed hosts: 1" }).getByText("a.corp.example").waitFor();
    await page.getByLabel("Description", { exact: true }).fill("after, not saved yet");
    await addPolicyEntries(page, ["10.1.0.0/33"]);
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => describedText(page, "Allowed hosts")).toContain("“10.1.0.0/33”: Has prefix length /33; an IPv4 range takes /0 to /32.");
    expect(await page.getByLabel("Description", { exact: true }).inputValue()).toBe("after, not saved yet");
    expect(await page.getByLabel("Domain", { exact: true }).inputValue()).toBe("CORP");
    expect((await app.prisma.credential.findUniqueOrThrow({ where: { id: made.id } })).description).toBe("before");

    // The server refuses it the same way when the browser does not check first.
    const server = await plain(context, `/credentials/${made.id}`, { intent: "edit", name: "policy-edit", username: "svc", domain: "CORP", description: "after", usagePolicy: ["a.corp.example", "*bad*"] });
    expect(server.status).toBe(400);
    expect(server.text).toContain("May use * only as a whole first label");
    const unchanged = await app.prisma.credential.findUniqueOrThrow({ where: { id: made.id } });
    expect([unchanged.description, unchanged.usagePolicy]).toEqual(["before", ["a.corp.example"]]);

    await page.getByRole("button", { name: "Remove 10.1.0.0/33" }).click();
    await addPolicyEntries(page, ["10.1.0.0/16", "WEB-02.corp.example."]);
    await page.getByRole("button", { name: "Remove a.corp.example" }).click();
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").getByText("Saved policy-edit.").waitFor();
    const saved = await app.prisma.credential.findUniqueOrThrow({ where: { id: made.id } });
    // Stored as matching compares them: lower case, no trailing dot.
    expect([saved.description, saved.usagePolicy, saved.domain]).toEqual(["after, not saved yet", ["10.1.0.0/16", "web-02.corp.example"], "CORP"]);
    await page.getByRole("list", { name: "Allowed hosts: 2" }).getByText("web-02.corp.example").waitFor();
    // The secret was not touched by the edit.
    expect(await secretOf(made.id)).toEqual({ password: SECRETS.winrm });
    expect(leaks(answers)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("deleting asks first; while targets use it, it is refused and the targets are named with links; once free, it is deleted", { timeout: 120_000 }, async () => {
    const made = await createViaApi({ name: "in-use", type: "winrm", username: "svc", secret: { password: SECRETS.winrm } });
    const targets = await Promise.all(["web-01", "web-02"].map((name) => app.prisma.target.create({ data: { name, hostname: `${name}.corp.example`, credentialId: made.id } })));
    const { context, page, problems, answers } = await openAs("admin", `/credentials/${made.id}`);
    await page.getByTestId("used-by").getByRole("link", { name: "web-01" }).waitFor();

    await page.getByRole("button", { name: "Delete credential" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete in-use?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Delete credential" }).click();
    await dialog.getByRole("button", { name: "Delete credential" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Not deleted." });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("Credential in-use is in use by target(s) web-01, web-02");
    for (const target of targets) expect(await alert.getByRole("link", { name: target.name }).getAttribute("href")).toBe(`/targets/${target.id}`);
    await page.getByRole("status").getByText("Credential in-use is in use").waitFor();
    expect(await app.prisma.credential.count({ where: { id: made.id } })).toBe(1);

    await app.prisma.target.deleteMany({ where: { credentialId: made.id } });
    await page.reload();
    await hydrated(page);
    await page.getByText("No target uses this credential.").waitFor();
    await page.getByRole("button", { name: "Delete credential" }).click();
    await dialog.getByRole("button", { name: "Delete credential" }).click();
    await page.waitForURL(`${app.url}/credentials`);
    await page.getByRole("status").getByText("Credential in-use deleted.").waitFor();
    expect(await app.prisma.credential.count({ where: { id: made.id } })).toBe(0);
    expect(await app.prisma.auditLog.count({ where: { action: "credential.delete", entityId: made.id } })).toBe(1);
    expect(leaks(answers)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("other roles", () => {
  test("an operator sees names and types only, with no create, edit or delete control; the admin pages are 403 and their forms refused", { timeout: 120_000 }, async () => {
    const made = await createViaApi({ name: "op-visible", type: "winrm", username: "hidden-user", domain: "HIDDENDOM", description: "hidden description", usagePolicy: ["hidden.corp.example"], secret: { password: SECRETS.winrm } });
    const { context, page, problems, answers } = await openAs("operator", "/credentials");
    const row = page.getByRole("row").filter({ hasText: "op-visible" });
    await row.waitFor();
    expect(await page.getByRole("columnheader").allInnerTexts()).toEqual([expect.stringMatching(/^Name/), "Type"]);
    expect(await row.getByRole("cell").allInnerTexts()).toEqual(["op-visible", "WinRM"]);
    expect(await row.getByRole("link").count()).toBe(0);
    expect(await page.getByRole("link", { name: "New credential" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /delete|save|replace/i }).count()).toBe(0);
    const html = (await plain(context, "/credentials")).text;
    for (const hidden of ["hidden-user", "HIDDENDOM", "hidden description", "hidden.corp.example"]) expect(html).not.toContain(hidden);
    // Searching matches names only, so hidden fields cannot be probed a substring at a time.
    await page.getByLabel("Search names").fill("hidden");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("No credential matches these filters").waitFor();

    for (const path of [`/credentials/${made.id}`, "/credentials/new"]) {
      const res = await page.goto(`${app.url}${path}`);
      expect(res?.status(), path).toBe(403);
      await page.getByRole("heading", { level: 1, name: "You don't have access to this page" }).waitFor();
    }
    const create = await plain(context, "/credentials/new", { name: "op-made", type: "winrm", "secret.password": "x" });
    const remove = await plain(context, `/credentials/${made.id}`, { intent: "delete" });
    expect([create.status, remove.status]).toEqual([403, 403]);
    expect(await app.prisma.credential.count({ where: { name: "op-made" } })).toBe(0);
    expect(await app.prisma.credential.count({ where: { id: made.id } })).toBe(1);
    expect(leaks(answers)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a viewer has no Credentials section and gets the 403 page on every credentials address", { timeout: 60_000 }, async () => {
    const made = await createViaApi({ name: "viewer-hidden", type: "api_key", secret: { apiKey: SECRETS.apiKey } });
    const { context, page, problems } = await openAs("viewer", "/");
    expect(await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Credentials" }).count()).toBe(0);
    for (const path of ["/credentials", "/credentials/new", `/credentials/${made.id}`]) {
      const res = await page.goto(`${app.url}${path}`);
      expect(res?.status(), path).toBe(403);
      await page.getByRole("heading", { level: 1, name: "You don't have access to this page" }).waitFor();
      expect(await page.content()).not.toContain("viewer-hidden");
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("secrets are write-only", () => {
  test("no page's HTML, loader data or form answer holds a stored secret, not even masked", { timeout: 120_000 }, async () => {
    const winrm = await createViaApi({ name: "leak-winrm", type: "winrm", username: "svc", secret: { password: SECRETS.winrm } });
    const ssh = await createViaApi({ name: "leak-ssh", type: "ssh", username: "deploy", secret: { privateKey: SECRETS.sshKey, passphrase: SECRETS.passphrase } });
    const api = await createViaApi({ name: "leak-api", type: "api_key", secret: { apiKey: SECRETS.apiKey } });
    const bodies: string[] = [];
    for (const role of ["admin", "operator"] as const) {
      const { context, page, problems, answers } = await openAs(role, "/credentials");
      const paths = role === "admin" ? ["/credentials", "/credentials/new", ...[winrm, ssh, api].map((c) => `/credentials/${c.id}`)] : ["/credentials"];
      for (const path of paths) {
        const routeId = path === "/credentials" ? "routes/_app.credentials._index" : path === "/credentials/new" ? "routes/_app.credentials.new" : "routes/_app.credentials.$id";
        // The HTML, the single-fetch loader data (turbo-stream), and the old ?_data= address.
        for (const address of [path, `${path}.data`, `${path}.data?_routes=${encodeURIComponent(routeId)}`, `${path}?_data=${encodeURIComponent(routeId)}`]) {
          const res = await plain(context, address);
          expect(res.status, address).toBe(200);
          bodies.push(`${address}\n${res.text}`);
        }
        if (role === "admin" && path.startsWith("/credentials/") && path !== "/credentials/new") {
          await page.goto(`${app.url}${path}`);
          await hydrated(page);
          // Client-side navigation fetches loader data too; the recorder keeps it.
          await page.getByRole("link", { name: "All credentials" }).click();
          await page.getByRole("heading", { level: 1, name: "Credentials" }).waitFor();
          await page.getByRole("link", { name: path === `/credentials/${ssh.id}` ? "leak-ssh" : path === `/credentials/${api.id}` ? "leak-api" : "leak-winrm" }).click();
          await page.getByRole("button", { name: "Replace secret" }).waitFor();
          // No secret field starts with a value: nothing to show, masked or not.
          const filled = await page.locator("input[type=password], textarea").evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value).filter((v) => v !== ""));
          expect(filled, path).toEqual([]);
        }
      }
      // The loader data answers really are the data (the credential's metadata is there).
      if (role === "admin") expect(bodies.find((b) => b.startsWith(`/credentials/${ssh.id}.data\n`))).toContain("deploy");
      bodies.push(...answers);
      expect(problems).toEqual([]);
      await context.close();
    }
    expect(bodies.length).toBeGreaterThan(20);
    expect(leaks(bodies)).toEqual([]);
  });
});

describe("every credentials page at 1280 and 390 px, light and dark", () => {
  test("no horizontal page scroll, no serious or critical axe violation, every control named", { timeout: 180_000 }, async () => {
    const made = await createViaApi({
      name: "a-credential-with-a-long-name-for-phones",
      type: "ssh",
      username: "deploy",
      description: "Used by the build agents",
      usagePolicy: ["*.build.corp.example", "10.20.0.0/16", "fd00:1234::/32", "agent-01.corp.example"],
      secret: { privateKey: SECRETS.sshKey },
    });
    await app.prisma.target.create({ data: { name: "agent-01", hostname: "agent-01.corp.example", credentialId: made.id } });
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const admin = await openAs("admin", "/credentials", { width, colorScheme });
        await checkPage(admin.page, `credentials admin ${width} ${colorScheme}`, `credentials-${width}-${colorScheme}`);
        await admin.page.goto(`${app.url}/credentials/new`);
        await hydrated(admin.page);
        await checkPage(admin.page, `credential-new admin ${width} ${colorScheme}`, `credential-new-${width}-${colorScheme}`);
        await admin.page.goto(`${app.url}/credentials/${made.id}`);
        await hydrated(admin.page);
        await checkPage(admin.page, `credential admin ${width} ${colorScheme}`, `credential-${width}-${colorScheme}`);
        expect(admin.problems).toEqual([]);
        await admin.context.close();

        const operator = await openAs("operator", "/credentials", { width, colorScheme });
        await checkPage(operator.page, `credentials operator ${width} ${colorScheme}`, `credentials-operator-${width}-${colorScheme}`);
        expect(operator.problems).toEqual([]);
        await operator.context.close();
      }
    }
  });
});
