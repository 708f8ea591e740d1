// What the workspace's test files share; product code never imports it. This entry point holds
// per-file databases, data factories, waiting and in-memory logs; `@opsconductor/testing/web` the
// web app harness; `@opsconductor/testing/worker` the worker harness and its WinRM fixture.
export { createTestDatabase, type TestDatabase } from "@opsconductor/db/testing";
export * from "./factories.ts";
export { FINISHED_RUN_STATUSES, until, waitForRun } from "./wait.ts";
export { startCaptureServer, type CaptureServer } from "./capture-server.ts";
export { memoryLogger, type LogLine, type MemoryLogger } from "./logger.ts";
