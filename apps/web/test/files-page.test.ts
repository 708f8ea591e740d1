// The Files pages in a real browser: an upload that streams through XMLHttpRequest with a live
// progress bar (upload bandwidth throttled through the DevTools protocol, so progress can be seen
// mid-way on any machine), cancel, the size limit refused before a byte is sent, the list and its
// digests, delete refused while a job version copies the file, and what each role may do.
import { createHash, randomBytes } from "node:crypto";
import { checkPage, describedText, hydrated, openPage, signIn, useBrowser, type OpenedPage } from "@opsconductor/testing/browser";
import { cookieHeader, PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const MIB = 1024 * 1024;
// Small enough for the test to be quick, large enough that the limit is not the default 1 GiB.
const LIMIT = 8 * MIB;
const app = await startApp({ FILE_UPLOAD_MAX_BYTES: String(LIMIT) });
const browser = useBrowser();
const tokens = await app.signInAll();

async function openAs(role: TestRole, path: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}): Promise<OpenedPage> {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], path);
  return opened;
}

// Upload bandwidth of the page's network, in bytes per second (null: unthrottled).
async function throttleUploads(context: BrowserContext, page: Page, bytesPerSecond: number | null) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond ?? -1 });
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const progressText = (page: Page) => page.getByTestId("upload-progress-text").textContent();

// POSTs a page form as a browser without JavaScript would, with the context's cookies.
async function postForm(context: BrowserContext, path: string, fields: Record<string, string>) {
  const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`);
  const csrf = (await context.cookies()).find((c) => c.name === "oc_csrf")?.value ?? "";
  return fetch(`${app.url}${path}`, { method: "POST", redirect: "manual", headers: { cookie: cookieHeader(cookies), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrf, ...fields }) });
}

describe("uploading", () => {
  test("an admin uploads a file: progress in percent and bytes while it goes, then the list shows it with its size, SHA-256 and uploader", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await openAs("admin", "/files");
    await page.getByText("No files yet").waitFor();
    const bytes = randomBytes(6 * MIB);
    await page.getByLabel("File", { exact: true }).setInputFiles({ name: "payload.bin", mimeType: "application/octet-stream", buffer: bytes });
    // The name follows the picked file.
    await expect.poll(() => page.getByLabel("Name in the library").inputValue()).toBe("payload.bin");
    await page.getByLabel("Name in the library").fill("tools/payload.bin");

    await throttleUploads(context, page, 2 * MIB);
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const bar = page.getByLabel("Uploading tools/payload.bin");
    await bar.waitFor();
    // Seen mid-way: some bytes sent, not all; the text says how far in percent and bytes.
    await expect.poll(() => bar.evaluate((el: HTMLProgressElement) => el.value > 0 && el.value < el.max), { timeout: 30_000 }).toBe(true);
    expect(await progressText(page)).toMatch(/^\d{1,2}% · [\d.]+ (B|KiB|MiB) of 6\.0 MiB$/);
    expect(await bar.evaluate((el: HTMLProgressElement) => el.max)).toBe(bytes.length);

    await page.getByRole("status").getByText(`Uploaded tools/payload.bin (6.0 MiB), SHA-256 ${sha256(bytes).slice(0, 12)}…`).waitFor({ timeout: 60_000 });
    await throttleUploads(context, page, null);
    const row = page.getByRole("row").filter({ hasText: "tools/payload.bin" });
    await row.waitFor();
    expect(await row.getByRole("cell").allInnerTexts()).toEqual(["tools/payload.bin", "6.0 MiB", expect.stringMatching(new RegExp(`^${sha256(bytes).slice(0, 12)}…`)), "admin", expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/)]);
    // The whole digest is one hover away, and it is the digest of the bytes sent.
    expect(await row.locator("code").getAttribute("title")).toBe(sha256(bytes));
    const stored = await app.prisma.libraryFile.findFirstOrThrow({ where: { name: "tools/payload.bin" } });
    expect([Number(stored.size), stored.sha256, stored.uploadedByName]).toEqual([bytes.length, sha256(bytes), "admin"]);
    // The form is ready for the next file.
    expect(await page.getByLabel("Name in the library").inputValue()).toBe("");

    // The detail page shows the full digest too.
    await row.getByRole("link", { name: "tools/payload.bin" }).click();
    await page.getByRole("heading", { level: 1, name: "tools/payload.bin" }).waitFor();
    expect(await page.getByTestId("file-sha256").textContent()).toBe(sha256(bytes));
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an upload can be cancelled mid-way and stores nothing; a file over the limit is refused next to the field before a byte is sent; a bad name next to its field", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await openAs("operator", "/files");
    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === "/api/files") posts.push(request.url());
    });
    await page.getByLabel("File", { exact: true }).setInputFiles({ name: "slow.bin", mimeType: "application/octet-stream", buffer: randomBytes(4 * MIB) });
    await throttleUploads(context, page, 256 * 1024);
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const bar = page.getByLabel("Uploading slow.bin");
    await expect.poll(() => bar.evaluate((el: HTMLProgressElement) => el.value > 0), { timeout: 30_000 }).toBe(true);
    await page.getByRole("button", { name: "Cancel upload" }).click();
    await page.getByRole("status").getByText("Upload cancelled; nothing was stored.").waitFor();
    await bar.waitFor({ state: "detached" });
    await throttleUploads(context, page, null);
    expect(posts).toHaveLength(1);

    // Over the limit: refused in the browser, next to the file field, with the limit spelled out.
    await page.getByLabel("File", { exact: true }).setInputFiles({ name: "too-big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(LIMIT + 1) });
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect.poll(() => describedText(page, "File")).toContain("Too large: the library takes files of at most 8.0 MiB.");
    expect(await page.getByLabel("File", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(posts).toHaveLength(1);

    // A name the library refuses: the message is next to the name, the chosen file stays.
    await page.getByLabel("File", { exact: true }).setInputFiles({ name: "small.txt", mimeType: "text/plain", buffer: Buffer.from("hello\n") });
    await page.getByLabel("Name in the library").fill("0b7d2c4e-8f1a-4c3b-9d2e-5a6f7b8c9d0e");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect.poll(() => describedText(page, "Name in the library")).toContain("Must not look like a file id (a UUID).");
    expect(posts).toHaveLength(1);
    await page.getByLabel("Name in the library").fill("small.txt");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByRole("row").filter({ hasText: "small.txt" }).waitFor();
    expect((await app.prisma.libraryFile.findFirstOrThrow({ where: { name: "small.txt" } })).uploadedByName).toBe("operator");
    // The cancelled upload left nothing behind (its transaction rolled back when the client went).
    expect(await app.prisma.libraryFile.count({ where: { name: "slow.bin" } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("the server's own refusal of an upload names the limit: a 413 from POST /api/files with the page's session", { timeout: 60_000 }, async () => {
    // The browser checks the size first; this is the answer it relies on when something else (a
    // proxy's smaller limit, a stale page) lets a larger file through.
    const { context, page, problems } = await openAs("admin", "/files");
    await hydrated(page);
    const answer = await page.evaluate(async (size) => {
      const csrf = decodeURIComponent(document.cookie.split("; ").find((c) => c.startsWith("oc_csrf="))!.slice("oc_csrf=".length));
      const res = await fetch("/api/files?name=big.bin", { method: "POST", headers: { "x-csrf-token": csrf, "content-type": "application/octet-stream" }, body: new Uint8Array(size) });
      return { status: res.status, body: await res.json() };
    }, LIMIT + 1);
    expect(answer).toEqual({ status: 413, body: { error: expect.objectContaining({ code: "payload_too_large", message: `the request body may be at most ${LIMIT} bytes` }) } });
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("deleting", () => {
  test("asks first; refused while a job version copies the file (the job named); an unused file is deleted, with a toast", { timeout: 120_000 }, async () => {
    const used = await app.request("POST", "/api/files?name=agent.msi", { token: tokens.admin, rawBody: "msi bytes", headers: { "content-type": "application/octet-stream" } });
    const spare = await app.request("POST", "/api/files?name=spare.zip", { token: tokens.admin, rawBody: "zip bytes", headers: { "content-type": "application/octet-stream" } });
    expect([used.status, spare.status]).toEqual([201, 201]);
    await app.create("/api/jobs", tokens.operator, { name: "install-agent", steps: [{ type: "winrm.copy", target: "web-01", file: "agent.msi", destination: "C:\\Temp\\agent.msi" }] });

    const { context, page, problems } = await openAs("admin", `/files/${used.body.id}`);
    await page.getByTestId("used-by").getByText("version 1 of job install-agent").waitFor();
    await page.getByRole("button", { name: "Delete file" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete agent.msi?" });
    await checkPage(page, "file delete dialog", "file-delete-dialog-1280-light");
    await dialog.getByRole("button", { name: "Delete file" }).click();
    const alert = page.getByRole("alert");
    await alert.getByText("Not deleted.").waitFor();
    expect(await alert.textContent()).toContain("File agent.msi is used by version 1 of job install-agent");
    await dialog.waitFor({ state: "hidden" });
    expect(await app.prisma.libraryFile.count({ where: { id: used.body.id } })).toBe(1);

    await page.goto(`${app.url}/files/${spare.body.id}`);
    await hydrated(page);
    await page.getByRole("button", { name: "Delete file" }).click();
    // Cancel keeps it.
    await page.getByRole("dialog", { name: "Delete spare.zip?" }).getByRole("button", { name: "Cancel" }).click();
    expect(await app.prisma.libraryFile.count({ where: { id: spare.body.id } })).toBe(1);
    await page.getByRole("button", { name: "Delete file" }).click();
    await page.getByRole("dialog", { name: "Delete spare.zip?" }).getByRole("button", { name: "Delete file" }).click();
    await page.waitForURL(`${app.url}/files`);
    await page.getByRole("status").getByText("File spare.zip deleted.").waitFor();
    expect(await app.prisma.libraryFile.count({ where: { id: spare.body.id } })).toBe(0);
    expect(await page.getByRole("row").filter({ hasText: "spare.zip" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("roles", () => {
  test("a viewer sees the list and a file's page, with no upload or delete control; the server refuses the delete anyway", { timeout: 120_000 }, async () => {
    const file = await app.request("POST", "/api/files?name=readme.txt", { token: tokens.admin, rawBody: "read me", headers: { "content-type": "application/octet-stream" } });
    const { context, page, problems } = await openAs("viewer", "/files");
    await page.getByRole("row").filter({ hasText: "readme.txt" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Files" }).count()).toBe(1);
    expect(await page.getByLabel("File", { exact: true }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Upload" }).count()).toBe(0);
    expect(await page.getByRole("heading", { name: "Upload a file" }).count()).toBe(0);

    await page.getByRole("link", { name: "readme.txt" }).click();
    await page.getByRole("heading", { level: 1, name: "readme.txt" }).waitFor();
    expect(await page.getByRole("button", { name: /delete/i }).count()).toBe(0);
    const refused = await postForm(context, `/files/${file.body.id}`, { intent: "delete" });
    expect(refused.status).toBe(403);
    expect(await app.prisma.libraryFile.count({ where: { id: file.body.id } })).toBe(1);
    // The API refuses the viewer's upload too.
    const upload = await app.request("POST", "/api/files?name=nope.txt", { token: tokens.viewer, rawBody: "x", headers: { "content-type": "application/octet-stream" } });
    expect(upload.status).toBe(403);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("every files page at 1280 and 390 px, light and dark", () => {
  test("no horizontal page scroll, no serious or critical axe violation, every control named", { timeout: 180_000 }, async () => {
    const file = await app.request("POST", `/api/files?name=${encodeURIComponent("a-rather-long-file-name-for-the-phone-layout-v2.3.1.zip")}`, { token: tokens.admin, rawBody: "zip", headers: { "content-type": "application/octet-stream" } });
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const admin = await openAs("admin", "/files", { width, colorScheme });
        await checkPage(admin.page, `files admin ${width} ${colorScheme}`, `files-${width}-${colorScheme}`);
        await admin.page.goto(`${app.url}/files/${file.body.id}`);
        await hydrated(admin.page);
        await checkPage(admin.page, `file admin ${width} ${colorScheme}`, `file-${width}-${colorScheme}`);
        expect(admin.problems).toEqual([]);
        await admin.context.close();

        const viewer = await openAs("viewer", "/files", { width, colorScheme });
        await checkPage(viewer.page, `files viewer ${width} ${colorScheme}`);
        expect(viewer.problems).toEqual([]);
        await viewer.context.close();
      }
    }
  });
});
