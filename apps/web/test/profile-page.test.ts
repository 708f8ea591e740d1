// The page framework in a real browser (Debian's chromium driven by playwright-core), through the
// Profile page: forms that keep what was typed and never echo a password, toasts, the confirm
// dialog's focus handling, the 404 page inside the shell, both themes at phone width, and axe.
import { join } from "node:path";
import { checkPage, describedText, hydrated, openPage, seriousViolations, signIn as signInAt, SHOTS_DIR as SHOTS, useBrowser } from "@opsconductor/testing/browser";
import { startApp } from "@opsconductor/testing/web";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { createLocalUser } from "../app/services/auth/local-users.server.ts";

const app = await startApp();
const browser = useBrowser();

let n = 0;
async function newUser(role: "admin" | "operator" | "viewer" = "operator") {
  const username = `profile-${++n}`;
  const password = `${username}-password-1`;
  const user = await createLocalUser(app.prisma, { username, password, role, displayName: `User ${n}` });
  return { ...user, password };
}

const open = (options: { width?: number; colorScheme?: "light" | "dark" } = {}) => openPage(browser(), options);
const signIn = (page: Page, username: string, password: string, next = "/profile") => signInAt(page, app.url, username, password, next);
const description = describedText;

describe("the profile page", () => {
  test("is in the navigation; shows the account; a display name and email change is saved, with a toast", { timeout: 120_000 }, async () => {
    const user = await newUser("viewer");
    const { context, page, problems } = await open();
    await signIn(page, user.username, user.password, "/");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Profile" }).click();
    await page.waitForURL(`${app.url}/profile`);
    await page.getByRole("heading", { level: 1, name: "Profile" }).waitFor();
    expect(await page.getByTestId("profile-username").textContent()).toBe(user.username);
    expect(await page.getByTestId("profile-role").textContent()).toBe("viewer");
    expect(await page.getByTestId("profile-sign-in-method").textContent()).toBe("Password");
    expect(await description(page, "Display name")).toContain("Shown in the navigation");

    await page.getByLabel("Display name", { exact: true }).fill("Fox Mulder");
    await page.getByLabel("Email", { exact: true }).fill("fox@example.com");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Profile saved.");
    const saved = await app.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect([saved.displayName, saved.email]).toEqual(["Fox Mulder", "fox@example.com"]);
    // The shell shows the new name at once, and a reload shows what was stored.
    await page.getByRole("banner").getByText("Fox Mulder").waitFor();
    await page.reload();
    expect(await page.getByLabel("Display name", { exact: true }).inputValue()).toBe("Fox Mulder");
    expect(await page.getByTestId("profile-email").textContent()).toBe("fox@example.com");

    // A bad email is refused next to its field; the display name typed beside it stays; nothing is saved.
    await page.getByLabel("Display name", { exact: true }).fill("Dana Scully");
    await page.getByLabel("Email", { exact: true }).fill("not-an-email");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => page.getByLabel("Email", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await description(page, "Email")).toContain("Must be an email address.");
    expect(await page.getByLabel("Display name", { exact: true }).inputValue()).toBe("Dana Scully");
    expect((await app.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).displayName).toBe("Fox Mulder");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a wrong current password is refused next to that field: passwords are emptied and never sent back, other typing stays", { timeout: 120_000 }, async () => {
    const user = await newUser();
    const { context, page, problems } = await open();
    await signIn(page, user.username, user.password);
    // Typed into the other form, not saved: it must survive the password form's answer.
    await page.getByLabel("Display name", { exact: true }).fill("Not saved yet");

    await page.getByLabel("Current password").fill("wrong-current-password");
    await page.getByLabel("New password", { exact: true }).fill("brand-new-password-1");
    await page.getByLabel("Confirm new password").fill("brand-new-password-1");
    await page.getByRole("button", { name: "Change password" }).click();

    await expect.poll(() => page.getByLabel("Current password").getAttribute("aria-invalid")).toBe("true");
    expect(await description(page, "Current password")).toContain("This is not your current password.");
    for (const label of ["Current password", "New password", "Confirm new password"]) expect(await page.getByLabel(label, { exact: true }).inputValue()).toBe("");
    expect(await page.getByLabel("Display name", { exact: true }).inputValue()).toBe("Not saved yet");
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "profile-password-error-1280-light.png"), fullPage: true });
    expect(await page.content()).not.toContain("brand-new-password-1");
    // The same form without JavaScript: the page that comes back names the error and holds no password.
    const cookies = await context.cookies();
    const form = { intent: "password", csrf: cookies.find((c) => c.name === "oc_csrf")!.value, currentPassword: "wrong-current-password", newPassword: "brand-new-password-1", confirmPassword: "brand-new-password-1", displayName: "x" };
    const plain = await fetch(`${app.url}/profile`, { method: "POST", headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
    const html = await plain.text();
    expect(plain.status).toBe(400);
    expect(html).toContain("This is not your current password.");
    expect(html).not.toContain("wrong-current-password");
    expect(html).not.toContain("brand-new-password-1");
    // The old password still works: nothing was changed.
    expect((await app.request("POST", "/api/login", { body: { username: user.username, password: user.password } })).status).toBe(200);

    // A confirmation that does not match is caught before anything is sent.
    await page.getByLabel("Current password").fill(user.password);
    await page.getByLabel("New password", { exact: true }).fill("brand-new-password-1");
    await page.getByLabel("Confirm new password").fill("brand-new-password-2");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => description(page, "Confirm new password")).toContain("Does not match the new password.");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("changing the password keeps this session, signs out the others, and the old password no longer signs in", { timeout: 120_000 }, async () => {
    const user = await newUser();
    const other = await app.request("POST", "/api/login", { body: { username: user.username, password: user.password } });
    const { context, page, problems } = await open();
    await signIn(page, user.username, user.password);
    await page.getByLabel("Current password").fill(user.password);
    await page.getByLabel("New password", { exact: true }).fill("a-fresh-password-42");
    await page.getByLabel("Confirm new password").fill("a-fresh-password-42");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Password changed.");
    for (const label of ["Current password", "New password", "Confirm new password"]) expect(await page.getByLabel(label, { exact: true }).inputValue()).toBe("");

    expect((await app.request("POST", "/api/login", { body: { username: user.username, password: user.password } })).status).toBe(401);
    expect((await app.request("POST", "/api/login", { body: { username: user.username, password: "a-fresh-password-42" } })).status).toBe(200);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: other.body.refreshToken } })).status).toBe(401);
    // This browser got fresh cookies with the change and stays signed in, its forms still accepted.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Profile" }).waitFor();
    await hydrated(page);
    await page.getByLabel("Display name", { exact: true }).fill("After the change");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Profile saved.");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("sign out everywhere asks first (focus kept in the dialog, given back on cancel), then ends every session", { timeout: 120_000 }, async () => {
    const user = await newUser();
    const other = await app.request("POST", "/api/login", { body: { username: user.username, password: user.password } });
    const { context, page, problems } = await open();
    await signIn(page, user.username, user.password);

    const trigger = page.getByRole("button", { name: "Sign out everywhere" });
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? null);
    await trigger.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Sign out everywhere?" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("this browser, other browsers and API tokens");
    expect(await seriousViolations(page)).toEqual([]);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "profile-confirm-dialog-1280-light.png") });
    expect(await focused()).toBe("Cancel");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Sign out everywhere");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Cancel");
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("Sign out everywhere");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-haspopup"))).toBe("dialog");
    expect(await focused()).toBe("Sign out everywhere");
    // Cancelled: still signed in everywhere.
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: other.body.refreshToken } })).status).toBe(200);
    const stillOther = await app.request("POST", "/api/login", { body: { username: user.username, password: user.password } });

    await trigger.click();
    await dialog.getByRole("button", { name: "Sign out everywhere" }).click();
    await page.waitForURL(/\/login/);
    await page.getByRole("status").getByText("You were signed out everywhere").waitFor();
    await page.goto(`${app.url}/profile`);
    await page.waitForURL(/\/login\?redirectTo=%2Fprofile/);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: stillOther.body.refreshToken } })).status).toBe(401);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.revoke_all", entityId: user.id } })).toBe(1);
    // The sign-in page shows only the notices it knows, never text from the address.
    const odd = await fetch(`${app.url}/login?notice=constructor`);
    expect(odd.status).toBe(200);
    expect(await odd.text()).not.toContain('role="status"');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("errors inside the shell", () => {
  test("an unknown address is a 404 page that keeps the navigation; signed out, it asks to sign in first; an unknown /api address stays a plain 404", { timeout: 120_000 }, async () => {
    const user = await newUser("viewer");
    const { context, page, problems } = await open();
    await signIn(page, user.username, user.password, "/");
    const res = await page.goto(`${app.url}/no-such-page`);
    expect(res?.status()).toBe(404);
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
    expect(await page.title()).toBe("OpsConductor · Page not found");
    const nav = page.getByRole("navigation", { name: "Sections" });
    expect(await nav.getByRole("link").allTextContents()).toEqual(["Dashboard", "Jobs", "Runs", "Schedules", "Targets", "Files", "System", "Profile"]);
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    // A client-side navigation from the 404 page works.
    await hydrated(page);
    await nav.getByRole("link", { name: "Profile" }).click();
    await page.getByRole("heading", { level: 1, name: "Profile" }).waitFor();
    expect(problems).toEqual([]);
    await context.close();

    const anonymous = await fetch(`${app.url}/no-such-page`, { redirect: "manual" });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe(`/login?redirectTo=${encodeURIComponent("/no-such-page")}`);
    expect((await fetch(`${app.url}/api/no-such-thing`, { redirect: "manual" })).status).toBe(404);
  });
});

describe("every page at 1280 and 390 px, light and dark", () => {
  test("no horizontal page scroll, no serious or critical axe violation, and every form control named", { timeout: 240_000 }, async () => {
    const user = await newUser();
    const pages = [
      { name: "login", path: "/login", signedIn: false },
      { name: "dashboard", path: "/", signedIn: true },
      { name: "profile", path: "/profile", signedIn: true },
      { name: "not-found", path: "/no-such-page", signedIn: true },
      // The test user is an operator: the Users page is the 403 page for it.
      { name: "forbidden", path: "/users", signedIn: true },
    ];
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await open({ width, colorScheme });
        for (const { name, path, signedIn } of pages) {
          if (signedIn && !(await context.cookies()).some((c) => c.name === "oc_access")) await signIn(page, user.username, user.password);
          await page.goto(`${app.url}${path}`);
          await hydrated(page);
          await checkPage(page, `${name} at ${width} px, ${colorScheme}`, `${name}-${width}-${colorScheme}`);
        }
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
