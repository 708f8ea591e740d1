// The Users pages in a real browser: an admin lists, filters and sorts users, creates them (with a
// chosen password, or a generated one shown once), changes roles, disables and enables, resets
// passwords and deletes after a confirmation; bad input is refused next to its field; the last
// enabled admin's controls are disabled with the reason; other roles get the 403 page.
import { checkPage, describedText, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { cookieHeader, PASSWORDS, startApp } from "@opsconductor/testing/web";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { createLocalUser } from "../app/services/auth/local-users.server.ts";

const app = await startApp();
const browser = useBrowser();

let n = 0;
async function newUser(role: "admin" | "operator" | "viewer" = "operator", prefix = "member") {
  const username = `${prefix}-${++n}`;
  const password = `${username}-password-1`;
  const user = await createLocalUser(app.prisma, { username, password, role, displayName: `Member ${n}` });
  return { ...user, password };
}

const signsIn = async (username: string, password: string) => (await app.request("POST", "/api/login", { body: { username, password } })).status === 200;
const toast = (page: Page) => page.getByTestId("toast").textContent();
const userRow = (id: string) => app.prisma.user.findUnique({ where: { id } });

async function signedInAdmin(options: { width?: number; colorScheme?: "light" | "dark" } = {}, next = "/users") {
  const opened = await openPage(browser(), options);
  await signIn(opened.page, app.url, "admin", PASSWORDS.admin, next);
  return opened;
}

describe("the users list", () => {
  test("is in the admin's navigation; search, role and state filters narrow it; it sorts by username and pages by cursor", { timeout: 120_000 }, async () => {
    const [first, second] = [await newUser("viewer", "zeta"), await newUser("viewer", "Zeta")];
    await app.prisma.user.update({ where: { id: second.id }, data: { disabled: true } });
    const { context, page, problems } = await signedInAdmin({}, "/");
    const nav = page.getByRole("navigation", { name: "Sections" });
    await nav.getByRole("link", { name: "Users" }).click();
    await page.waitForURL(`${app.url}/users`);
    await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
    const table = page.getByRole("table", { name: "Users" });
    const names = () => table.locator("tbody tr td:first-child a").allTextContents();
    expect(await names()).toEqual(expect.arrayContaining(["admin", "operator", "viewer", first.username, second.username]));
    // The signed-in admin's own row says so.
    expect(await table.getByRole("row").filter({ hasText: "(you)" }).locator("a").textContent()).toBe("admin");

    const filters = page.getByRole("search", { name: "Filter users" });
    await filters.getByLabel("Search username, name or email").fill("zeta");
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/q=zeta/);
    await expect.poll(names).toEqual([second.username, first.username]);
    await filters.getByLabel("State").selectOption({ label: "Disabled" });
    await filters.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/disabled=true/);
    await expect.poll(names).toEqual([second.username]);
    expect(await table.getByRole("row").nth(1).textContent()).toContain("disabled");

    await filters.getByRole("link", { name: "Clear" }).click();
    await page.waitForURL(`${app.url}/users`);
    await page.getByRole("search", { name: "Filter users" }).getByLabel("Role").selectOption("operator");
    await page.getByRole("search", { name: "Filter users" }).getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/role=operator/);
    await expect.poll(names).toEqual(["operator"]);

    // A filter nobody matches says so instead of showing an empty table.
    await page.goto(`${app.url}/users?q=nobody-by-this-name`);
    await page.getByText("No user matches these filters").waitFor();

    // Sorting by username (case ignored), both ways, and pages that follow the order.
    await page.goto(`${app.url}/users?q=zeta`);
    await hydrated(page);
    await table.getByRole("link", { name: /Username/ }).click();
    await page.waitForURL(/sort=username/);
    await expect.poll(() => table.getByRole("columnheader", { name: /Username/ }).getAttribute("aria-sort")).toBe("ascending");
    await expect.poll(names).toEqual([first.username, second.username]);
    await table.getByRole("link", { name: /Username/ }).click();
    await page.waitForURL(/sort=-username/);
    await expect.poll(names).toEqual([second.username, first.username]);
    await page.goto(`${app.url}/users?q=zeta&sort=username&limit=1`);
    expect(await names()).toEqual([first.username]);
    await page.getByRole("link", { name: "Next page" }).click();
    await expect.poll(names).toEqual([second.username]);
    expect(await page.getByRole("link", { name: "Next page" }).count()).toBe(0);
    await page.getByRole("link", { name: "First page" }).click();
    await expect.poll(names).toEqual([first.username]);
    // A page link of another order (or a made-up one) is a 400 page, never a failure.
    const nextLink = new URL(`${app.url}${await page.getByRole("link", { name: "Next page" }).getAttribute("href")}`);
    nextLink.searchParams.set("sort", "-createdAt");
    expect((await page.goto(nextLink.toString()))?.status()).toBe(400);
    expect(await page.locator("main").textContent()).toContain("cursor is not a page link of this list");
    expect((await page.goto(`${app.url}/users?cursor=garbage`))?.status()).toBe(400);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("creating a user", () => {
  test("with a chosen password: the new user's page, a toast, and the password signs in", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedInAdmin();
    await page.getByRole("link", { name: "New user" }).click();
    await page.getByRole("heading", { level: 1, name: "New user" }).waitFor();
    await hydrated(page);
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Role").selectOption("operator");
    await page.getByLabel("Display name").fill("Alice Liddell");
    await page.getByLabel("Email").fill("alice@example.com");
    await page.getByLabel("Password").fill("alice-chosen-password");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.waitForURL(/\/users\/[0-9a-f-]{36}$/);
    await page.getByRole("heading", { level: 1, name: "alice" }).waitFor();
    await expect.poll(() => toast(page)).toContain("User alice created.");
    const created = await app.prisma.user.findUniqueOrThrow({ where: { username: "alice" } });
    expect(created).toMatchObject({ role: "operator", displayName: "Alice Liddell", email: "alice@example.com", disabled: false });
    expect(page.url()).toBe(`${app.url}/users/${created.id}`);
    expect(await page.getByTestId("user-role").textContent()).toBe("operator");
    expect(await signsIn("alice", "alice-chosen-password")).toBe(true);
    expect(await page.content()).not.toContain("alice-chosen-password");
    expect(problems).toEqual([]);
    await context.close();
  });

  test("with a generated password: shown once with a copy button, it signs in, and it is never shown again", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedInAdmin({}, "/users/new");
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.url });
    await page.getByLabel("Username").fill("bob");
    expect(await describedText(page, "Password")).toContain("Leave it empty and OpsConductor generates one");
    await page.getByRole("button", { name: "Create user" }).click();
    await page.getByRole("heading", { level: 1, name: "User created" }).waitFor();
    const shown = await page.getByLabel("Generated password").inputValue();
    expect(shown).toMatch(/^[A-HJ-NP-Za-km-z2-9]{5}(-[A-HJ-NP-Za-km-z2-9]{5}){3}$/);
    await page.getByRole("button", { name: "Copy password" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shown);
    await expect.poll(() => toast(page)).toContain("User bob created.");
    const bob = await app.prisma.user.findUniqueOrThrow({ where: { username: "bob" } });
    expect(bob.role).toBe("viewer");
    expect(await signsIn("bob", shown)).toBe(true);

    // Never again: not on the user's page, not on a fresh form, not in the audit log.
    await page.getByRole("link", { name: "Open bob" }).click();
    await page.getByRole("heading", { level: 1, name: "bob" }).waitFor();
    expect(await page.content()).not.toContain(shown);
    await page.goto(`${app.url}/users/new`);
    expect(await page.content()).not.toContain(shown);
    const audits = await app.prisma.auditLog.findMany({ where: { entityId: bob.id } });
    expect(audits.map((a) => a.action)).toContain("user.create");
    expect(JSON.stringify(audits.map((a) => [a.summary, a.details]))).not.toContain(shown);
    expect(app.output()).not.toContain(shown);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("bad input is refused next to its field, the other fields kept, the password emptied, nothing saved", { timeout: 120_000 }, async () => {
    const { context, page, problems } = await signedInAdmin({}, "/users/new");
    const count = await app.prisma.user.count();
    // A taken username (in another case): the server's refusal lands on the username field.
    await page.getByLabel("Username").fill("OPERATOR");
    await page.getByLabel("Display name").fill("Kept Name");
    await page.getByLabel("Email").fill("kept@example.com");
    await page.getByLabel("Role").selectOption("admin");
    await page.getByLabel("Password").fill("a-good-long-password");
    await page.getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => page.getByLabel("Username").getAttribute("aria-invalid")).toBe("true");
    expect(await describedText(page, "Username")).toContain("A user with this username already exists.");
    expect(await page.getByLabel("Display name").inputValue()).toBe("Kept Name");
    expect(await page.getByLabel("Email").inputValue()).toBe("kept@example.com");
    expect(await page.getByLabel("Role").inputValue()).toBe("admin");
    expect(await page.getByLabel("Password").inputValue()).toBe("");
    expect(await page.content()).not.toContain("a-good-long-password");
    await expect.poll(() => toast(page)).toContain("Check the highlighted fields.");

    // A short password and a malformed email: each message beside its own field, the username kept.
    await page.getByLabel("Username").fill("carol-new");
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => describedText(page, "Password")).toContain("Must be at least 12 characters.");
    expect(await describedText(page, "Email")).toContain("Must be an email address.");
    expect(await page.getByLabel("Username").inputValue()).toBe("carol-new");
    expect(await page.getByLabel("Display name").inputValue()).toBe("Kept Name");
    expect(await app.prisma.user.count()).toBe(count);

    // The same form without JavaScript: a 400 page naming the fields, holding no password.
    const cookies = await context.cookies();
    const form = { intent: "create", csrf: cookies.find((c) => c.name === "oc_csrf")!.value, username: "carol-new", role: "viewer", email: "not-an-email", password: "short-pass" };
    const plain = await fetch(`${app.url}/users/new`, { method: "POST", headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; "), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
    const html = await plain.text();
    expect(plain.status).toBe(400);
    expect(html).toContain("Must be an email address.");
    expect(html).toContain("Must be at least 12 characters.");
    expect(html).not.toContain("short-pass");
    expect(await app.prisma.user.count()).toBe(count);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("managing a user", () => {
  test("an admin changes a role, disables and enables, resets the password (chosen, then generated), and deletes after a confirmation", { timeout: 150_000 }, async () => {
    const carol = await newUser("operator", "carol");
    const session = await app.request("POST", "/api/login", { body: { username: carol.username, password: carol.password } });
    const { context, page, problems } = await signedInAdmin({}, `/users/${carol.id}`);
    await page.getByRole("heading", { level: 1, name: carol.username }).waitFor();
    // Nothing about the last admin or the own account here.
    expect(await page.locator("#last-admin-note, #self-note").count()).toBe(0);

    // Role: the user's sessions end.
    const roleSection = page.getByRole("region", { name: "Change role" });
    expect(await describedText(page, "Role")).toContain("signs the user out of every session");
    await roleSection.getByLabel("Role", { exact: true }).selectOption("viewer");
    await roleSection.getByRole("button", { name: "Change role" }).click();
    await expect.poll(() => toast(page)).toContain(`${carol.username} is now viewer`);
    expect((await userRow(carol.id))?.role).toBe("viewer");
    await expect.poll(() => page.getByTestId("user-role").textContent()).toBe("viewer");
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: session.body.refreshToken } })).status).toBe(401);

    // Disable asks first; cancelling changes nothing.
    await page.getByRole("button", { name: `Disable ${carol.username}` }).click();
    const disableDialog = page.getByRole("dialog", { name: `Disable ${carol.username}?` });
    await disableDialog.waitFor();
    expect(await disableDialog.textContent()).toContain("signed out everywhere");
    await disableDialog.getByRole("button", { name: "Cancel" }).click();
    await disableDialog.waitFor({ state: "hidden" });
    expect((await userRow(carol.id))?.disabled).toBe(false);
    await page.getByRole("button", { name: `Disable ${carol.username}` }).click();
    await disableDialog.getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => toast(page)).toContain(`${carol.username} is disabled`);
    await disableDialog.waitFor({ state: "hidden" });
    expect((await userRow(carol.id))?.disabled).toBe(true);
    await expect.poll(() => page.getByTestId("user-state").textContent()).toBe("disabled");
    expect(await signsIn(carol.username, carol.password)).toBe(false);
    await page.getByRole("button", { name: `Enable ${carol.username}` }).click();
    await expect.poll(() => toast(page)).toContain(`${carol.username} is enabled again.`);
    expect((await userRow(carol.id))?.disabled).toBe(false);
    expect(await signsIn(carol.username, carol.password)).toBe(true);

    // Reset with a chosen password: the new one signs in, the old one does not.
    const passwordSection = page.getByRole("region", { name: "Reset password" });
    await passwordSection.getByLabel("New password").fill("carol-reset-password-1");
    await passwordSection.getByRole("button", { name: "Reset password" }).click();
    await expect.poll(() => toast(page)).toContain(`Password of ${carol.username} reset`);
    expect(await passwordSection.getByLabel("New password").inputValue()).toBe("");
    expect(await signsIn(carol.username, carol.password)).toBe(false);
    expect(await signsIn(carol.username, "carol-reset-password-1")).toBe(true);
    // Reset with a generated one, shown once.
    await passwordSection.getByRole("button", { name: "Reset password" }).click();
    await page.getByRole("heading", { name: `New password for ${carol.username}` }).waitFor();
    const generated = await page.getByLabel("Generated password").inputValue();
    expect(generated).toHaveLength(23);
    expect(await signsIn(carol.username, "carol-reset-password-1")).toBe(false);
    expect(await signsIn(carol.username, generated)).toBe(true);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: carol.username }).waitFor();
    expect(await page.content()).not.toContain(generated);
    const audits = await app.prisma.auditLog.findMany({ where: { entityId: carol.id, action: "user.update" }, orderBy: { id: "asc" } });
    expect(audits.map((a) => (a.details as { fields: string[] }).fields)).toEqual([["role"], ["disabled"], ["disabled"], ["password"], ["password"]]);
    expect(JSON.stringify(audits.map((a) => [a.summary, a.details]))).not.toMatch(new RegExp(`carol-reset-password-1|${generated}`));

    // Delete: the dialog says what is lost; confirming removes the account.
    await hydrated(page);
    await page.getByRole("button", { name: `Delete ${carol.username}` }).click();
    const deleteDialog = page.getByRole("dialog", { name: `Delete ${carol.username}?` });
    expect(await deleteDialog.textContent()).toContain("removed for good");
    await deleteDialog.getByRole("button", { name: "Delete user" }).click();
    await page.waitForURL(`${app.url}/users`);
    await expect.poll(() => toast(page)).toContain(`User ${carol.username} deleted.`);
    expect(await userRow(carol.id)).toBeNull();
    expect(await page.getByRole("table", { name: "Users" }).getByRole("link", { name: carol.username, exact: true }).count()).toBe(0);
    // Its page is now a 404 inside the shell.
    expect((await page.goto(`${app.url}/users/${carol.id}`))?.status()).toBe(404);
    expect((await page.goto(`${app.url}/users/not-a-uuid`))?.status()).toBe(404);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("the last enabled admin's role, disable and delete controls are disabled with the reason; a refusal that still happens is shown; your own role change signs you out", { timeout: 150_000 }, async () => {
    const admin = app.users.admin;
    expect(await app.prisma.user.count({ where: { role: "admin", disabled: false } })).toBe(1);
    const { context, page, problems } = await signedInAdmin({}, `/users/${admin.id}`);
    const note = page.locator("#last-admin-note");
    expect(await note.textContent()).toContain("admin is the only enabled admin");
    expect(await note.textContent()).toContain("Make another user an admin first");
    expect(await page.locator("#self-note").textContent()).toContain("This is your own account");
    const roleSelect = page.getByRole("region", { name: "Change role" }).getByLabel("Role", { exact: true });
    expect(await roleSelect.isDisabled()).toBe(true);
    for (const name of ["Change role", "Disable admin", "Delete admin"]) {
      const button = page.getByRole("button", { name });
      expect(await button.isDisabled(), name).toBe(true);
      expect(await button.getAttribute("aria-describedby"), name).toBe("last-admin-note");
    }
    // Your own password is changed on the Profile page, which asks for the current one.
    expect(await page.getByRole("region", { name: "Reset password" }).count()).toBe(0);
    await checkPage(page, "user last admin 1280 light", "user-last-admin-1280-light");

    // With a second enabled admin, the controls open up...
    const spare = await newUser("admin", "spare");
    await page.reload();
    await hydrated(page);
    expect(await page.locator("#last-admin-note").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Disable admin" }).isDisabled()).toBe(false);
    // ...and when the other admin goes away before the click, the service still refuses, and says why.
    await app.prisma.user.update({ where: { id: spare.id }, data: { disabled: true } });
    await page.getByRole("button", { name: "Disable admin" }).click();
    const dialog = page.getByRole("dialog", { name: "Disable admin?" });
    expect(await dialog.textContent()).toContain("This is your own account");
    await dialog.getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => toast(page)).toContain("Disabling the last enabled admin is not allowed: make another user an admin first.");
    expect((await userRow(admin.id))?.disabled).toBe(false);
    await page.locator("#last-admin-note").waitFor();
    expect(await page.getByRole("button", { name: "Disable admin" }).isDisabled()).toBe(true);

    // An admin demoting themselves (another admin being left) is signed out at once.
    await app.prisma.user.update({ where: { id: spare.id }, data: { disabled: false } });
    const own = await openPage(browser());
    await signIn(own.page, app.url, spare.username, spare.password, `/users/${spare.id}`);
    expect(await own.page.locator("#self-note").textContent()).toContain("signs you out at once");
    const ownRole = own.page.getByRole("region", { name: "Change role" });
    await ownRole.getByLabel("Role", { exact: true }).selectOption("operator");
    await ownRole.getByRole("button", { name: "Change role" }).click();
    await own.page.waitForURL(`${app.url}/login`);
    expect((await userRow(spare.id))?.role).toBe("operator");
    expect(await signsIn(spare.username, spare.password)).toBe(true);
    expect(own.problems).toEqual([]);
    await own.context.close();
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("who may use the users pages", () => {
  test("operators and viewers do not see Users or Audit log in the navigation, get the 403 page there, and their forms are refused", { timeout: 120_000 }, async () => {
    const target = await newUser("viewer", "target");
    for (const role of ["operator", "viewer"] as const) {
      const { context, page, problems } = await openPage(browser());
      await signIn(page, app.url, role, PASSWORDS[role], "/");
      const nav = page.getByRole("navigation", { name: "Sections" });
      const links = await nav.getByRole("link").allTextContents();
      expect(links, role).not.toContain("Users");
      expect(links, role).not.toContain("Audit log");
      for (const path of ["/users", "/users/new", `/users/${target.id}`, "/audit"]) {
        const res = await page.goto(`${app.url}${path}`);
        expect(res?.status(), `${role} ${path}`).toBe(403);
        await page.getByRole("heading", { level: 1, name: "You don't have access to this page" }).waitFor();
        expect(await page.content()).not.toContain(target.username);
      }
      if (role === "viewer") await checkPage(page, "users 403 viewer 1280 light");
      // The forms themselves refuse, whatever the page shows.
      const cookies = await context.cookies();
      const headers = { cookie: cookieHeader(cookies.map((c) => `${c.name}=${c.value}`)), "content-type": "application/x-www-form-urlencoded" };
      const csrf = cookies.find((c) => c.name === "oc_csrf")!.value;
      const create = await fetch(`${app.url}/users/new`, { method: "POST", headers, body: new URLSearchParams({ intent: "create", csrf, username: `made-by-${role}`, role: "admin", password: "a-good-long-password" }) });
      expect(create.status).toBe(403);
      const remove = await fetch(`${app.url}/users/${target.id}`, { method: "POST", headers, body: new URLSearchParams({ intent: "delete", csrf }) });
      expect(remove.status).toBe(403);
      const promote = await fetch(`${app.url}/users/${target.id}`, { method: "POST", headers, body: new URLSearchParams({ intent: "role", csrf, role: "admin" }) });
      expect(promote.status).toBe(403);
      expect(problems).toEqual([]);
      await context.close();
    }
    expect(await app.prisma.user.findFirst({ where: { username: { startsWith: "made-by-" } } })).toBeNull();
    expect(await userRow(target.id)).toMatchObject({ role: "viewer" });
  });
});

describe("the users pages at 1280 and 390 px, light and dark", () => {
  test("no horizontal scroll, no serious axe violation, every control named: list, new user, a user (its delete dialog and a generated password at 1280 light and 390 dark)", { timeout: 180_000 }, async () => {
    const shown = await newUser("operator", "shown");
    for (const colorScheme of ["light", "dark"] as const) {
      for (const width of [1280, 390]) {
        const { context, page, problems } = await signedInAdmin({ width, colorScheme });
        const at = `${width} ${colorScheme}`;
        await checkPage(page, `users admin ${at}`, `users-${width}-${colorScheme}`);
        await page.goto(`${app.url}/users/new`);
        await hydrated(page);
        await checkPage(page, `new user admin ${at}`, `user-new-${width}-${colorScheme}`);
        await page.goto(`${app.url}/users/${shown.id}`);
        await hydrated(page);
        await checkPage(page, `user admin ${at}`, `user-${width}-${colorScheme}`);
        // The page's two other states, once per width and once per theme.
        if ((width === 1280) === (colorScheme === "light")) {
          await page.getByRole("button", { name: `Delete ${shown.username}` }).click();
          await page.getByRole("dialog", { name: `Delete ${shown.username}?` }).waitFor();
          await checkPage(page, `user delete dialog ${at}`, `user-delete-dialog-${width}-${colorScheme}`);
          await page.keyboard.press("Escape");
          await page.getByRole("region", { name: "Reset password" }).getByRole("button", { name: "Reset password" }).click();
          await page.getByLabel("Generated password").waitFor();
          await checkPage(page, `user generated password ${at}`, `user-password-shown-${width}-${colorScheme}`);
        }
        expect(problems).toEqual([]);
        await context.close();
      }
    }
  });
});
