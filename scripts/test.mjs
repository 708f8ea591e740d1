// `pnpm test`: vitest across the workspace, with what the tests need installed first and nothing
// of the run left behind afterwards. Every process the run starts (vitest's workers, web servers,
// workers, PostgreSQL) inherits one marker in its environment; when vitest ends, however it ends,
// whatever still carries the marker is stopped and named, and a passing run that left something
// running fails, because some test or harness did not clean up.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureChromium } from "./chromium.mjs";
import { ensurePythonWinrm } from "./python-winrm.mjs";
import { ROOT } from "./toolchain.mjs";

export const RUN_MARKER = "OPSCONDUCTOR_TEST_RUN";
// The files that drive a real browser: browser.test.ts and every page test (`*-page.test.ts`).
const BROWSER_TESTS = readdirSync(join(ROOT, "apps", "web", "test"))
  .filter((name) => name === "browser.test.ts" || name.endsWith("-page.test.ts"))
  .map((name) => `apps/web/test/${name}`);
const PYWINRM_TESTS = ["packages/winrm/test/pywinrm.test.ts"];

const args = process.argv.slice(2);
const log = (line) => process.stderr.write(`[test] ${line}\n`);

// File filters select by substring; without any, every test runs, the browser tests included.
// A test name filter (-t) skips the other tests on purpose.
const namePattern = args.some((a) => a === "-t" || a.startsWith("--testNamePattern"));
const filters = args.filter((a, i) => !a.startsWith("-") && args[i - 1] !== "-t" && args[i - 1] !== "--testNamePattern");
const selects = (files) => !process.env.OPSCONDUCTOR_SELFTEST_FIXTURES && (filters.length === 0 || files.some((f) => filters.some((x) => f.includes(x) || x.includes(f))));
// What some tests need from the machine, installed (or asked for) before anything runs.
for (const [files, variable, ensure] of [
  [BROWSER_TESTS, "CHROMIUM_PATH", ensureChromium],
  [PYWINRM_TESTS, "PYWINRM_PYTHON", ensurePythonWinrm],
]) {
  if (!selects(files)) continue;
  try {
    process.env[variable] = ensure({ log });
  } catch (error) {
    log(`cannot run the tests: ${error.message}`);
    process.exit(1);
  }
}

const marker = randomBytes(8).toString("hex");
const summaryFile = join(tmpdir(), `opsconductor-test-summary-${marker}.json`);
const vitest = spawn(join(ROOT, "node_modules", ".bin", "vitest"), ["run", ...args], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, [RUN_MARKER]: marker, OPSCONDUCTOR_TEST_SUMMARY_FILE: summaryFile },
});
let interrupted = false;
// Ctrl-C reaches vitest and everything it started directly (one foreground process group);
// other signals are passed on.
process.on("SIGINT", () => (interrupted = true));
for (const signal of ["SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    interrupted = true;
    vitest.kill(signal);
  });
}
const code = await new Promise((done) => vitest.on("exit", (c, signal) => done(c ?? (signal ? 1 : 0))));

const leftovers = await stopMarked(marker);
if (leftovers.length && interrupted) log(`interrupted: stopped the ${leftovers.length} process(es) the run had left`);
if (leftovers.length && !interrupted) {
  log(`the test run left ${leftovers.length} process(es) running, now stopped; a test or harness does not clean up:`);
  for (const p of leftovers) log(`  pid ${p.pid}: ${p.command}`);
}
let verdict = code;
if (code === 0 && leftovers.length && !interrupted) verdict = 1;
if (code === 0 && !interrupted) {
  // vitest exits 0 when tests are skipped, and can when none ran; neither is a passing run here.
  const counts = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, "utf8")) : undefined;
  if (!counts) {
    log("vitest ended without a summary of the run");
    verdict = 1;
  } else if (counts.failed > 0) {
    // Something overwrote vitest's exit code (a library's exit hook did once): the counts win.
    log(`vitest exited 0 although ${counts.failed} test(s) failed`);
    verdict = 1;
  } else if (counts.skipped > 0 && !namePattern) {
    log(`${counts.skipped} test(s) were skipped; every test must run (remove the .skip/.todo, or the condition that skips it)`);
    verdict = 1;
  } else if (counts.passed === 0) {
    log("no test ran");
    verdict = 1;
  }
}
rmSync(summaryFile, { force: true });
process.exit(verdict);

/** Stops every live process whose environment carries this run's marker; returns what was found. */
async function stopMarked(value, graceMs = 3_000) {
  const find = () => markedProcesses(`${RUN_MARKER}=${value}`);
  // Give processes that are already shutting down a moment to finish on their own.
  let found = find();
  for (let waited = 0; found.length && waited < 2_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    found = find();
  }
  const first = found;
  for (const signal of ["SIGTERM", "SIGKILL"]) {
    for (const p of found) {
      try {
        process.kill(p.pid, signal);
      } catch {
        // already gone
      }
    }
    for (let waited = 0; found.length && waited < graceMs; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      found = find();
    }
    if (!found.length) break;
  }
  return first;
}

function markedProcesses(needle) {
  if (process.platform !== "linux") return [];
  const found = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      // Zombies have an empty environment and cost nothing; only live processes match.
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1");
      if (!environ.split("\0").includes(needle)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
      found.push({ pid, command });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
