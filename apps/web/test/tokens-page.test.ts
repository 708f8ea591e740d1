// The API token pages in a real browser: a user creates a token under Profile (shown once, with
// Copy), sees it listed without its value, uses it, and revokes it after a confirmation; an admin
// creates a service account and a token for it and revokes anyone's; other roles get the 403 page
// for the admin page; every page passes the checks at 1280 and 390 px, light and dark.
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const app = await startApp();
const browser = useBrowser();

async function signedIn(role: TestRole, next: string, options: { width?: number; colorScheme?: "light" | "dark" } = {}) {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, role, PASSWORDS[role], next);
  await hydrated(opened.page);
  return opened;
}

const toast = (page: Page) => page.getByTestId("toast").textContent();

describe("own tokens under the profile", () => {
  test("create with name, role and expiry; shown once with Copy; listed without its value; it works; revoke after a confirmation", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedIn("operator", "/profile");
    await page.getByRole("link", { name: "Manage your API tokens" }).click();
    await page.waitForURL(`${app.url}/profile/tokens`);
    await page.getByRole("heading", { level: 1, name: "API tokens" }).waitFor();
    await page.getByText("No tokens yet").waitFor();
    // An operator may not pick admin.
    expect(await page.getByLabel("Role").locator("option").allTextContents()).toEqual(["operator (your role)", "viewer"]);

    // A name is required, and the page says so next to the field.
    await page.getByRole("button", { name: "Create token" }).click();
    await expect.poll(() => page.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");
    expect(await app.prisma.apiToken.count()).toBe(0);

    await page.getByLabel("Name").fill("release pipeline");
    await page.getByLabel("Role").selectOption("viewer");
    await page.getByLabel("Expires").selectOption({ label: "In 30 days" });
    await page.getByRole("button", { name: "Create token" }).click();
    await expect.poll(() => toast(page)).toContain("created");
    const value = await page.getByLabel("API token", { exact: true }).inputValue();
    expect(value).toMatch(/^oc_[A-Za-z0-9_-]{43}$/);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.url });
    await page.getByRole("button", { name: "Copy token" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

    const stored = await app.prisma.apiToken.findFirstOrThrow({ where: { name: "release pipeline" } });
    expect(stored).toMatchObject({ role: "viewer", userId: app.users.operator.id });
    expect(stored.expiresAt!.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect((await app.request("GET", "/api/jobs", { token: value })).status).toBe(200);

    // After a reload the value is gone for good; the row stays.
    await page.reload();
    await hydrated(page);
    expect(await page.getByLabel("API token", { exact: true }).count()).toBe(0);
    expect(await page.content()).not.toContain(value);
    const table = page.getByRole("table", { name: "Your API tokens" });
    const row = table.getByRole("row").filter({ hasText: "release pipeline" });
    expect(await row.textContent()).toContain("viewer");
    expect(await row.textContent()).toContain("active");

    await row.getByRole("button", { name: "Revoke token release pipeline of operator" }).click();
    const dialog = page.getByRole("dialog", { name: "Revoke “release pipeline”?" });
    await dialog.waitFor();
    // Cancel keeps it.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect((await app.prisma.apiToken.findUniqueOrThrow({ where: { id: stored.id } })).revokedAt).toBeNull();
    await row.getByRole("button", { name: "Revoke token release pipeline of operator" }).click();
    await dialog.getByRole("button", { name: "Revoke token" }).click();
    await expect.poll(() => toast(page)).toContain("revoked");
    await expect.poll(async () => table.getByRole("row").filter({ hasText: "release pipeline" }).textContent()).toContain("revoked");
    expect((await app.request("GET", "/api/jobs", { token: value })).status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("service accounts and all tokens (admins)", () => {
  test("an admin creates a service account and a token for it, sees everyone's tokens and revokes one; other roles get the 403 page", { timeout: 120_000 }, async () => {
    await app.create("/api/tokens", (await app.login("viewer")).accessToken, { name: "viewer's script" });
    const { context, page, problems } = await signedIn("admin", "/");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "API tokens" }).click();
    await page.waitForURL(`${app.url}/tokens`);
    await page.getByText("No service accounts yet").waitFor();

    const accountForm = page.getByRole("form", { name: "New service account" });
    await accountForm.getByLabel("Username").fill("bad name!");
    await accountForm.getByRole("button", { name: "Create service account" }).click();
    await expect.poll(() => accountForm.getByLabel("Username").getAttribute("aria-invalid")).toBe("true");
    await accountForm.getByLabel("Username").fill("ci-deploy");
    await accountForm.getByLabel("Role").selectOption("operator");
    await accountForm.getByRole("button", { name: "Create service account" }).click();
    await expect.poll(() => toast(page)).toContain("ci-deploy");
    await page.getByRole("table", { name: "Service accounts" }).getByText("ci-deploy").waitFor();

    const tokenForm = page.getByRole("form", { name: "New token for a service account" });
    await tokenForm.getByLabel("Service account").selectOption({ label: "ci-deploy (operator)" });
    await tokenForm.getByLabel("Token name").fill("GitHub Actions");
    await tokenForm.getByLabel("Role").selectOption("admin");
    await tokenForm.getByRole("button", { name: "Create token" }).click();
    // Higher than the account's role: refused next to the field.
    await expect.poll(() => tokenForm.getByLabel("Role").getAttribute("aria-invalid")).toBe("true");
    await tokenForm.getByLabel("Role").selectOption("operator");
    await tokenForm.getByRole("button", { name: "Create token" }).click();
    await expect.poll(() => toast(page)).toContain("GitHub Actions");
    const value = await page.getByLabel("API token", { exact: true }).inputValue();
    const run = await app.request("GET", "/api/users/me", { token: value });
    expect(run.body.username).toBe("ci-deploy");

    const all = page.getByRole("table", { name: "All API tokens" });
    // Everyone's: the operator's revoked one from the test before, the viewer's, the new one of ci-deploy (and the header row).
    await expect.poll(() => all.getByRole("row").count()).toBe(4);
    expect(await all.getByRole("row").filter({ hasText: "GitHub Actions" }).textContent()).toContain("ci-deploy");
    const viewerRow = all.getByRole("row").filter({ hasText: "viewer's script" });
    await viewerRow.getByRole("button", { name: "Revoke token viewer's script of viewer" }).click();
    await page.getByRole("dialog", { name: "Revoke “viewer's script”?" }).getByRole("button", { name: "Revoke token" }).click();
    await expect.poll(() => toast(page)).toContain("revoked");
    expect((await app.prisma.apiToken.findFirstOrThrow({ where: { name: "viewer's script" } })).revokedAt).not.toBeNull();
    expect(problems).toEqual([]);
    await context.close();

    for (const role of ["operator", "viewer"] as const) {
      const other = await signedIn(role, "/tokens");
      await other.page.getByRole("heading", { level: 1, name: "You don't have access to this page" }).waitFor();
      expect(await other.page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "API tokens" }).count()).toBe(0);
      await other.context.close();
    }
  });
});

describe("the token pages at 1280 and 390 px, light and dark", () => {
  test("no horizontal scroll, no serious axe violation, every control named: own tokens (with a new token shown), the admin page and its revoke dialog", { timeout: 180_000 }, async () => {
    const admin = (await app.login("admin")).accessToken;
    await app.create("/api/tokens", admin, { name: "shown in the list", expiresInDays: 7 });
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const at = `${width} ${colorScheme}`;
        const { context, page, problems } = await signedIn("admin", "/profile/tokens", { width, colorScheme });
        await checkPage(page, `own tokens ${at}`, `profile-tokens-${width}-${colorScheme}`);
        await page.getByLabel("Name").fill(`token ${at}`);
        await page.getByRole("button", { name: "Create token" }).click();
        await page.getByLabel("API token", { exact: true }).waitFor();
        await checkPage(page, `own tokens, new token shown ${at}`, `profile-tokens-created-${width}-${colorScheme}`);
        await page.goto(`${app.url}/tokens`);
        await hydrated(page);
        await checkPage(page, `all tokens ${at}`, `tokens-${width}-${colorScheme}`);
        await page.getByRole("button", { name: "Revoke token shown in the list of admin" }).click();
        await page.getByRole("dialog", { name: "Revoke “shown in the list”?" }).waitFor();
        await checkPage(page, `revoke dialog ${at}`, `tokens-revoke-dialog-${width}-${colorScheme}`);
        await page.keyboard.press("Escape");
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
