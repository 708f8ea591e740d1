// The one permission table: the API's route builder enforces it and the UI asks it what to show.
import { Role as Roles } from "@opsconductor/db/enums";

export const ROLES = Object.values(Roles);
export type Role = (typeof ROLES)[number];

const ALL: readonly Role[] = ROLES;
const WRITERS: readonly Role[] = ["admin", "operator"];
const ADMIN: readonly Role[] = ["admin"];

/** Which roles hold each permission. */
export const PERMISSIONS = Object.freeze({
  "profile:read": ALL,
  "profile:write": ALL,
  "users:read": ADMIN,
  "users:write": ADMIN,
  /** Names and types of credentials, to pick one for a target; never their details. */
  "credentials:reference": WRITERS,
  "credentials:read": ADMIN,
  "credentials:write": ADMIN,
  /** Bind a credential to a target outside the credential's usage policy (and re-point such a target). */
  "credentials:bind_any": ADMIN,
  "targets:read": ALL,
  "targets:write": WRITERS,
  "targets:test": WRITERS,
  "jobs:read": ALL,
  "jobs:write": WRITERS,
  "jobs:run": WRITERS,
  "runs:read": ALL,
  "runs:cancel": WRITERS,
  /** The file library: anyone may list it; uploading and deleting is for those who write jobs. */
  "files:read": ALL,
  "files:write": WRITERS,
  "schedules:read": ALL,
  "schedules:write": WRITERS,
  "scheduler:read": ALL,
  "scheduler:control": ADMIN,
  "executor:read": ALL,
  /** The system page: workers, queue, dead-lettered runs, database health, metrics history. */
  "system:read": ALL,
  /** Retry or discard dead-lettered runs. */
  "system:manage": ADMIN,
  "audit:read": ADMIN,
  /** GET /api/metrics: the web process's Prometheus metrics (route patterns, counts; no user data). */
  "metrics:read": ADMIN,
  /** Everyone's API tokens and the service accounts: list, create for a service account, revoke (own tokens need only a sign-in). */
  "tokens:admin": ADMIN,
  /** GET /api/export: the configuration as a document (no secrets in it). */
  "config:export": WRITERS,
  /** POST /api/apply: operators may write every kind of resource a document holds; binding a credential outside its policy still needs credentials:bind_any. */
  "config:apply": WRITERS,
} satisfies Record<string, readonly Role[]>);

export type Permission = keyof typeof PERMISSIONS;

/** True when `role` holds `permission`. */
export function can(role: Role, permission: Permission): boolean {
  return PERMISSIONS[permission].includes(role);
}
