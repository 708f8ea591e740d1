// The sign-in flow in a real browser (Debian's chromium driven by playwright-core): hydration under
// the nonce-based CSP, the login form, the dashboard, sign-out.
import { existsSync } from "node:fs";
import { startApp } from "@opsconductor/testing/web";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const app = await startApp();
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; scripts/bootstrap.sh does it as root) or set CHROMIUM_PATH`);
  // Flags for a closed network: no background requests to Google's services.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"] });
});
afterAll(async () => {
  await browser?.close();
});

test("sign in, see the dashboard, sign out — with no script blocked and no page error", { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  // The dev server compiles each route on its first request, which is slow on a busy machine.
  page.setDefaultTimeout(90_000);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 401/.test(message.text())) problems.push(`console: ${message.text()}`);
  });

  await page.goto(`${app.url}/`);
  await page.waitForURL(/\/login/);
  await expect.poll(() => page.title()).toBe("OpsConductor · Sign in");
  // Hydrated: React took over the server-rendered form.
  await page.waitForFunction(() => (window as unknown as { __remixContext?: unknown }).__remixContext !== undefined);

  await page.fill('input[name="username"]', "operator");
  await page.fill('input[name="password"]', "wrong password");
  await page.click('button[type="submit"]');
  await page.getByText("Wrong username or password.").waitFor();

  await page.fill('input[name="password"]', "operator-password-1");
  await page.click('button[type="submit"]');
  await page.waitForURL(`${app.url}/`);
  await page.getByText("Signed in as").waitFor();
  const body = await page.textContent("body");
  expect(body).toContain("The operator");
  expect(body).toContain("Workers online");
  // Navigation is filtered by role: an operator has no Users or Audit entries.
  expect(await page.getByRole("link", { name: "Users" }).count()).toBe(0);

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  const cookies = await page.context().cookies();
  expect(cookies.filter((c) => c.name === "oc_access" || c.name === "oc_refresh")).toEqual([]);
  expect(problems).toEqual([]);
});
