// Changing targets: register, update and delete, with their checks (credential type and usage
// policy, WinRM settings, dependency cycles), each audited in the transaction of the change.
import type { Db, PrismaClient, TargetOs } from "@opsconductor/db";
import { DEFAULT_PORTS, type CreateTarget, type UpdateTarget } from "../../schemas/targets.ts";
import type { Audit } from "../audit/audit.server.ts";
import { ApiError, invalidField, notFound, rethrowConflict } from "../errors.server.ts";
import { bindingApproval, PolicyRefusal, refused, type BindingAccess } from "./credential-policy.server.ts";
import { CREDENTIAL_TYPE_FOR, targetInclude, toTargetView, type TargetView } from "./queries.server.ts";

/** Refuses a credential that does not exist or does not fit the OS (winrm for windows, ssh for linux). */
export async function checkCredential(db: Db, credentialId: string, os: TargetOs): Promise<void> {
  const credential = await db.credential.findUnique({ where: { id: credentialId }, select: { type: true, name: true } });
  if (!credential) throw invalidField("body.credentialId", "names no credential");
  if (credential.type !== CREDENTIAL_TYPE_FOR[os]) {
    throw invalidField("body.credentialId", `is the ${credential.type} credential ${credential.name}; a ${os} target needs a ${CREDENTIAL_TYPE_FOR[os]} credential`);
  }
}

/** Refuses Basic auth over plain HTTP unless unencrypted traffic was allowed on purpose. */
export function checkWinrm(settings: { transport: string; auth: string; allowUnencrypted: boolean }): void {
  if (settings.transport === "http" && settings.auth === "basic" && !settings.allowUnencrypted) {
    throw invalidField("body.winrm.allowUnencrypted", "must be true for Basic auth over plain HTTP, which sends the password readably; prefer ntlm or https");
  }
}

// Serialises dependency changes so two concurrent edits cannot together close a cycle.
async function lockDependencies(tx: Db): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('opsconductor:target-dependencies'))`;
}

/** Replaces a target's dependencies after checking they exist, are not itself and close no cycle. */
async function setDependencies(tx: Db, targetId: string, dependsOn: string[]): Promise<void> {
  const wanted = [...new Set(dependsOn)];
  if (wanted.includes(targetId)) throw invalidField("body.dependsOn", "may not contain the target itself");
  const found = await tx.target.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true } });
  const missing = wanted.filter((id) => !found.some((t) => t.id === id));
  if (missing.length > 0) throw invalidField("body.dependsOn", `names targets that do not exist: ${missing.join(", ")}`);
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
          throw invalidField("body.dependsOn", `would create a dependency cycle: ${path.map(label).join(" → ")}`);
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

const uniqueTags = (tags: string[]) => [...new Set(tags)];

/**
 * Registers a target; the port defaults to the transport's WinRM port. A credential is bound only
 * where its usage policy allows, unless `access` lets the caller bind it anywhere.
 */
export async function createTarget(prisma: PrismaClient, input: CreateTarget, audit: Audit, access: BindingAccess): Promise<TargetView> {
  try {
    return await prisma.$transaction((tx) => insertTarget(tx, input, audit, access));
  } catch (error) {
    if (error instanceof PolicyRefusal) await refused(error, "target.create", audit, prisma);
    rethrowConflict(error, "target");
  }
}

/**
 * createTarget's work inside the caller's transaction (an import registers many in one). A
 * credential outside its policy throws PolicyRefusal, which the caller audits after the rollback.
 */
export async function insertTarget(tx: Db, input: CreateTarget, audit: Audit, access: BindingAccess): Promise<TargetView> {
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
  return toTargetView(row);
}

/** Updates a target; fields left out keep their value. Re-pointing a target that has a credential follows the same policy as binding one. */
export async function updateTarget(prisma: PrismaClient, id: string, input: UpdateTarget, audit: Audit, access: BindingAccess): Promise<TargetView> {
  try {
    return await prisma.$transaction((tx) => changeTarget(tx, id, input, audit, access));
  } catch (error) {
    if (error instanceof PolicyRefusal) await refused(error, "target.update", audit, prisma);
    rethrowConflict(error, "target");
  }
}

/** updateTarget's work inside the caller's transaction (configuration apply changes many in one); throws PolicyRefusal as insertTarget does. */
export async function changeTarget(tx: Db, id: string, input: UpdateTarget, audit: Audit, access: BindingAccess): Promise<TargetView> {
  const current = await tx.target.findUnique({ where: { id }, include: targetInclude });
  if (!current) throw notFound("target");
  const before = toTargetView(current);
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
  const after = toTargetView(row);
  const changed = (["name", "hostname", "port", "os", "winrm", "credential", "tags", "description", "dependsOn"] as const).filter(
    (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
  if (changed.length > 0) {
    const changes = Object.fromEntries(changed.map((key) => [key, { from: before[key], to: after[key] }]));
    await audit({ action: "target.update", entityType: "target", entityId: id, summary: `updated target ${row.name} (${changed.join(", ")})`, details: { fields: changed, changes } }, tx);
  }
  return after;
}

/** The jobs whose current version has a step naming the target (by name, any case, or by id). */
export async function jobsNamingTarget(db: Db, target: { id: string; name: string }): Promise<string[]> {
  // A definition's steps are validated when saved: an array of objects, `target` a string when present.
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT DISTINCT j.name::text AS name FROM jobs j
    JOIN job_versions v ON v.id = j.current_version_id
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'steps') = 'array' THEN v.definition->'steps' ELSE '[]'::jsonb END) AS step
    WHERE lower(step->>'target') = lower(${target.name}) OR step->>'target' = ${target.id}
    ORDER BY 1`;
  return rows.map((row) => row.name);
}

/**
 * Deletes a target; dependencies on it go with it, run history keeps the target's name. A target
 * that a job's current version names in a step is refused (409): its runs would fail.
 */
export async function deleteTarget(prisma: PrismaClient, id: string, audit: Audit): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const current = await tx.target.findUnique({ where: { id }, select: { name: true, hostname: true } });
    if (!current) throw notFound("target");
    const jobs = await jobsNamingTarget(tx, { id, name: current.name });
    if (jobs.length > 0) {
      const listed = jobs.slice(0, 5).join(", ") + (jobs.length > 5 ? ` and ${jobs.length - 5} more` : "");
      throw new ApiError(409, "target_in_use", `target ${current.name} is named by the steps of ${jobs.length === 1 ? "job" : "jobs"} ${listed}: change ${jobs.length === 1 ? "that job" : "those jobs"} first`);
    }
    await tx.target.delete({ where: { id } });
    await audit({ action: "target.delete", entityType: "target", entityId: id, summary: `deleted target ${current.name}`, details: { name: current.name, hostname: current.hostname } }, tx);
  });
}
