// Proves that the README's test command can say no: it runs `pnpm test` on planted failures (a
// failed assertion, throwing hooks, a broken import, a global setup that cannot reach its
// database) in every vitest project, and fails unless each run exits non-zero and its closing
// line counts the failures. A passing fixture is the control. `.ci/run` calls this before the suite.
import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const FIXTURES = "tests/selftest/fixtures";
const fixture = (name) => `${FIXTURES}/${name}.fixture.ts`;

const cases = [];
for (const project of ["packages", "db"]) {
  cases.push(
    { project, file: fixture("passing"), expect: { code: 0, passed: 1, failed: 0 } },
    { project, file: fixture("assertion"), expect: { passed: 0, failed: 1 } },
    { project, file: fixture("before-all"), expect: { passed: 0, failed: 2 } },
    { project, file: fixture("before-each"), expect: { passed: 0, failed: 1 } },
    { project, file: fixture("after-all"), expect: { passed: 1, failed: 1 } },
    { project, file: fixture("import"), expect: { passed: 0, failed: 1 } },
  );
}
cases.push(
  { project: "db", file: fixture("db/database"), expect: { passed: 0, failed: 1 } },
  // Nothing listens on port 1: the global setup throws before any test file runs.
  { project: "db", file: fixture("passing"), env: { TEST_DATABASE_URL: "postgresql://nobody:none@127.0.0.1:1/none" }, label: "global setup fails", expect: { passed: 0, failed: 1 } },
);

function run(testCase) {
  return new Promise((done) => {
    const child = spawn("pnpm", ["test", "--project", testCase.project, testCase.file], {
      cwd: ROOT,
      env: { ...process.env, ...testCase.env, OPSCONDUCTOR_SELFTEST_FIXTURES: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code, signal) => done({ code: code ?? (signal ? 1 : 0), output }));
  });
}

function judge(testCase, { code, output }) {
  const problems = [];
  const wantCode = testCase.expect.code ?? "non-zero";
  if (wantCode === 0 ? code !== 0 : code === 0) problems.push(`exit code ${code}, expected ${wantCode}`);
  // eslint-disable-next-line no-control-regex -- strips colour codes a tool may print anyway
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const lines = [...plain.matchAll(/^vitest: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)];
  const last = lines.at(-1);
  if (!last) problems.push("no closing 'N passed, N failed' line");
  else {
    const [passed, failed, skipped] = [Number(last[1]), Number(last[2]), Number(last[3] ?? 0)];
    const { passed: wantPassed, failed: wantFailed } = testCase.expect;
    if (passed !== wantPassed || failed !== wantFailed || skipped !== 0) {
      problems.push(`closing line "${last[0]}", expected "vitest: ${wantPassed} passed, ${wantFailed} failed"`);
    }
  }
  return problems;
}

// Every `pnpm test` first makes sure of .tooling/bin; the cases below start two at a time, and
// CI once failed when two of them replaced the node link at the same moment (EEXIST).
async function toolchainStartsConcurrently(rounds = 20, width = 8) {
  for (let round = 0; round < rounds; round++) {
    const results = await Promise.all(
      Array.from({ length: width }, () => new Promise((done) => {
        const child = spawn(process.execPath, ["scripts/toolchain.mjs"], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("exit", (code) => done({ code, stderr }));
      })),
    );
    const failed = results.find((r) => r.code !== 0);
    if (failed) return `round ${round + 1}: exit code ${failed.code}\n${failed.stderr.split("\n").slice(0, 6).join("\n")}`;
  }
  return null;
}

const started = Date.now();
let failures = 0;
const toolchainProblem = await toolchainStartsConcurrently();
if (toolchainProblem) {
  failures++;
  process.stdout.write(`[selftest] FAIL toolchain: 8 concurrent starts: ${toolchainProblem}\n`);
} else {
  process.stdout.write("[selftest] ok   toolchain: 8 concurrent starts, 20 rounds\n");
}
// Two at a time: each run is mostly waiting on process start-up and PostgreSQL.
const queue = [...cases];
await Promise.all(
  [0, 1].map(async () => {
    for (let testCase = queue.shift(); testCase; testCase = queue.shift()) {
      const result = await run(testCase);
      const problems = judge(testCase, result);
      const name = `${testCase.project}: ${testCase.label ?? testCase.file.slice(FIXTURES.length + 1)}`;
      if (problems.length === 0) {
        process.stdout.write(`[selftest] ok   ${name}\n`);
      } else {
        failures++;
        process.stdout.write(`[selftest] FAIL ${name}: ${problems.join("; ")}\n${result.output.split("\n").slice(-40).join("\n")}\n`);
      }
    }
  }),
);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (failures) {
  process.stdout.write(`[selftest] ${failures} of ${cases.length + 1} checks show the test command cannot be trusted (${seconds} s)\n`);
  process.exit(1);
}
process.stdout.write(`[selftest] the test command fails on every planted failure: ${cases.length} cases in ${seconds} s\n`);
