// Targets: the machines jobs run on, their WinRM settings, credential and dependencies, and the
// "test connection" check.
import { SecretDecryptionError } from "@opsconductor/core";
import { connectionChanged, connectionFingerprint, credentialPolicyMessage, credentialUseRefusal, hostMatchesPolicy, type Db, type Prisma, type PrismaClient, type TargetConnection } from "@opsconductor/db";
import * as WinRMModule from "@opsconductor/winrm";
import { z } from "zod";
import { decodeCursor, pageQuery, toPage } from "./api.server.ts";
import { deniedAddress, destinationRules, guardedLookup, type DestinationRules } from "./destinations.server.ts";
import { ApiError, notFound } from "./errors.server.ts";
import { decryptCredentialSecret } from "./keyring.server.ts";
import type { AuditFn } from "./users.server.ts";

export const TARGET_OS = ["windows", "linux"] as const;
export const WINRM_TRANSPORTS = ["http", "https"] as const;
export const WINRM_AUTHS = ["ntlm", "basic"] as const;
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

export const createTargetBody = z.object(fields);
/** PUT with PATCH semantics: fields left out (and winrm settings left out) keep their value. */
export const updateTargetBody = z.object({ ...fields, name: name.optional(), hostname: hostname.optional() });

export const targetListQuery = pageQuery.extend({
  tag: z
    .union([tag, z.array(tag).max(20)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  os: z.enum(TARGET_OS, { error: "must be windows or linux" }).optional(),
  q: z.string().trim().max(200).optional(),
});

export const targetInclude = {
  credential: { select: { id: true, name: true, type: true } },
  dependsOn: { select: { dependsOn: { select: { id: true, name: true } } }, orderBy: { dependsOn: { name: "asc" } } },
} satisfies Prisma.TargetInclude;
export type TargetRow = Prisma.TargetGetPayload<{ include: typeof targetInclude }>;

/** A target as the API shows it. */
export interface TargetView {
  id: string;
  name: string;
  hostname: string;
  port: number;
  os: (typeof TARGET_OS)[number];
  winrm: { transport: "http" | "https"; auth: "ntlm" | "basic"; allowUnencrypted: boolean; caCertificate: string | null; rejectUnauthorized: boolean };
  credential: { id: string; name: string } | null;
  tags: string[];
  description: string | null;
  dependsOn: { id: string; name: string }[];
  lastTest: { at: Date; ok: boolean; latencyMs: number | null; message: string | null } | null;
  createdAt: Date;
  updatedAt: Date;
}

export function targetView(row: TargetRow): TargetView {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    port: row.port,
    os: row.os,
    winrm: {
      transport: row.winrmTransport,
      auth: row.winrmAuth,
      allowUnencrypted: row.winrmAllowUnencrypted,
      caCertificate: row.winrmCaCertificate,
      rejectUnauthorized: row.winrmRejectUnauthorized,
    },
    credential: row.credential ? { id: row.credential.id, name: row.credential.name } : null,
    tags: row.tags,
    description: row.description,
    dependsOn: row.dependsOn.map((d) => d.dependsOn),
    lastTest: row.lastTestAt ? { at: row.lastTestAt, ok: row.lastTestOk ?? false, latencyMs: row.lastTestLatencyMs, message: row.lastTestMessage } : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const invalid = (path: string, message: string) => new ApiError(400, "validation_failed", `${path} ${message}`, { details: [{ path, message: `${path} ${message}` }] });

const cursorShape = z.object({ at: z.iso.datetime(), id: z.uuid() });

/** Lists targets newest first, filtered by tags (all must match), OS and a text query. */
export async function listTargets(db: Db, query: z.infer<typeof targetListQuery>) {
  const cursor = decodeCursor(query.cursor, cursorShape);
  const where: Prisma.TargetWhereInput = {
    ...(query.tag?.length ? { tags: { hasEvery: query.tag } } : {}),
    ...(query.os ? { os: query.os } : {}),
    ...(query.q
      ? {
          OR: [
            { name: { contains: query.q, mode: "insensitive" } },
            { hostname: { contains: query.q, mode: "insensitive" } },
            { description: { contains: query.q, mode: "insensitive" } },
          ],
        }
      : {}),
  };
  const rows = await db.target.findMany({
    include: targetInclude,
    where: cursor ? { AND: [where, { OR: [{ createdAt: { lt: new Date(cursor.at) } }, { createdAt: new Date(cursor.at), id: { lt: cursor.id } }] }] } : where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
  });
  const page = toPage(rows, query.limit, (t) => ({ at: t.createdAt.toISOString(), id: t.id }));
  return { items: page.items.map(targetView), nextCursor: page.nextCursor };
}

/** One target, or a 404. */
export async function getTarget(db: Db, id: string): Promise<TargetView> {
  const row = await db.target.findUnique({ where: { id }, include: targetInclude });
  if (!row) throw notFound("target");
  return targetView(row);
}

const EXPECTED_CREDENTIAL: Record<(typeof TARGET_OS)[number], string> = { windows: "winrm", linux: "ssh" };

async function checkCredential(db: Db, credentialId: string, os: (typeof TARGET_OS)[number]): Promise<void> {
  const credential = await db.credential.findUnique({ where: { id: credentialId }, select: { type: true, name: true } });
  if (!credential) throw invalid("body.credentialId", "names no credential");
  if (credential.type !== EXPECTED_CREDENTIAL[os]) {
    throw invalid("body.credentialId", `is the ${credential.type} credential ${credential.name}; a ${os} target needs a ${EXPECTED_CREDENTIAL[os]} credential`);
  }
}

/** What the caller may do with a credential outside its usage policy (the credentials:bind_any permission). */
export interface BindingAccess {
  bindAnywhere: boolean;
}

// Carries a refusal out of the transaction, which rolls back, so that its audit row survives.
class PolicyRefusal extends Error {
  readonly credential: { id: string; name: string };
  readonly connection: TargetConnection & { name: string; id: string | null };
  readonly path: string;
  constructor(credential: PolicyRefusal["credential"], connection: PolicyRefusal["connection"], path: string, message: string) {
    super(message);
    this.credential = credential;
    this.connection = connection;
    this.path = path;
  }
}

/**
 * The approval to store with a target after a change: an admin's change approves exactly the new
 * connection settings; anyone else's must point the credential at a host its usage policy lists.
 */
async function bindingApproval(
  tx: Db,
  next: TargetConnection & { name: string },
  current: (TargetConnection & { id: string; credentialApproval: string | null }) | null,
  access: BindingAccess,
): Promise<string | null> {
  if (!next.credentialId) return null;
  if (current && !connectionChanged(current, next)) return current.credentialApproval;
  if (access.bindAnywhere) return connectionFingerprint(next);
  const credential = await tx.credential.findUnique({ where: { id: next.credentialId }, select: { id: true, name: true, usagePolicy: true } });
  if (!credential) throw invalid("body.credentialId", "names no credential");
  if (!hostMatchesPolicy(next.hostname, credential.usagePolicy)) {
    const path = !current || current.credentialId !== next.credentialId ? "body.credentialId" : "body.hostname";
    throw new PolicyRefusal(credential, { ...next, id: current?.id ?? null }, path, credentialPolicyMessage(credential.name, next.hostname, credential.usagePolicy.length === 0));
  }
  return null;
}

type TargetAudit = Parameters<AuditFn>[0];

/** The audit row of a refused use of a credential: who tried, which credential, where to. */
function policyRefusalAudit(credential: { id: string; name: string }, target: TargetConnection & { name: string; id: string | null }, operation: string, message: string): TargetAudit {
  return {
    action: "credential.policy_refused",
    entityType: "credential",
    entityId: credential.id,
    summary: `refused ${operation} of target ${target.name}: ${message}`,
    details: { operation, credential: credential.name, targetId: target.id, target: target.name, hostname: target.hostname, port: target.port, transport: target.winrmTransport, auth: target.winrmAuth },
  };
}

async function refused(error: unknown, operation: string, audit: AuditFn, db: Db): Promise<never> {
  if (!(error instanceof PolicyRefusal)) throw error;
  await audit(policyRefusalAudit(error.credential, error.connection, operation, error.message), db);
  throw new ApiError(403, "credential_policy", error.message, { details: [{ path: error.path, message: error.message }] });
}

function checkWinrm(settings: { transport: string; auth: string; allowUnencrypted: boolean }): void {
  if (settings.transport === "http" && settings.auth === "basic" && !settings.allowUnencrypted) {
    throw invalid("body.winrm.allowUnencrypted", "must be true for Basic auth over plain HTTP, which sends the password readably; prefer ntlm or https");
  }
}

// Serialises dependency changes so two concurrent edits cannot together close a cycle.
async function lockDependencies(tx: Db): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('opsconductor:target-dependencies'))`;
}

/** Replaces a target's dependencies after checking they exist, are not itself and close no cycle. */
async function setDependencies(tx: Db, targetId: string, dependsOn: string[]): Promise<void> {
  const wanted = [...new Set(dependsOn)];
  if (wanted.includes(targetId)) throw invalid("body.dependsOn", "may not contain the target itself");
  const found = await tx.target.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true } });
  const missing = wanted.filter((id) => !found.some((t) => t.id === id));
  if (missing.length > 0) throw invalid("body.dependsOn", `names targets that do not exist: ${missing.join(", ")}`);
  if (wanted.length > 0) {
    const edges = await tx.targetDependency.findMany({ where: { targetId: { not: targetId } }, select: { targetId: true, dependsOnId: true } });
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.targetId, [...(next.get(e.targetId) ?? []), e.dependsOnId]);
    // Breadth-first from the new dependencies: reaching this target again means a cycle.
    const parent = new Map<string, string>(wanted.map((id) => [id, targetId]));
    const queue = [...wanted];
    while (queue.length > 0) {
      const at = queue.shift()!;
      for (const to of next.get(at) ?? []) {
        if (to === targetId) {
          const chain: string[] = [];
          for (let step = at; step !== targetId; step = parent.get(step)!) chain.unshift(step);
          const path = [targetId, ...chain, targetId];
          const names = await tx.target.findMany({ where: { id: { in: path } }, select: { id: true, name: true } });
          const label = (id: string) => names.find((n) => n.id === id)?.name ?? id;
          throw invalid("body.dependsOn", `would create a dependency cycle: ${path.map(label).join(" → ")}`);
        }
        if (!parent.has(to)) {
          parent.set(to, at);
          queue.push(to);
        }
      }
    }
  }
  await tx.targetDependency.deleteMany({ where: { targetId } });
  if (wanted.length > 0) await tx.targetDependency.createMany({ data: wanted.map((dependsOnId) => ({ targetId, dependsOnId })) });
}

function nameTaken(error: unknown): never {
  if ((error as { code?: string })?.code === "P2002") {
    const message = "a target with this name already exists";
    throw new ApiError(409, "conflict", message, { details: [{ path: "body.name", message }] });
  }
  throw error;
}

const uniqueTags = (tags: string[]) => [...new Set(tags)];

/**
 * Registers a target; the port defaults to the transport's WinRM port. A credential is bound only
 * where its usage policy allows, unless `access` lets the caller bind it anywhere.
 */
export async function createTarget(prisma: PrismaClient, input: z.infer<typeof createTargetBody>, audit: AuditFn, access: BindingAccess): Promise<TargetView> {
  const os = input.os ?? "windows";
  const transport = input.winrm?.transport ?? "http";
  const winrm = {
    winrmTransport: transport,
    winrmAuth: input.winrm?.auth ?? "ntlm",
    winrmAllowUnencrypted: input.winrm?.allowUnencrypted ?? false,
    winrmCaCertificate: input.winrm?.caCertificate ?? null,
    winrmRejectUnauthorized: input.winrm?.rejectUnauthorized ?? true,
  } as const;
  checkWinrm({ transport, auth: winrm.winrmAuth, allowUnencrypted: winrm.winrmAllowUnencrypted });
  try {
    return await prisma.$transaction(async (tx) => {
      if (input.credentialId) await checkCredential(tx, input.credentialId, os);
      const connection = { name: input.name, hostname: input.hostname, port: input.port ?? DEFAULT_PORTS[transport], ...winrm, credentialId: input.credentialId ?? null };
      const credentialApproval = await bindingApproval(tx, connection, null, access);
      const created = await tx.target.create({
        data: {
          ...connection,
          os,
          credentialApproval,
          tags: uniqueTags(input.tags ?? []),
          description: input.description ?? null,
        },
      });
      if (input.dependsOn?.length) {
        await lockDependencies(tx);
        await setDependencies(tx, created.id, input.dependsOn);
      }
      const row = await tx.target.findUniqueOrThrow({ where: { id: created.id }, include: targetInclude });
      await audit(
        {
          action: "target.create",
          entityType: "target",
          entityId: row.id,
          summary: `registered target ${row.name} (${row.hostname}:${row.port})`,
          details: { name: row.name, hostname: row.hostname, port: row.port, os: row.os, credentialId: row.credentialId, tags: row.tags, dependsOn: row.dependsOn.map((d) => d.dependsOn.id) },
        },
        tx,
      );
      return targetView(row);
    });
  } catch (error) {
    if (error instanceof PolicyRefusal) await refused(error, "target.create", audit, prisma);
    nameTaken(error);
  }
}

/** Updates a target; fields left out keep their value. Re-pointing a target that has a credential follows the same policy as binding one. */
export async function updateTarget(prisma: PrismaClient, id: string, input: z.infer<typeof updateTargetBody>, audit: AuditFn, access: BindingAccess): Promise<TargetView> {
  try {
    return await prisma.$transaction(async (tx) => {
      const current = await tx.target.findUnique({ where: { id }, include: targetInclude });
      if (!current) throw notFound("target");
      const before = targetView(current);
      const transport = input.winrm?.transport ?? current.winrmTransport;
      // Switching transport moves a port that was the old default to the new default.
      const port = input.port ?? (transport !== current.winrmTransport && current.port === DEFAULT_PORTS[current.winrmTransport] ? DEFAULT_PORTS[transport] : current.port);
      const data = {
        name: input.name ?? current.name,
        hostname: input.hostname ?? current.hostname,
        port,
        os: input.os ?? current.os,
        winrmTransport: transport,
        winrmAuth: input.winrm?.auth ?? current.winrmAuth,
        winrmAllowUnencrypted: input.winrm?.allowUnencrypted ?? current.winrmAllowUnencrypted,
        winrmCaCertificate: input.winrm?.caCertificate === undefined ? current.winrmCaCertificate : input.winrm.caCertificate,
        winrmRejectUnauthorized: input.winrm?.rejectUnauthorized ?? current.winrmRejectUnauthorized,
        credentialId: input.credentialId === undefined ? current.credentialId : input.credentialId,
        tags: input.tags ? uniqueTags(input.tags) : current.tags,
        description: input.description === undefined ? current.description : input.description,
      };
      checkWinrm({ transport, auth: data.winrmAuth, allowUnencrypted: data.winrmAllowUnencrypted });
      if (data.credentialId && (data.credentialId !== current.credentialId || data.os !== current.os)) await checkCredential(tx, data.credentialId, data.os);
      const credentialApproval = await bindingApproval(tx, data, current, access);
      await tx.target.update({ where: { id }, data: { ...data, credentialApproval } });
      if (input.dependsOn !== undefined) {
        await lockDependencies(tx);
        await setDependencies(tx, id, input.dependsOn);
      }
      const row = await tx.target.findUniqueOrThrow({ where: { id }, include: targetInclude });
      const after = targetView(row);
      const changed = (["name", "hostname", "port", "os", "winrm", "credential", "tags", "description", "dependsOn"] as const).filter(
        (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
      );
      if (changed.length > 0) {
        const changes = Object.fromEntries(changed.map((key) => [key, { from: before[key], to: after[key] }]));
        await audit({ action: "target.update", entityType: "target", entityId: id, summary: `updated target ${row.name} (${changed.join(", ")})`, details: { fields: changed, changes } }, tx);
      }
      return after;
    });
  } catch (error) {
    if (error instanceof PolicyRefusal) await refused(error, "target.update", audit, prisma);
    nameTaken(error);
  }
}

/** Deletes a target; dependencies on it go with it, run history keeps the target's name. */
export async function deleteTarget(prisma: PrismaClient, id: string, audit: AuditFn): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const current = await tx.target.findUnique({ where: { id }, select: { name: true, hostname: true } });
    if (!current) throw notFound("target");
    await tx.target.delete({ where: { id } });
    await audit({ action: "target.delete", entityType: "target", entityId: id, summary: `deleted target ${current.name}`, details: { name: current.name, hostname: current.hostname } }, tx);
  });
}

/** The outcome of a connection test, as the API answers it. */
export type ConnectionTestResult = { ok: true; latencyMs: number; hostname: string } | { ok: false; error: string; hint: string; latencyMs?: number };

type WinRM = typeof WinRMModule;

const loadWinRM = async (): Promise<WinRM> => WinRMModule;

class TestFailure extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

// Each hint says where to look first; the WinRM error's own message carries the details.
function hintFor(winrm: WinRM, error: unknown, target: { port: number; winrmTransport: string; winrmAuth: string; hostname: string }): string {
  const { WinRMAuthError, WinRMConnectionError, WinRMFaultError, WinRMHttpError, WinRMTimeoutError } = winrm;
  const where = `${target.winrmTransport.toUpperCase()} port ${target.port}`;
  if (error instanceof TestFailure) return error.hint;
  if (error instanceof WinRMAuthError) {
    return `The host refused the credential: check the credential's user name, password and domain (PUT /api/credentials/{id} with a new secret), and that ${target.winrmAuth === "ntlm" ? "Negotiate" : "Basic"} auth is enabled on the listener.`;
  }
  if (error instanceof WinRMTimeoutError) return `No answer in time: check that ${target.hostname} is up and that no firewall silently drops ${where}.`;
  if (error instanceof WinRMConnectionError) {
    switch (error.code) {
      case "ECONNREFUSED":
        return `Nothing accepted the connection: check that the WinRM service has a ${target.winrmTransport.toUpperCase()} listener on port ${target.port} (winrm quickconfig; winrm enumerate winrm/config/listener) and that the firewall allows TCP ${target.port}.`;
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `The host name ${target.hostname} does not resolve: check the name and DNS, or use the IP address.`;
      case "EDESTINATIONDENIED":
        return "Connection tests may not reach this address (CONNECTION_TEST_DENY); an admin can list it in CONNECTION_TEST_ALLOW.";
      default:
        if (error.code && /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/i.test(error.code)) {
          return "The listener's TLS certificate is not trusted: add its issuing CA as winrm.caCertificate, or connect by the name in the certificate.";
        }
        return `Check that ${target.hostname} is reachable on ${where} and that the transport (http/https) matches the listener.`;
    }
  }
  if (error instanceof WinRMHttpError) return `The listener answered HTTP ${error.status}: check the port, the transport and the listener's settings (AllowUnencrypted, auth methods).`;
  if (error instanceof WinRMFaultError) return "The host answered with a WS-Management fault: the error text says what to change on the Windows side.";
  return "Check the target's WinRM settings and the WinRM service's event log (Microsoft-Windows-WinRM/Operational) on the host.";
}

/**
 * Connects to a target with its credential: an authenticated Identify, then `hostname` in cmd.exe.
 * Stores the outcome as the target's last test and audits it; failures answer ok: false with a hint.
 * A target outside its credential's usage policy, or at an address connection tests may not reach,
 * is a 403 (audited) and nothing is sent.
 */
export async function testTargetConnection(prisma: PrismaClient, id: string, audit: AuditFn, rules: DestinationRules = destinationRules()): Promise<ConnectionTestResult> {
  const target = await prisma.target.findUnique({ where: { id }, include: { credential: true } });
  if (!target) throw notFound("target");
  if (target.os !== "windows") throw new ApiError(409, "not_windows", `target ${target.name} is a ${target.os} target; the WinRM test is for Windows targets`);
  // Checked again here, not only when the target was saved: the row may have changed since.
  const refusal = target.credential ? credentialUseRefusal(target.credential, target) : undefined;
  if (target.credential && refusal) {
    await audit(policyRefusalAudit(target.credential, target, "target.test_winrm", refusal), prisma);
    throw new ApiError(403, "credential_policy", refusal, { details: [{ path: "params.id", message: refusal }] });
  }
  const winrm = await loadWinRM();
  let result: ConnectionTestResult;
  let password: string | undefined;
  const started = performance.now();
  try {
    const credential = target.credential;
    if (!credential) throw new TestFailure(`target ${target.name} has no credential`, "Attach a winrm credential to the target (credentialId), then test again.");
    if (!credential.username) throw new TestFailure(`credential ${credential.name} has no user name`, "Set the credential's username (and domain, for a domain account).");
    let secret;
    try {
      secret = decryptCredentialSecret(credential);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new TestFailure(`the secret of credential ${credential.name} cannot be decrypted: ${error.message}`, "Configure the master key it was sealed with in OPSCONDUCTOR_MASTER_KEY, or store the secret again.");
    }
    if (!("password" in secret)) throw new TestFailure(`credential ${credential.name} holds no password`, "WinRM signs in with a password: use a winrm credential.");
    password = secret.password;
    const address = await deniedAddress(target.hostname, rules);
    if (address) {
      const message = `connection tests may not reach ${target.hostname}${address === target.hostname ? "" : ` (${address})`}: the address is in CONNECTION_TEST_DENY; an admin can list it in CONNECTION_TEST_ALLOW`;
      await audit({ action: "target.test_winrm_denied", entityType: "target", entityId: id, summary: `refused to test target ${target.name}: ${message}`, details: { hostname: target.hostname, address } }, prisma);
      throw new ApiError(403, "destination_denied", message, { details: [{ path: "params.id", message }] });
    }
    const client = new winrm.WinRMClient({
      lookup: guardedLookup(rules),
      host: target.hostname,
      port: target.port,
      transport: target.winrmTransport,
      auth: target.winrmAuth,
      username: credential.username,
      password: secret.password,
      ...(credential.domain ? { domain: credential.domain } : {}),
      ...(target.winrmCaCertificate ? { ca: target.winrmCaCertificate } : {}),
      rejectUnauthorized: target.winrmRejectUnauthorized,
      allowUnencrypted: target.winrmAllowUnencrypted,
      connectTimeoutSec: 10,
      operationTimeoutSec: 15,
    });
    try {
      await client.identify();
      const out = await client.runCmd("hostname", [], { timeoutSec: 30 });
      if (out.exitCode !== 0) throw new TestFailure(`hostname exited with code ${out.exitCode}: ${out.stderr.trim().slice(0, 300)}`, "The connection works but cmd.exe failed: check the user's rights on the host.");
      result = { ok: true, latencyMs: Math.round(performance.now() - started), hostname: out.stdout.trim() };
    } finally {
      await client.close().catch(() => undefined);
    }
  } catch (error) {
    if (!(error instanceof TestFailure || error instanceof winrm.WinRMError)) throw error;
    const raw = error.message;
    // Belt and braces: no error text may carry the password, whatever produced it.
    const message = password ? raw.split(password).join("[redacted]") : raw;
    result = { ok: false, error: message.slice(0, 1000), hint: hintFor(winrm, error, target), latencyMs: Math.round(performance.now() - started) };
  }
  await prisma.$transaction(async (tx) => {
    await tx.target.update({
      where: { id },
      data: {
        lastTestAt: new Date(),
        lastTestOk: result.ok,
        lastTestLatencyMs: result.latencyMs ?? null,
        lastTestMessage: result.ok ? `connected; hostname ${result.hostname}` : result.error,
      },
    });
    await audit(
      {
        action: "target.test_winrm",
        entityType: "target",
        entityId: id,
        summary: result.ok ? `WinRM test of ${target.name} succeeded (${result.latencyMs} ms)` : `WinRM test of ${target.name} failed`,
        details: result.ok ? { ok: true, latencyMs: result.latencyMs, hostname: result.hostname } : { ok: false, error: result.error },
      },
      tx,
    );
  });
  return result;
}
