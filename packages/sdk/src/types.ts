// Answers of the API. The OpenAPI document describes requests only (from the server's zod schemas,
// see generated/api.ts); these are the views the server's services return, dates as ISO strings.

/** An ISO 8601 instant, as JSON carries it. */
export type DateTime = string;
/** Any JSON object. */
export type JsonObject = { [key: string]: unknown };
/** A user's role. */
export type Role = "admin" | "operator" | "viewer";
/** A run's status; succeeded, failed, canceled and timed_out are final. */
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "canceled" | "timed_out";
/** What started a run. */
export type RunTrigger = "manual" | "schedule" | "api";
/** Where a line of output came from. */
export type OutputStream = "stdout" | "stderr" | "system";

/** Statuses a run never leaves. */
export const FINAL_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "canceled", "timed_out"];

/** The answer of POST /api/login and /api/refresh. */
export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  /** Seconds the access token is valid. */
  expiresIn: number;
  user: { id: string; username: string; role: Role };
}

/** A run as lists show it. */
export interface RunSummary {
  id: string;
  jobId: string;
  jobName: string;
  jobVersionId: string;
  versionNumber: number;
  status: RunStatus;
  trigger: RunTrigger;
  scheduleId: string | null;
  requestedBy: { id: string; username: string } | null;
  attempt: number;
  queuedAt: DateTime;
  startedAt: DateTime | null;
  finishedAt: DateTime | null;
  cancelRequestedAt: DateTime | null;
  error: string | null;
  /** When retention dropped the run's output (its status and steps stay); null while it has it. */
  outputPrunedAt: DateTime | null;
}

/** One run with its parameters (secret ones masked). */
export interface Run extends RunSummary {
  parameters: Record<string, unknown>;
}

/** One step of a run. */
export interface RunStep {
  id: string;
  index: number;
  stepKey: string;
  name: string;
  type: string;
  targetId: string | null;
  targetName: string | null;
  status: string;
  exitCode: number | null;
  startedAt: DateTime | null;
  finishedAt: DateTime | null;
  error: string | null;
}

/** One chunk of a run's output; `sequence` orders a run's output and is the event id of its output event. */
export interface OutputChunk {
  stepId: string | null;
  stream: OutputStream;
  sequence: number;
  text: string;
  at: DateTime;
}

/** An event of GET /api/runs/{id}/events: the run's state, a step's state, output, or the end. */
export type RunEvent =
  | { type: "run"; run: Run }
  | { type: "step"; step: RunStep }
  | { type: "output"; chunk: OutputChunk }
  | { type: "end"; runId: string; status: RunStatus; lastSequence: number | null };

/** The answer of POST /api/jobs/{id}/run. */
export interface RunRequested {
  runId: string;
  status: RunStatus;
  /** false when the idempotency key had been used: runId is the earlier run. */
  created: boolean;
}

/** A job; `definition` (of its current version) in single-job answers. */
export interface Job {
  id: string;
  name: string;
  description: string | null;
  active: boolean;
  version: number | null;
  definition?: JsonObject | null;
  createdById: string | null;
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** One saved version of a job. */
export interface JobVersion extends JsonObject {
  number: number;
}

/** A Windows host to run steps on. */
export interface Target {
  id: string;
  name: string;
  hostname: string;
  port: number;
  os: string;
  winrm: { transport: string; auth: string; allowUnencrypted: boolean; caCertificate: string | null; rejectUnauthorized: boolean };
  credential: { id: string; name: string } | null;
  tags: string[];
  description: string | null;
  dependsOn: { id: string; name: string }[];
  lastTest: { at: DateTime; ok: boolean; latencyMs: number | null; message: string | null } | null;
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** The answer of a connection test. */
export type ConnectionTestResult = { ok: true; latencyMs: number; hostname: string } | { ok: false; error: string; hint: string; latencyMs?: number };

/** A credential: never its secret. References (id, name, type) for roles that may only pick one. */
export interface Credential extends JsonObject {
  id: string;
  name: string;
  type: string;
}

/** A file of the library. */
export interface LibraryFile {
  id: string;
  name: string;
  size: number;
  sha256: string;
  uploadedBy: { id: string | null; username: string | null } | null;
  createdAt: DateTime;
}

/** A schedule of a job. */
export interface Schedule {
  id: string;
  jobId: string;
  jobName: string;
  name: string;
  cron: string;
  timezone: string;
  parameters: Record<string, unknown>;
  enabled: boolean;
  misfirePolicy: string;
  overlapPolicy: string;
  misfireMaxAgeSec: number | null;
  nextRunAt: DateTime | null;
  lastRunAt: DateTime | null;
  nextRuns: DateTime[];
  createdById: string | null;
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** A user account. */
export interface User {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  hasPassword: boolean;
  ssoLinked: boolean;
  lastLoginAt: DateTime | null;
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** An API token (never its value, except once in TokenCreated). */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  owner: { id: string; username: string; kind: "human" | "service" };
  createdAt: DateTime;
  createdBy: string | null;
  lastUsedAt: DateTime | null;
  expiresAt: DateTime | null;
  revokedAt: DateTime | null;
  status: "active" | "expired" | "revoked";
}

/** The answer of POST /api/tokens: the token's value, this once. */
export interface TokenCreated extends ApiToken {
  token: string;
}

/** A service account (a user of kind service). */
export interface ServiceAccount extends JsonObject {
  id: string;
  username: string;
  role: Role;
}

/** A row of the audit log. */
export interface AuditEntry extends JsonObject {
  id: string;
  action: string;
  at?: DateTime;
}
