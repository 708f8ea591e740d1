import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages are consumed from source through this export condition (see STYLE.md, Packages).
const SOURCE = "@opsconductor/source";

const shared = {
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions], externalConditions: [SOURCE] } },
};

export default defineConfig({
  test: {
    reporters: ["default", "./tests/setup/summary-reporter.ts"],
    // A console.error or warning during a test fails it: see tests/setup/fail-on-console.ts.
    projects: [
      {
        ...shared,
        test: {
          name: "packages",
          include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          setupFiles: ["./tests/setup/fail-on-console.ts"],
          testTimeout: 30_000,
        },
      },
      {
        ...shared,
        test: {
          name: "db",
          include: ["prisma/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "apps/*/app/**/*.test.ts", "apps/*/test/**/*.test.ts", "scripts/**/*.test.ts"],
          globalSetup: ["./prisma/src/test-global-setup.ts"],
          setupFiles: ["./tests/setup/fail-on-console.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
