// Every targets page, for each role that may see it, at 1280 and 390 px in light and dark: no
// horizontal page scroll, no serious or critical axe violation, every control named; with
// OPSCONDUCTOR_SCREENSHOTS_DIR set, a PNG of each page as an admin sees it.
import { createTestJob, createTestRun, createTestStep } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn, useBrowser } from "@opsconductor/testing/browser";
import { PASSWORDS, startApp, type TestRole } from "@opsconductor/testing/web";
import type { Page } from "playwright-core";
import { describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();
const browser = useBrowser();

const credential = await app.create<{ id: string }>("/api/credentials", tokens.admin, { name: "corp-admin", type: "winrm", username: "svc", usagePolicy: ["*.corp.example"], secret: { password: "pw-for-tests-only" } });
const base = await app.create<{ id: string }>("/api/targets", tokens.admin, { name: "dc-01", hostname: "dc01.corp.example", tags: ["dc"] });
const web = await app.create<{ id: string }>("/api/targets", tokens.admin, {
  name: "web-frontend-with-a-rather-long-name-01",
  hostname: "web-frontend-with-a-rather-long-name-01.eu-west.corp.example",
  winrm: { transport: "https", rejectUnauthorized: true },
  credentialId: credential.id,
  tags: ["web", "prod", "eu-west"],
  description: "Serves the shop.",
  dependsOn: [base.id],
});
await app.prisma.target.update({ where: { id: web.id }, data: { lastTestAt: new Date(), lastTestOk: false, lastTestLatencyMs: 812, lastTestMessage: "the host refused the credential (401)" } });
await app.prisma.target.update({ where: { id: base.id }, data: { lastTestAt: new Date(), lastTestOk: true, lastTestLatencyMs: 35, lastTestMessage: "connected; hostname DC01" } });
const job = await createTestJob(app.prisma, { name: "patch-web" });
const run = await createTestRun(app.prisma, job, { status: "failed" });
await createTestStep(app.prisma, run.id, { targetId: web.id, targetName: "web-frontend-with-a-rather-long-name-01", status: "failed" });

const BAD_CSV = "name,hostname,port,tags,credential\nweb-02,web02.corp.example,,web,corp-admin\nweb-03,web03.corp.example,70000,web,nobody";

interface View {
  name: string;
  path: string;
  roles: readonly TestRole[];
  /** Brings the page into the state to check, once it has loaded. */
  prepare?: (page: Page) => Promise<void>;
}

const VIEWS: readonly View[] = [
  { name: "targets-list", path: "/targets", roles: ["admin", "operator", "viewer"] },
  { name: "target-detail", path: `/targets/${web.id}`, roles: ["admin", "operator", "viewer"] },
  { name: "target-new", path: "/targets/new", roles: ["admin", "operator"] },
  { name: "target-edit", path: `/targets/${web.id}/edit`, roles: ["admin", "operator"] },
  { name: "targets-import", path: "/targets/import", roles: ["admin", "operator"] },
  {
    name: "targets-import-preview",
    path: "/targets/import",
    roles: ["admin"],
    prepare: async (page) => {
      await page.getByLabel("CSV text").fill(BAD_CSV);
      await page.getByRole("button", { name: "Preview" }).click();
      await page.getByText("1 of 2 rows have problems").waitFor();
    },
  },
];

describe("every targets page at 1280 and 390 px, light and dark", () => {
  for (const role of ["admin", "operator", "viewer"] as const) {
    test(`as ${role}: no horizontal page scroll, no serious or critical axe violation, every control named`, { timeout: 240_000 }, async () => {
      for (const colorScheme of ["light", "dark"] as const) {
        for (const width of [1280, 390]) {
          const { context, page, problems } = await openPage(browser(), { width, colorScheme });
          await signIn(page, app.url, role, PASSWORDS[role], "/targets");
          for (const view of VIEWS.filter((v) => v.roles.includes(role))) {
            await page.goto(`${app.url}${view.path}`);
            await hydrated(page);
            await view.prepare?.(page);
            await checkPage(page, `${view.name} ${role} ${width} ${colorScheme}`, role === "admin" ? `${view.name}-${width}-${colorScheme}` : undefined);
          }
          expect(problems).toEqual([]);
          await context.close();
        }
      }
    });
  }
});
