// `pnpm screenshots [folder]`: a PNG of every page of the UI at 1280 and 390 px wide, in the light
// and the dark theme, for review. It runs the page tests (`apps/web/test/*-page.test.ts`), which
// visit each page as a real browser and, with OPSCONDUCTOR_SCREENSHOTS_DIR set, keep what they saw.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "./toolchain.mjs";

const folder = resolve(process.argv[2] ?? join(ROOT, "screenshots"));
mkdirSync(folder, { recursive: true });
for (const name of readdirSync(folder)) if (name.endsWith(".png")) rmSync(join(folder, name));

const pageTests = readdirSync(join(ROOT, "apps", "web", "test"))
  .filter((name) => name.endsWith("-page.test.ts"))
  .map((name) => `apps/web/test/${name}`);
const run = spawnSync(process.execPath, [join(ROOT, "scripts", "test.mjs"), ...pageTests], { cwd: ROOT, stdio: "inherit", env: { ...process.env, OPSCONDUCTOR_SCREENSHOTS_DIR: folder } });
const shots = readdirSync(folder).filter((name) => name.endsWith(".png")).sort();
process.stderr.write(`[screenshots] ${shots.length} PNGs in ${folder}\n`);
if (run.status !== 0) {
  process.stderr.write("[screenshots] some page tests failed: the pictures of the pages they reached are there, the others are missing\n");
  process.exit(run.status ?? 1);
}
