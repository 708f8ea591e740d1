import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages are consumed from source through this export condition (docs/decisions/002-workspace-packages-from-source.md).
const SOURCE = "@opsconductor/source";

const shared = {
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions], externalConditions: [SOURCE] } },
};

// tests/selftest/run.mjs sets this to run the planted failures instead of the real suite, which
// therefore never sees them.
// expect.poll waits for what a user would see next (a toast, a field marked invalid); vitest's 1 s
// default fails on a loaded two-core machine where a page action can take longer. A ceiling for a
// wait, never a speed assertion: speed is measured in bench/. (Projects do not inherit it from the root.)
const expectOptions = { poll: { timeout: 15_000 } };

const selftest = process.env.OPSCONDUCTOR_SELFTEST_FIXTURES === "1";
const FIXTURES = "tests/selftest/fixtures";

export default defineConfig({
  test: {
    reporters: ["default", "./tests/setup/summary-reporter.ts"],
    // A console.error or warning during a test fails it: see tests/setup/fail-on-console.ts.
    // A `.only` left in the code fails the run (scripts/test.mjs fails one with skipped tests).
    allowOnly: false,
    // vitest's default is one file at a time on two cores, but most files here wait on sockets,
    // PostgreSQL and timers rather than compute; each file keeps its own database and processes.
    maxWorkers: 3,
    projects: [
      {
        ...shared,
        test: {
          name: "packages",
          include: selftest ? [`${FIXTURES}/*.fixture.ts`] : ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          setupFiles: ["./tests/setup/fail-on-console.ts"],
          testTimeout: 30_000,
          expect: expectOptions,
        },
      },
      {
        ...shared,
        test: {
          name: "db",
          include: selftest
            ? [`${FIXTURES}/*.fixture.ts`, `${FIXTURES}/db/*.fixture.ts`]
            : ["prisma/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "apps/*/app/**/*.test.ts", "apps/*/test/**/*.test.ts", "scripts/**/*.test.ts"],
          globalSetup: ["./tests/setup/global-setup.ts"],
          setupFiles: ["./tests/setup/fail-on-console.ts"],
          testTimeout: 60_000,
          expect: expectOptions,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
