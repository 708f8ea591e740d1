// What the targets layout tests share: the data the pages show, the pages each role may see, and
// the walk through them at 1280 and 390 px in light and dark (one signed-in page per role, its
// viewport and colour scheme switched between rounds).
import { createTestJob, createTestRun, createTestStep } from "@opsconductor/testing";
import { checkPage, hydrated, openPage, signIn } from "@opsconductor/testing/browser";
import { PASSWORDS, type TestApp, type TestRole } from "@opsconductor/testing/web";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

interface View {
  name: string;
  path: string;
  roles: readonly TestRole[];
  /** Brings the page into the state to check, once it has loaded. */
  prepare?: (page: Page) => Promise<void>;
}

const BAD_CSV = "name,hostname,port,tags,credential\nweb-02,web02.corp.example,,web,corp-admin\nweb-03,web03.corp.example,70000,web,nobody";

/** Seeds a credential, two targets (one long-named, with a dependency, a failed last test and a run) and answers the pages to check. */
export async function seedTargetPages(app: TestApp, adminToken: string): Promise<readonly View[]> {
  const credential = await app.create<{ id: string }>("/api/credentials", adminToken, { name: "corp-admin", type: "winrm", username: "svc", usagePolicy: ["*.corp.example"], secret: { password: "pw-for-tests-only" } });
  const base = await app.create<{ id: string }>("/api/targets", adminToken, { name: "dc-01", hostname: "dc01.corp.example", tags: ["dc"] });
  const web = await app.create<{ id: string }>("/api/targets", adminToken, {
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
  return [
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
}

/**
 * Signs in as `role` and runs checkPage on each page the role may see, at 1280 and 390 px in light
 * and dark; the admin's rounds keep screenshots named `<page>-<width>-<theme>`.
 */
export async function checkTargetPages(browser: Browser, app: TestApp, views: readonly View[], role: TestRole): Promise<void> {
  const { context, page, problems } = await openPage(browser);
  await signIn(page, app.url, role, PASSWORDS[role], "/targets");
  for (const colorScheme of ["light", "dark"] as const) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme });
      for (const view of views.filter((v) => v.roles.includes(role))) {
        await page.goto(`${app.url}${view.path}`);
        await hydrated(page);
        await view.prepare?.(page);
        await checkPage(page, `${view.name} ${role} ${width} ${colorScheme}`, role === "admin" ? `${view.name}-${width}-${colorScheme}` : undefined);
      }
    }
  }
  expect(problems).toEqual([]);
  await context.close();
}
