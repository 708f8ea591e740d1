// The Audit log page in a real browser, and its CSV export: filters by actor, action, entity and
// time narrow the list, an entry expands to its details, the export holds exactly the filtered
// entries (formula-safe, RFC 4180, read a page at a time), no secret reaches an entry, and only
// admins get any of it.
import { readFile } from "node:fs/promises";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { AUDIT_CSV_COLUMNS, auditCsvStream, csvCell, csvLine } from "../app/services/audit/export.server.ts";

const app = await startApp();
const browser = useBrowser();
const admin = (await app.login("admin")).accessToken;

// Entries at known times, for the filters: three "widget" entries a day apart, by two actors.
const DAY = [new Date("2026-01-01T10:00:00Z"), new Date("2026-01-02T10:00:00Z"), new Date("2026-01-03T10:00:00Z")];
await app.prisma.auditLog.createMany({
  data: [
    { actorName: "mallory", action: "widget.create", entityType: "widget", entityId: "w-1", summary: "created widget w-1", details: { colour: "red", size: { w: 2, h: 3 } }, at: DAY[0]!, ip: "192.0.2.1" },
    { actorName: "mallory", action: "widget.update", entityType: "widget", entityId: "w-1", summary: "painted widget w-1", details: { colour: { from: "red", to: "blue" } }, at: DAY[1]!, ip: "192.0.2.1" },
    { actorName: "trent", action: "widget.update", entityType: "widget", entityId: "w-2", summary: "painted widget w-2", details: { colour: { from: "red", to: "green" } }, at: DAY[2]!, ip: "192.0.2.2" },
  ],
});

/** RFC 4180 lines into rows of cells (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') {
      quoted = false;
    } else if (quoted) {
      cell += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else {
      cell += c;
    }
  }
  if (cell !== "" || row.length > 0) throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

const cookieHeaderOf = async (context: BrowserContext) => (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
const listedSummaries = (page: Page) => page.getByRole("table", { name: "Audit entries" }).locator("tbody td > details > summary").allTextContents();

async function adminPage(options: { width?: number; colorScheme?: "light" | "dark" } = {}, next = "/audit") {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, "admin", PASSWORDS.admin, next);
  return opened;
}

describe("CSV cells", () => {
  test("a value a spreadsheet would run as a formula gets an apostrophe; commas, quotes and line breaks are quoted", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell(null)).toBe("");
    expect(csvCell("=1+2")).toBe("'=1+2");
    expect(csvCell("+31 20 123")).toBe("'+31 20 123");
    expect(csvCell("-2")).toBe("'-2");
    expect(csvCell("@SUM(A1:A9)")).toBe("'@SUM(A1:A9)");
    expect(csvCell("\t=cmd")).toBe("'\t=cmd");
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("a = b")).toBe("a = b");
    expect(csvLine(["x", null, "y,z"])).toBe('x,,"y,z"\r\n');
  });
});

describe("the audit log page", () => {
  test("filters by action, entity, actor and time narrow the list; an entry expands to its details", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await adminPage({}, "/");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(`${app.url}/audit`);
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    // The admin's own sign-in is the newest entry.
    expect((await listedSummaries(page))[0]).toBe("admin signed in");

    const filters = page.getByRole("search", { name: "Filter the audit log" });
    // The pickers offer what the log holds, families first.
    const actionOptions = await filters.getByLabel("Action").locator("option").allTextContents();
    expect(actionOptions).toEqual(expect.arrayContaining(["Any action", "widget.* (every widget action)", "widget.create", "widget.update", "auth.login"]));
    expect(actionOptions.indexOf("widget.* (every widget action)")).toBeLessThan(actionOptions.indexOf("widget.create"));
    expect(await filters.getByLabel("Entity type").locator("option").allTextContents()).toContain("widget");

    await filters.getByLabel("Action").selectOption("widget.*");
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/action=widget\.\*/);
    await expect.poll(() => listedSummaries(page)).toEqual(["painted widget w-2", "painted widget w-1", "created widget w-1"]);

    await page.getByRole("search", { name: "Filter the audit log" }).getByLabel("Entity type").selectOption("widget");
    await page.getByRole("search", { name: "Filter the audit log" }).getByLabel("Entity id").fill("w-1");
    await page.getByRole("search", { name: "Filter the audit log" }).getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/entityId=w-1/);
    await expect.poll(() => listedSummaries(page)).toEqual(["painted widget w-1", "created widget w-1"]);

    // Time range (UTC): only the middle day.
    await page.getByRole("link", { name: "Clear" }).click();
    await page.waitForURL(`${app.url}/audit`);
    const cleared = page.getByRole("search", { name: "Filter the audit log" });
    // The address changes a moment before React draws the cleared form: wait for the form.
    await expect.poll(() => cleared.getByLabel("Entity id").inputValue()).toBe("");
    await cleared.getByLabel("From (UTC)").fill("2026-01-02T00:00");
    await cleared.getByLabel("To (UTC)").fill("2026-01-02T23:59");
    await cleared.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/from=2026-01-02T00%3A00/);
    await expect.poll(() => listedSummaries(page)).toEqual(["painted widget w-1"]);
    // The fields show the filter the address holds.
    expect(await page.getByLabel("From (UTC)").inputValue()).toBe("2026-01-02T00:00");

    // Actor (a username, any case), then a click on an actor narrows to them too.
    await page.goto(`${app.url}/audit?actor=TRENT`);
    expect(await listedSummaries(page)).toEqual(["painted widget w-2"]);
    await page.goto(`${app.url}/audit?action=widget.update`);
    await hydrated(page);
    await page.getByRole("table", { name: "Audit entries" }).getByRole("link", { name: "mallory" }).first().click();
    await page.waitForURL(/actor=mallory/);
    await expect.poll(() => listedSummaries(page)).toEqual(["painted widget w-1"]);

    // An entry expands to who, where from, and its details as a JSON tree.
    const entry = page.getByRole("table", { name: "Audit entries" }).locator("details").first();
    const tree = entry.getByRole("group", { name: /^Details of entry \d+$/ });
    expect(await tree.isVisible()).toBe(false);
    await entry.locator("summary").first().click();
    await tree.waitFor();
    expect(await tree.textContent()).toContain("“red”");
    expect(await tree.textContent()).toContain("“blue”");
    expect(await entry.textContent()).toContain("192.0.2.1");
    expect(await entry.textContent()).toContain("widget w-1");

    // A filter that matches nothing says so.
    await page.goto(`${app.url}/audit?action=widget.*&actor=nobody`);
    await page.getByText("No entry matches these filters").waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  test("contradicting filters are explained above the list with the filters kept; a malformed time is a 400 page, never a 500", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await adminPage({}, "/audit?entityId=w-1");
    expect(await page.getByRole("alert").textContent()).toBe("The entity id needs an entity type as well.");
    expect(await page.getByLabel("Entity id").inputValue()).toBe("w-1");
    await page.goto(`${app.url}/audit?from=2026-01-03T00:00&to=2026-01-01T00:00`);
    expect(await page.getByRole("alert").textContent()).toBe('"To" must not be before "From".');
    expect(await page.getByLabel("To (UTC)").inputValue()).toBe("2026-01-01T00:00");
    const bad = await page.goto(`${app.url}/audit?from=yesterday`);
    expect(bad?.status()).toBe(400);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("This address asks for something the page cannot show");
    expect(await page.locator("main").textContent()).toContain("from must be an ISO 8601 date-time");
    const cursor = await page.goto(`${app.url}/audit?cursor=bogus`);
    expect(cursor?.status()).toBe(200);
    expect(await page.getByRole("alert").textContent()).toBe("This page link is not one the audit log made: start again from the first page.");
    const headers = { cookie: await cookieHeaderOf(context) };
    const csv = await fetch(`${app.url}/audit/export.csv?from=yesterday`, { headers });
    expect([csv.status, await csv.text()]).toEqual([400, "from must be an ISO 8601 date-time such as 2026-11-26T10:00:00Z\n"]);
    const noType = await fetch(`${app.url}/audit/export.csv?entityId=w-1`, { headers });
    expect(noType.status).toBe(400);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("the CSV export", () => {
  test("downloads exactly the filtered entries, newest first, as an attachment", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await adminPage({}, "/audit?entityType=widget&entityId=w-1");
    const link = page.getByRole("link", { name: "Export CSV (filtered)" });
    expect(await link.getAttribute("href")).toBe("/audit/export.csv?entityType=widget&entityId=w-1");
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\.csv$/);
    const text = await readFile((await download.path())!, "utf8");
    expect(text.startsWith("\uFEFF")).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
    const expected = await app.prisma.auditLog.findMany({ where: { entityType: "widget", entityId: "w-1" }, orderBy: [{ at: "desc" }, { id: "desc" }] });
    expect(rows).toEqual(expected.map((e) => [e.id.toString(), e.at.toISOString(), "", e.actorName, e.action, "widget", "w-1", e.summary, JSON.stringify(e.details), e.ip, ""]));

    const res = await fetch(`${app.url}/audit/export.csv?action=widget.update`, { headers: { cookie: await cookieHeaderOf(context) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-.+\.csv"$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(parseCsv((await res.text()).slice(1)).map((r) => r[7])).toEqual(["summary", "painted widget w-2", "painted widget w-1"]);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("cells a spreadsheet would run are defused and odd text survives the round trip", { timeout: 60_000 }, async () => {
    const nasty = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-1", "@cmd", "comma, and \"quotes\"\r\nand a new line", "ünïcödé ✓"];
    await app.prisma.auditLog.createMany({ data: nasty.map((summary, i) => ({ actorName: "=cmd|' /C calc'!A0", action: "odd.text", entityType: "odd", entityId: `-${i}`, summary, details: { note: summary }, at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)) })) });
    const { cookies } = await app.login("admin");
    const res = await fetch(`${app.url}/audit/export.csv?action=odd.text`, { headers: { cookie: cookies.map((c) => c.split(";")[0]).join("; ") } });
    const rows = parseCsv((await res.text()).slice(1)).slice(1);
    const column = (name: (typeof AUDIT_CSV_COLUMNS)[number]) => rows.map((r) => r[AUDIT_CSV_COLUMNS.indexOf(name)]);
    const defused = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
    expect(column("summary")).toEqual([...nasty].reverse().map(defused));
    expect(column("actor_name")).toEqual(nasty.map(() => "'=cmd|' /C calc'!A0"));
    expect(column("entity_id")).toEqual(nasty.map((_, i) => `'-${nasty.length - 1 - i}`));
    // No cell of the file starts with a formula character.
    expect(rows.flat().filter((cell) => /^[=+\-@]/.test(cell))).toEqual([]);
  });

  test("is read from the database a page at a time as the client takes it, in keyset order, with no entry twice or missed", { timeout: 60_000 }, async () => {
    const base = Date.UTC(2024, 5, 1);
    // Many entries on the same millisecond: the id breaks the tie between pages.
    await app.prisma.auditLog.createMany({ data: Array.from({ length: 1203 }, (_, i) => ({ actorName: "bulk", action: "bulk.row", summary: `row ${i}`, at: new Date(base + Math.floor(i / 7)) })) });
    const reader = auditCsvStream(app.prisma, { action: "bulk.row" }, { pageRows: 100 }).getReader();
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(decoder.decode(next.value));
    // The header, then one chunk per page of 100 rows: 12 full pages and the last 3.
    expect(chunks.map((c) => c.split("\r\n").length - 1)).toEqual([1, ...Array<number>(12).fill(100), 3]);
    const ids = parseCsv(chunks.join("").slice(1)).slice(1).map((r) => BigInt(r[0]!));
    const stored = await app.prisma.auditLog.findMany({ where: { action: "bulk.row" }, orderBy: [{ at: "desc" }, { id: "desc" }], select: { id: true } });
    expect(ids).toEqual(stored.map((s) => s.id));

    // Through the route: the whole filtered set, chunked rather than sized up front.
    const { cookies } = await app.login("admin");
    const res = await fetch(`${app.url}/audit/export.csv?action=bulk.row`, { headers: { cookie: cookies.map((c) => c.split(";")[0]).join("; ") } });
    expect(res.headers.get("content-length")).toBeNull();
    expect(parseCsv((await res.text()).slice(1)).length).toBe(1 + 1203);
  });
});

describe("secrets and roles", () => {
  test("no audit entry, page or export holds a credential secret or a password, even after a credential update and a password reset", { timeout: 120_000 }, async () => {
    const secrets = ["Winrm-Secret-Pass-41", "Winrm-Rotated-Pass-42", "user-first-password-43", "user-reset-password-44"];
    const cred = await app.create("/api/credentials", admin, { name: "audited-cred", type: "winrm", username: "svc", secret: { password: secrets[0] } });
    expect((await app.request("PUT", `/api/credentials/${cred.id}`, { token: admin, body: { description: "now with a note", secret: { password: secrets[1] } } })).status).toBe(200);
    const user = await app.create("/api/users", admin, { username: "audited-user", role: "viewer", password: secrets[2] });
    expect((await app.request("PATCH", `/api/users/${user.id}`, { token: admin, body: { password: secrets[3] } })).status).toBe(200);

    const entries = await app.prisma.auditLog.findMany({ where: { entityId: { in: [cred.id, user.id] } }, orderBy: { id: "asc" } });
    expect(entries.map((e) => e.action)).toEqual(["credential.create", "credential.update", "credential.rotate", "user.create", "user.update"]);
    expect(entries[1]!.details).toEqual({ fields: ["description"], changes: { description: { from: null, to: "now with a note" } } });
    expect(entries[2]!.details).toEqual({ name: "audited-cred", keyId: expect.any(String) });
    expect(entries[4]!.details).toEqual({ fields: ["password"], changes: {}, signedOut: true });
    const [row] = await app.prisma.$queryRawUnsafe<{ text: string }[]>("SELECT coalesce(string_agg(a::text, E'\\n'), '') AS text FROM audit_log a");
    const text = row!.text;
    for (const secret of secrets) expect(text).not.toContain(secret);

    const { context, page, problems } = await adminPage({}, "/audit?entityType=credential");
    await page.locator("tbody td > details > summary").first().click();
    const html = await page.content();
    const csv = await (await fetch(`${app.url}/audit/export.csv`, { headers: { cookie: await cookieHeaderOf(context) } })).text();
    for (const secret of secrets) {
      expect(html).not.toContain(secret);
      expect(csv).not.toContain(secret);
    }
    expect(csv).toContain("credential.rotate");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("operators and viewers get the 403 page at /audit and a 403 from the export; signed out, both ask to sign in", { timeout: 120_000 }, async () => {
    for (const role of ["operator", "viewer"] as const) {
      const { context, page, problems } = await openPage(browser());
      await signIn(page, app.url, role, PASSWORDS[role], "/");
      expect(await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Audit log" }).count()).toBe(0);
      expect((await page.goto(`${app.url}/audit`))?.status()).toBe(403);
      await page.getByRole("heading", { level: 1, name: "You don't have access to this page" }).waitFor();
      expect(await page.content()).not.toContain("widget");
      const csv = await fetch(`${app.url}/audit/export.csv`, { headers: { cookie: await cookieHeaderOf(context) } });
      expect(csv.status).toBe(403);
      expect(csv.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      const body = await csv.text();
      expect(body).toBe(`The ${role} role may not read the audit log.\n`);
      expect(problems).toEqual([]);
      await context.close();
    }
    for (const path of ["/audit", "/audit/export.csv?action=widget.*"]) {
      const anonymous = await fetch(`${app.url}${path}`, { redirect: "manual" });
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.get("location")).toBe(`/login?redirectTo=${encodeURIComponent(path)}`);
    }
  });
});

describe("the audit log at 1280 and 390 px, light and dark", () => {
  test("no horizontal scroll, no serious axe violation, every control named, with an entry expanded", { timeout: 150_000 }, async () => {
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await adminPage({ width, colorScheme }, "/audit?entityType=widget");
        await page.locator("tbody td > details > summary").first().click();
        await page.getByRole("group", { name: /^Details of entry/ }).first().waitFor();
        await checkPage(page, `audit admin ${width} ${colorScheme}`, `audit-${width}-${colorScheme}`);
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
