/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (The DOM types: page.evaluate callbacks run in the browser.)
// The browser side of the UI tests: Debian's chromium driven by playwright-core, pages opened in a
// fresh context per test, sign-in through the real form, and the checks every page must pass
// (no horizontal scroll at phone width, no serious axe violation, every control named).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";

/** Where the browser is: Debian's chromium unless CHROMIUM_PATH says otherwise. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** A folder to keep a PNG of pages in, for review (set OPSCONDUCTOR_SCREENSHOTS_DIR); unset in CI. */
export const SHOTS_DIR = process.env.OPSCONDUCTOR_SCREENSHOTS_DIR;

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

/** Starts chromium, failing with the way to install it when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; scripts/bootstrap.sh does it as root) or set CHROMIUM_PATH`);
  if (SHOTS_DIR) mkdirSync(SHOTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** One browser for a test file: launched before its tests, closed after them. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error("the browser is not started yet: call the getter inside a test");
    return browser;
  };
}

/** A page in its own context, and the page errors and console errors it produced. */
export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors; a test ends with `expect(problems).toEqual([])`. */
  problems: string[];
}

export interface OpenOptions {
  width?: number;
  colorScheme?: "light" | "dark";
  /** Console messages that are expected (a refused form logs its 4xx answer). */
  allowConsole?: RegExp;
}

/** Opens a page at `width` (1280 by default) in `colorScheme`, collecting errors. */
export async function openPage(browser: Browser, options: OpenOptions = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, colorScheme: options.colorScheme ?? "light" });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems: string[] = [];
  // A refused form logs its 4xx answer; a navigation or fetcher load that a newer one supersedes
  // (typing in a field whose suggestions reload) is aborted, which Remix reports as an AbortError.
  const allowed = options.allowConsole ?? /status of (400|401|403|404|409|413|422)|AbortError: signal is aborted without reason/;
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !allowed.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  return { context, page, problems };
}

/** Resolves once Remix has hydrated the page (before that, clicks reach server-rendered HTML only). */
export const hydrated = (page: Page) => page.waitForFunction(() => (window as unknown as { __remixContext?: unknown }).__remixContext !== undefined);

/** Signs in through the sign-in form, starting at `next` (which redirects there) and ending on it. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string, next = "/"): Promise<void> {
  await page.goto(`${baseUrl}${next}`);
  await page.waitForURL(/\/login/);
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname + url.search === next);
  await hydrated(page);
}

/** The text of what an input's aria-describedby names: its help line and its errors. */
export const describedText = (page: Page, label: string) =>
  page.getByLabel(label, { exact: true }).evaluate((input) =>
    (input.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent ?? "")
      .join(" "),
  );

/** True when the page does not scroll sideways. */
export const noHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

/** axe-core's serious and critical violations on the page, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((node) => node.target.join(" ")).join(", ")}`);
}

/** Visible controls with no accessible name (no label, aria-label, aria-labelledby or text). */
export const unnamedControls = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("input:not([type=hidden]), select, textarea, button, a[href], summary")]
      .filter((el) => el.offsetParent !== null)
      .filter((el) => {
        const labelled = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label") || el.getAttribute("title");
        return !labelled && !(el.textContent ?? "").trim();
      })
      .map((el) => el.outerHTML.slice(0, 100)),
  );

/**
 * The checks every page passes, named `what` in failures: no horizontal scroll, no serious or
 * critical axe violation, every control named; with SHOTS_DIR set, a full-page PNG `<shot>.png`.
 */
export async function checkPage(page: Page, what: string, shot?: string): Promise<void> {
  expect(await noHorizontalScroll(page), `${what}: the page scrolls sideways`).toBe(true);
  expect(await seriousViolations(page), `${what}: axe`).toEqual([]);
  expect(await unnamedControls(page), `${what}: controls without a name`).toEqual([]);
  if (SHOTS_DIR && shot) await page.screenshot({ path: join(SHOTS_DIR, `${shot}.png`), fullPage: true });
}
