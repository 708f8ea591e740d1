// The configuration document of GET /api/export and POST /api/apply: jobs (their current
// definitions), targets (credentials by name, never secrets), schedules and the library files the
// jobs copy (references only: name and SHA-256). Browser-safe, so the SDK and the CLI share it.
import { z } from "zod";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "./schedules.ts";
import { TARGET_OS, WINRM_AUTHS, WINRM_TRANSPORTS } from "./targets.ts";

/** The version of the document's shape; apply refuses any other. */
export const CONFIG_API_VERSION = "opsconductor.io/v1";
export const CONFIG_KIND = "Configuration";

const name = z.string().trim().min(1, "must not be empty").max(200);
const tag = z.string().trim().min(1).max(64).regex(/^[^\s,]+$/, "may not contain spaces or commas");

/** A target, known by its name; `credential` is the name of a credential that must exist where the document is applied. */
export const configTarget = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(100),
  hostname: z.string().trim().min(1, "must not be empty").max(253),
  port: z.int({ error: "must be a whole number from 1 to 65535" }).min(1).max(65_535),
  os: z.enum(TARGET_OS, { error: "must be windows or linux" }).default("windows"),
  winrm: z
    .strictObject({
      transport: z.enum(WINRM_TRANSPORTS, { error: "must be http or https" }).default("http"),
      auth: z.enum(WINRM_AUTHS, { error: "must be ntlm or basic" }).default("ntlm"),
      allowUnencrypted: z.boolean().default(false),
      caCertificate: z.string().max(65_536).nullable().default(null),
      rejectUnauthorized: z.boolean().default(true),
    })
    .prefault({}),
  credential: z.string().trim().min(1).max(200).nullable().default(null),
  tags: z.array(tag).max(50).default([]),
  description: z.string().trim().max(2000).nullable().default(null),
  /** Names of targets (in this document or already present) that must run first. */
  dependsOn: z.array(z.string().trim().min(1).max(100)).max(100).default([]),
});

/** A job, known by its definition's name: the definition of its current version, file steps naming files by name and SHA-256. */
export const configJob = z.strictObject({
  active: z.boolean().default(true),
  definition: z.record(z.string(), z.unknown()).refine((d) => typeof d.name === "string" && d.name.trim() !== "", { message: "must have a name", path: ["name"] }),
});

/** A schedule of a job (by the job's name); known by its name, or by its cron and time zone when it has none. */
export const configSchedule = z.strictObject({
  job: name,
  name: z.string().trim().min(1).max(200).nullable().default(null),
  cron: z.string().trim().min(1, "must not be empty").max(200),
  timezone: z.string().trim().min(1, "must not be empty").max(100).default("UTC"),
  parameters: z.record(z.string(), z.unknown()).default({}),
  enabled: z.boolean().default(true),
  misfirePolicy: z.enum(MISFIRE_POLICIES).default("fire_once"),
  overlapPolicy: z.enum(OVERLAP_POLICIES).default("skip"),
  misfireMaxAgeSec: z.int().min(1).max(30 * 24 * 3600).default(3600),
});

/** A library file a job copies: the bytes are not in the document; apply needs a file with this name and SHA-256. */
export const configFile = z.strictObject({
  name: z.string().min(1).max(255),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be a hex SHA-256"),
  size: z.int().min(0).optional(),
});

/** The whole document. */
export const configDocument = z.strictObject({
  apiVersion: z.literal(CONFIG_API_VERSION, { error: `must be "${CONFIG_API_VERSION}"` }),
  kind: z.literal(CONFIG_KIND, { error: `must be "${CONFIG_KIND}"` }),
  /** When and where the document was exported; informational, apply ignores it. */
  metadata: z.record(z.string(), z.unknown()).optional(),
  targets: z.array(configTarget).max(10_000).default([]),
  jobs: z.array(configJob).max(10_000).default([]),
  schedules: z.array(configSchedule).max(10_000).default([]),
  files: z.array(configFile).max(10_000).default([]),
});

/** Query of GET /api/export. */
export const exportQuery = z.object({ format: z.enum(["yaml", "json"], { error: 'must be "yaml" or "json"' }).default("yaml") });

/** Query of POST /api/apply. */
export const applyQuery = z.object({
  dryRun: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true").default(false),
  prune: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).transform((v) => v === "true").default(false),
});

export const CONFIG_KINDS = ["target", "job", "schedule"] as const;
export const CONFIG_ACTIONS = ["create", "change", "unchanged", "delete"] as const;

/** One resource in apply's answer: what happened to it (or would, in a dry run), and which fields changed. */
export const applyChange = z.object({
  kind: z.enum(CONFIG_KINDS),
  name: z.string(),
  action: z.enum(CONFIG_ACTIONS),
  fields: z.array(z.string()).optional(),
});

/** The answer of POST /api/apply. */
export const applyResult = z.object({
  dryRun: z.boolean(),
  prune: z.boolean(),
  /** Counts per action; `delete` counts what prune deleted (or would): without prune, what the document leaves out is left alone and not listed. */
  summary: z.object({ create: z.number().int(), change: z.number().int(), unchanged: z.number().int(), delete: z.number().int() }),
  changes: z.array(applyChange),
});

export type ConfigDocument = z.infer<typeof configDocument>;
export type ConfigDocumentInput = z.input<typeof configDocument>;
export type ConfigTarget = z.infer<typeof configTarget>;
export type ConfigJob = z.infer<typeof configJob>;
export type ConfigSchedule = z.infer<typeof configSchedule>;
export type ApplyChange = z.infer<typeof applyChange>;
export type ApplyResult = z.infer<typeof applyResult>;
