// Request schemas of targets: the API routes and the target forms validate with these. Browser-safe.
import { TargetOs, WinRMAuth, WinRMTransport } from "@opsconductor/db/enums";
import { z } from "zod";
import { sortQuery } from "../lib/sort.ts";
import { pageQuery } from "./common.ts";

export const TARGET_OS = Object.values(TargetOs);
export const WINRM_TRANSPORTS = Object.values(WinRMTransport);
export const WINRM_AUTHS = Object.values(WinRMAuth);
/** Default WinRM listener ports (MS-WSMV: 5985 for HTTP, 5986 for HTTPS). */
export const DEFAULT_PORTS = Object.freeze({ http: 5985, https: 5986 });

const name = z.string().trim().min(1).max(100);
const hostname = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[?[0-9A-Fa-f:.]+\]?)$/, "must be a host name or IP address");
const tag = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\s,]+$/, "may not contain spaces or commas");
const pem = z
  .string()
  .max(65_536)
  .refine((value) => value.includes("-----BEGIN CERTIFICATE-----"), "must be PEM text (-----BEGIN CERTIFICATE-----)");

const winrmSettings = z.object({
  transport: z.enum(WINRM_TRANSPORTS, { error: "must be http or https" }).optional(),
  auth: z.enum(WINRM_AUTHS, { error: "must be ntlm or basic" }).optional(),
  allowUnencrypted: z.boolean().optional(),
  caCertificate: pem.nullish(),
  rejectUnauthorized: z.boolean().optional(),
});

const PORT_RANGE = "must be a whole number from 1 to 65535";
const port = z.int({ error: PORT_RANGE }).min(1, PORT_RANGE).max(65_535, PORT_RANGE);

const fields = {
  name,
  hostname,
  port: port.optional(),
  os: z.enum(TARGET_OS, { error: "must be windows or linux" }).optional(),
  winrm: winrmSettings.optional(),
  credentialId: z.uuid({ error: "must be a credential id (UUID)" }).nullish(),
  tags: z.array(tag).max(50).optional(),
  description: z.string().trim().max(2000).nullish(),
  dependsOn: z.array(z.uuid({ error: "must be a target id (UUID)" })).max(100).optional(),
};

/** Body of POST /api/targets. */
export const createTargetBody = z.object(fields);
/** PUT with PATCH semantics: fields left out (and winrm settings left out) keep their value. */
export const updateTargetBody = z.object({ ...fields, name: name.optional(), hostname: hostname.optional() });

/** Query of GET /api/targets. */
export const targetListQuery = pageQuery.extend({
  tag: z
    .union([tag, z.array(tag).max(20)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  os: z.enum(TARGET_OS, { error: "must be windows or linux" }).optional(),
  q: z.string().trim().max(200).optional(),
});

/** The orders the targets page offers (`?sort=name`, `?sort=-createdAt`, ...). */
export const TARGET_SORT_KEYS = ["name", "hostname", "createdAt"] as const;

/** Query of the targets page: the API's filters plus the order, by name unless asked otherwise. */
export const targetPageQuery = targetListQuery.extend({
  limit: pageQuery.shape.limit.default(25),
  sort: sortQuery(TARGET_SORT_KEYS, { key: "name", direction: "asc" }),
});

// The form sends every field: an unticked box is absent, so it means false; an emptied field
// clears its value. Dependencies are picked by name (the service gets their ids).
const formCheckbox = z.boolean().default(false);
const cleared = <T extends z.ZodType>(schema: T) => schema.optional().transform((value) => value ?? null);

/** The create and edit form of a target: the API body's fields, flat enough for a form. */
export const targetForm = z.object({
  name,
  hostname,
  port: port.optional(),
  os: z.enum(TARGET_OS, { error: "must be windows or linux" }),
  winrm: z.object({
    transport: z.enum(WINRM_TRANSPORTS, { error: "must be http or https" }),
    auth: z.enum(WINRM_AUTHS, { error: "must be ntlm or basic" }),
    allowUnencrypted: formCheckbox,
    caCertificate: cleared(pem),
    rejectUnauthorized: formCheckbox,
  }),
  credentialId: cleared(z.uuid({ error: "must be a credential id (UUID)" })),
  tags: z.array(tag).max(50).default([]),
  description: cleared(z.string().trim().max(2000)),
  dependsOn: z.array(name).max(100).default([]),
});

/** The columns a target import file may have, in the order the template lists them. */
export const IMPORT_COLUMNS = ["name", "hostname", "port", "os", "transport", "auth", "tags", "credential"] as const;
/** The most rows one import takes. */
export const IMPORT_MAX_ROWS = 500;

/** The import form: the CSV text (pasted or read from a file in the browser), previewed or imported. */
export const targetImportForm = z.object({
  intent: z.enum(["preview", "import"]),
  csv: z.string().min(1).max(60_000),
});

export type CreateTarget = z.infer<typeof createTargetBody>;
export type TargetForm = z.infer<typeof targetForm>;
export type TargetPageQuery = z.infer<typeof targetPageQuery>;
export type UpdateTarget = z.infer<typeof updateTargetBody>;
export type TargetListQuery = z.infer<typeof targetListQuery>;

/** Query of a target form's loader when its credential picker asks about another host. */
export const credentialChoicesQuery = z.object({
  host: z.string().trim().max(253).optional(),
  os: z.enum(TARGET_OS, { error: "must be windows or linux" }).optional(),
});
