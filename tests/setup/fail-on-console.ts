import { afterEach, beforeEach, expect, vi } from "vitest";

// A console.error or console.warn during a test fails it: it is almost always a real problem
// (an unhandled rejection logged by a library, a React warning) that a passing test would hide.
let calls: string[] = [];

beforeEach(() => {
  calls = [];
  for (const method of ["error", "warn"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      calls.push(`console.${method}: ${args.map(String).join(" ")}`);
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
  expect(calls, "the test wrote to console.error or console.warn").toEqual([]);
});
