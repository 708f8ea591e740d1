// Every targets page as an operator and as a viewer see them, at 1280 and 390 px in light and
// dark: no horizontal page scroll, no serious or critical axe violation, every control named.
import { useBrowser } from "@opsconductor/testing/browser";
import { startApp } from "@opsconductor/testing/web";
import { describe, test } from "vitest";
import { checkTargetPages, seedTargetPages } from "./targets-layout.ts";

const app = await startApp();
const tokens = await app.signInAll();
const views = await seedTargetPages(app, tokens.admin);
const browser = useBrowser();

describe("every targets page at 1280 and 390 px, light and dark", () => {
  for (const role of ["operator", "viewer"] as const) {
    test(`as ${role}: no horizontal page scroll, no serious or critical axe violation, every control named`, { timeout: 180_000 }, async () => {
      await checkTargetPages(browser(), app, views, role);
    });
  }
});
