// @opsconductor/sdk: a typed client of the OpsConductor REST API for Node 22+, browsers, Deno and Bun.
export { createClient, OPERATION_METHODS, type ListQuery, type OpsConductorClient, type RunEventsOptions, type RunJobOptions, type RunWaitOptions, type UploadBody } from "./client.ts";
export { OpsConductorError, isOpsConductorError, type ErrorDetail } from "./errors.ts";
export { OPERATIONS, type OperationId, type Operations } from "./generated/api.ts";
export { PagedList, type Page } from "./pages.ts";
export type { BaseClientOptions, CallOptions, ClientOptions, PasswordClientOptions, RetryOptions, TokenClientOptions } from "./transport.ts";
export * from "./types.ts";
