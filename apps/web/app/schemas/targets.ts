// Request schemas of targets: the API routes and the target forms validate with these. Browser-safe.
import { TargetOs, WinRMAuth, WinRMTransport } from "@opsconductor/db/enums";
import { z } from "zod";
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

const fields = {
  name,
  hostname,
  port: z.int().min(1).max(65_535).optional(),
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

export type CreateTarget = z.infer<typeof createTargetBody>;
export type UpdateTarget = z.infer<typeof updateTargetBody>;
export type TargetListQuery = z.infer<typeof targetListQuery>;
