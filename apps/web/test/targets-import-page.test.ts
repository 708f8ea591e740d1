// Importing targets from CSV in a real browser: pasted or read from a file, previewed with each
// row's problems (the API's schema, credentials by name and their usage policy, names taken), and
// saved in one transaction only once every row is good.
import { describedText, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();
const browser = useBrowser();

const corp = await app.create<{ id: string }>("/api/credentials", tokens.admin, { name: "corp-admin", type: "winrm", username: "svc", usagePolicy: ["*.corp.example", "10.0.4.0/24"], secret: { password: "pw-for-tests-only" } });
await app.create("/api/credentials", tokens.admin, { name: "dc-only", type: "winrm", username: "svc", usagePolicy: ["dc01.corp.example"], secret: { password: "pw-for-tests-only" } });
await app.create("/api/targets", tokens.admin, { name: "already-there", hostname: "there.corp.example" });

async function signedIn(role: "admin" | "operator", width = 1280) {
  const opened = await openPage(browser(), { width });
  await signIn(opened.page, app.url, role, PASSWORDS[role], "/targets/import");
  await hydrated(opened.page);
  return opened;
}

const previewRows = (page: Page) => page.getByRole("region", { name: "Rows of the file" }).getByRole("row");
const rowOfLine = (page: Page, line: number) => previewRows(page).filter({ has: page.locator(`td:first-child:text-is("${line}")`) });

describe("importing targets from CSV", () => {
  test("an admin pastes three targets: the bad row is shown and nothing is saved; fixed, all three are saved in one go", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedIn("admin");
    // The list's button leads here.
    await page.goto(`${app.url}/targets`);
    await page.getByRole("link", { name: "Import from CSV" }).click();
    await page.getByRole("heading", { level: 1, name: "Import targets" }).waitFor();
    await hydrated(page);

    const bad = ["name,hostname,port,os,transport,auth,tags,Credential name", "web-01,web01.corp.example,,windows,https,ntlm,web;prod,corp-admin", "web-02,web02.corp.example,99999,windows,http,ntlm,web,corp-admin", `db-01,10.0.4.20,5985,windows,http,ntlm,"db prod",CORP-ADMIN`].join("\n");
    await page.getByLabel("CSV text").fill(bad);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("1 of 3 rows have problems").waitFor();
    expect(await page.getByText("Nothing has been saved.").count()).toBe(1);
    expect(await previewRows(page).count()).toBe(4);
    expect(await rowOfLine(page, 3).textContent()).toContain("port: must be a whole number from 1 to 65535");
    expect(await rowOfLine(page, 2).textContent()).toContain("ready");
    expect(await rowOfLine(page, 4).textContent()).toContain("ready");
    expect(await page.getByRole("button", { name: /^Import/ }).count()).toBe(0);
    expect(await app.prisma.target.count({ where: { name: { in: ["web-01", "web-02", "db-01"] } } })).toBe(0);
    // What was pasted stays, to be fixed in place.
    expect(await page.getByLabel("CSV text").inputValue()).toBe(bad);

    await page.getByLabel("CSV text").fill(bad.replace("99999", "5985"));
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("All 3 rows are ready.").waitFor();
    // Editing the text after a preview takes the Import button away until the next preview.
    await page.getByLabel("CSV text").press("End");
    await page.getByLabel("CSV text").type(" ");
    await expect.poll(() => page.getByRole("button", { name: "Import 3 targets" }).count()).toBe(0);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByRole("button", { name: "Import 3 targets" }).click();
    await page.waitForURL(`${app.url}/targets?sort=-createdAt`);
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Imported 3 targets." }).count()).toBeGreaterThan(0);

    const rows = await app.prisma.target.findMany({ where: { name: { in: ["web-01", "web-02", "db-01"] } }, orderBy: { name: "asc" } });
    expect(rows.map((r) => [r.name, r.hostname, r.port, r.winrmTransport, r.credentialId, r.tags])).toEqual([
      ["db-01", "10.0.4.20", 5985, "http", corp.id, ["db", "prod"]],
      ["web-01", "web01.corp.example", 5986, "https", corp.id, ["web", "prod"]],
      ["web-02", "web02.corp.example", 5985, "http", corp.id, ["web"]],
    ]);
    expect(await app.prisma.auditLog.count({ where: { action: "target.create", entityId: { in: rows.map((r) => r.id) } } })).toBe(3);
    expect(await app.prisma.auditLog.count({ where: { action: "target.import" } })).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a file read in the browser is previewed row by row: names taken or repeated, unknown credentials, bad values, and a header it does not know", { timeout: 90_000 }, async () => {
    const { context, page, problems } = await signedIn("admin");
    const csv = [
      "name,hostname,os,transport,auth,tags,credential",
      "already-there,x.corp.example,windows,http,ntlm,,",
      "twice,a.corp.example,windows,http,ntlm,,",
      "TWICE,b.corp.example,windows,http,ntlm,,",
      "ghost,c.corp.example,windows,http,ntlm,,nobody",
      "plain,d.corp.example,windows,http,basic,,",
      "odd,not a host,solaris,ftp,ntlm,,",
    ].join("\r\n");
    await page.getByLabel("Or read a CSV file").setInputFiles({ name: "targets.csv", mimeType: "text/csv", buffer: Buffer.from(`\uFEFF${csv}\r\n`) });
    await expect.poll(() => page.getByLabel("CSV text").inputValue()).toContain("already-there");
    await page.getByText("Read targets.csv.").waitFor();
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("5 of 6 rows have problems").waitFor();
    expect(await rowOfLine(page, 2).textContent()).toContain("name: a target named already-there already exists");
    expect(await rowOfLine(page, 3).textContent()).toContain("ready");
    expect(await rowOfLine(page, 4).textContent()).toContain("name: line 3 already has a target named TWICE");
    expect(await rowOfLine(page, 5).textContent()).toContain("credential: there is no credential named nobody");
    expect(await rowOfLine(page, 6).textContent()).toContain("auth: basic over http sends the password readably");
    const odd = await rowOfLine(page, 7).textContent();
    for (const text of ["hostname: must be a host name or IP address", "os: must be windows or linux", "transport: must be http or https"]) expect(odd).toContain(text);

    await page.getByLabel("CSV text").fill("name,address\nx,y");
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText('Line 1 names columns this import does not know: "address"').waitFor();
    await page.getByText("Line 1 has no hostname column").waitFor();

    // An empty text is refused next to the field before anything is sent.
    await page.getByLabel("CSV text").fill("");
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => describedText(page, "CSV text")).toContain("Required.");
    expect(await app.prisma.target.count({ where: { name: { in: ["twice", "ghost", "plain", "odd", "x"], mode: "insensitive" } } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("an operator's rows may name only credentials whose policy includes the row's host; an import posted with a bad row saves nothing", { timeout: 90_000 }, async () => {
    const { context, page, problems } = await signedIn("operator");
    const csv = "name,hostname,credential\nop-ok,op.corp.example,corp-admin\nop-dc,op-dc.corp.example,dc-only";
    await page.getByLabel("CSV text").fill(csv);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("1 of 2 rows have problems").waitFor();
    expect(await rowOfLine(page, 3).textContent()).toContain("credential: credential dc-only may not be used against host op-dc.corp.example");

    // Posted as an import anyway (no preview in between): refused as a whole, nothing saved.
    const cookies = await context.cookies();
    const res = await fetch(`${app.url}/targets/import`, {
      method: "POST",
      headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: cookies.find((c) => c.name === "oc_csrf")!.value, intent: "import", csv }),
    });
    expect(res.status).toBe(400);
    expect(await app.prisma.target.count({ where: { name: { in: ["op-ok", "op-dc"] } } })).toBe(0);
    // That answer is the page itself, as a browser without JavaScript shows it: the preview with the row's problem.
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("1 of 2 rows have problems");
    expect(html).toContain("may not be used against host op-dc.corp.example");

    await page.getByLabel("CSV text").fill(csv.split("\n").slice(0, 2).join("\n"));
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByRole("button", { name: "Import 1 target" }).click();
    await page.waitForURL(/\/targets\?sort=-createdAt$/);
    expect(await app.prisma.target.findUniqueOrThrow({ where: { name: "op-ok" } })).toMatchObject({ credentialId: corp.id, credentialApproval: null });
    expect(problems).toEqual([]);
    await context.close();
  });
});
