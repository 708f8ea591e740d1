// Ends every run with one plain "N passed, N failed" line, a summary any CI log reader understands
// (vitest's own summary is colourised and spread over several lines).
import { writeFileSync } from "node:fs";
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSuite } from "vitest/node";

/** Counts of one run, as the closing line states them. */
export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
}

// A test that never ran because its file or one of its suites failed (a throwing beforeAll, an
// import error) did not pass: it is a failure, not a skip.
function underFailure(test: TestCase): boolean {
  for (let parent: TestSuite | TestModule = test.parent; ; parent = parent.parent) {
    if (parent.state() === "failed") return true;
    if (parent.type === "module") return false;
  }
}

/** Counts the tests of finished modules; failures outside any test (hooks, imports, unhandled errors) count too. */
export function countRun(testModules: ReadonlyArray<TestModule>, unhandledErrors: number): RunCounts {
  const counts: RunCounts = { passed: 0, failed: unhandledErrors, skipped: 0 };
  for (const module of testModules) {
    const failedUnder = new Map<TestSuite | TestModule, number>();
    const addFailure = (from: TestSuite | TestModule) => {
      counts.failed++;
      for (let entity: TestSuite | TestModule = from; ; entity = entity.parent) {
        failedUnder.set(entity, (failedUnder.get(entity) ?? 0) + 1);
        if (entity.type === "module") break;
      }
    };
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === "passed") counts.passed++;
      else if (state === "failed" || underFailure(test)) addFailure(test.parent);
      else counts.skipped++;
    }
    // A failed file or suite with no failed test under it failed in a hook (afterAll) or at import;
    // inner suites first, so one such error counts once.
    const entities: (TestSuite | TestModule)[] = [...module.children.allSuites()].reverse();
    for (const entity of [...entities, module]) {
      if (entity.state() === "failed" && !failedUnder.get(entity)) addFailure(entity);
    }
  }
  return counts;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: TestRunEndReason) {
    const counts = countRun(testModules, unhandledErrors.length);
    // The run failed outside every test and hook (a global setup that threw): still a failure.
    if (reason !== "passed" && counts.failed === 0) counts.failed = 1;
    const { passed, failed, skipped } = counts;
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
    // scripts/test.mjs reads the counts to refuse a run that skipped tests or ran none.
    const file = process.env.OPSCONDUCTOR_TEST_SUMMARY_FILE;
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped }));
  }
}
