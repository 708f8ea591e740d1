// Changing credentials. The secret is write-only: it is sealed on the way in (keyring.server.ts) and
// no read path, audit entry or error message ever carries it.
import { randomUUID } from "node:crypto";
import type { Db, Prisma, PrismaClient } from "@opsconductor/db";
import { secretSchemas, type CreateCredential, type CredentialType, type UpdateCredential } from "../../schemas/credentials.ts";
import type { Audit } from "../audit/audit.server.ts";
import { ApiError, isStillReferenced, notFound, rethrowConflict, validationFailed, zodIssueDetails } from "../errors.server.ts";
import { sealCredentialSecret } from "./keyring.server.ts";
import { detailSelect, toCredentialView, type CredentialView, type DetailRow } from "./queries.server.ts";

/** Stores a new credential with its secret sealed under the primary master key, bound to the row id. */
export async function createCredential(prisma: PrismaClient, input: CreateCredential, createdById: string, audit: Audit): Promise<CredentialView> {
  const id = randomUUID();
  const sealed = sealCredentialSecret(id, input.secret);
  try {
    return await prisma.$transaction(async (tx) => {
      const row = await tx.credential.create({
        data: {
          id,
          name: input.name,
          type: input.type,
          username: input.username ?? null,
          domain: input.domain ?? null,
          description: input.description ?? null,
          usagePolicy: input.usagePolicy ?? [],
          ...sealed,
          createdById,
        },
        select: detailSelect,
      });
      await audit(
        {
          action: "credential.create",
          entityType: "credential",
          entityId: id,
          summary: `created ${input.type} credential ${row.name}`,
          details: { name: row.name, type: row.type, username: row.username, domain: row.domain, usagePolicy: row.usagePolicy, keyId: row.keyId },
        },
        tx,
      );
      return toCredentialView(row);
    });
  } catch (error) {
    rethrowConflict(error, "credential");
  }
}

/** Updates a credential's metadata and, when `secret` is given, rotates the secret. */
export async function updateCredential(prisma: PrismaClient, id: string, input: UpdateCredential, audit: Audit): Promise<CredentialView> {
  try {
    return await prisma.$transaction(async (tx) => {
      const current = await tx.credential.findUnique({ where: { id }, select: detailSelect });
      if (!current) throw notFound("credential");
      const type = current.type as CredentialType;
      if (input.type !== undefined && input.type !== type) {
        const message = `body.type cannot change from ${type} to ${input.type}: create a new ${input.type} credential instead`;
        throw new ApiError(400, "validation_failed", message, { details: [{ path: "body.type", message }] });
      }
      let sealed: ReturnType<typeof sealCredentialSecret> | undefined;
      if (input.secret !== undefined) {
        const parsed = secretSchemas[type].safeParse(input.secret);
        if (!parsed.success) {
          // Never echo the value: a zod message for a secret field names the field and the rule only.
          throw validationFailed(zodIssueDetails(parsed.error, "body.secret"));
        }
        sealed = sealCredentialSecret(id, parsed.data);
      }
      const data: Prisma.CredentialUpdateInput = {};
      const fields: string[] = [];
      for (const key of ["name", "username", "domain", "description"] as const) {
        const value = input[key];
        if (value === undefined || value === current[key]) continue;
        data[key] = value as string;
        fields.push(key);
      }
      if (input.usagePolicy !== undefined && JSON.stringify(input.usagePolicy) !== JSON.stringify(current.usagePolicy)) {
        data.usagePolicy = input.usagePolicy;
        fields.push("usagePolicy");
      }
      if (fields.length === 0 && !sealed) return toCredentialView(current);
      const row = await tx.credential.update({ where: { id }, data: { ...data, ...(sealed ? { ...sealed, rotatedAt: new Date() } : {}) }, select: detailSelect });
      if (fields.length > 0) {
        const changes = Object.fromEntries(fields.map((f) => [f, { from: current[f as keyof DetailRow], to: row[f as keyof DetailRow] }]));
        await audit({ action: "credential.update", entityType: "credential", entityId: id, summary: `updated credential ${row.name} (${fields.join(", ")})`, details: { fields, changes } }, tx);
      }
      if (sealed) {
        await audit({ action: "credential.rotate", entityType: "credential", entityId: id, summary: `rotated the secret of credential ${row.name}`, details: { name: row.name, keyId: row.keyId } }, tx);
      }
      return toCredentialView(row);
    });
  } catch (error) {
    rethrowConflict(error, "credential");
  }
}

async function refuseInUse(db: Db, id: string, name: string): Promise<void> {
  const targets = await db.target.findMany({ where: { credentialId: id }, select: { name: true }, orderBy: { name: "asc" }, take: 20 });
  if (targets.length === 0) return;
  const names = targets.map((t) => t.name).join(", ");
  const message = `credential ${name} is in use by target(s) ${names}; point them at another credential first`;
  throw new ApiError(409, "in_use", message, { details: [{ path: "targets", message: `used by ${names}` }] });
}

/** Deletes a credential no target uses; one still in use is a 409 naming the targets. */
export async function deleteCredential(prisma: PrismaClient, id: string, audit: Audit): Promise<void> {
  const current = await prisma.credential.findUnique({ where: { id }, select: { id: true, name: true, type: true } });
  if (!current) throw notFound("credential");
  try {
    await prisma.$transaction(async (tx) => {
      await refuseInUse(tx, id, current.name);
      await tx.credential.delete({ where: { id } });
      await audit({ action: "credential.delete", entityType: "credential", entityId: id, summary: `deleted ${current.type} credential ${current.name}`, details: { name: current.name, type: current.type } }, tx);
    });
  } catch (error) {
    // A target created between the check and the delete trips the foreign key instead.
    if (isStillReferenced(error)) {
      await refuseInUse(prisma, id, current.name);
      throw new ApiError(409, "in_use", `credential ${current.name} is still in use; try again`);
    }
    throw error;
  }
}
