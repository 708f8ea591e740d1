// Stored credentials. The secret is write-only: it is sealed on the way in (keyring.server.ts) and no
// read path, audit entry or error message ever carries it. Operators see names and types only.
import { randomUUID } from "node:crypto";
import { credentialPolicySchema, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import { z } from "zod";
import { decodeCursor, pageQuery, toPage } from "./api.server.ts";
import { ApiError, notFound, type ErrorDetail } from "./errors.server.ts";
import { sealCredentialSecret, type CredentialSecret } from "./keyring.server.ts";
import type { AuditFn } from "./users.server.ts";

export const CREDENTIAL_TYPES = ["winrm", "ssh", "api_key"] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];
const credentialType = z.enum(CREDENTIAL_TYPES, { error: `must be one of ${CREDENTIAL_TYPES.join(", ")}` });

const secretText = (max: number) => z.string().min(1, "must not be empty").max(max);
const passwordSecret = z.strictObject({ password: secretText(1024) });
const sshSecret = z
  .strictObject({ password: secretText(1024).optional(), privateKey: secretText(16_384).optional(), passphrase: secretText(1024).optional() })
  .superRefine((value, ctx) => {
    if ((value.password === undefined) === (value.privateKey === undefined)) {
      ctx.addIssue({ code: "custom", path: ["password"], message: "give either password or privateKey (with an optional passphrase)" });
    } else if (value.passphrase !== undefined && value.privateKey === undefined) {
      ctx.addIssue({ code: "custom", path: ["passphrase"], message: "only goes with privateKey" });
    }
  })
  .transform((value) => value as CredentialSecret);
const apiKeySecret = z.strictObject({ apiKey: secretText(8192) });

/** The secret's shape for each credential type. */
export const secretSchemas: Record<CredentialType, z.ZodType<CredentialSecret>> = { winrm: passwordSecret, ssh: sshSecret, api_key: apiKeySecret };

const name = z.string().trim().min(1).max(100);
const metadata = {
  username: z.string().trim().max(256).nullish(),
  domain: z.string().trim().max(256).nullish(),
  description: z.string().trim().max(2000).nullish(),
};
/** Where the secret may be sent (see prisma/src/host-policy.ts); empty: only admins bind it to targets. */
const usagePolicy = credentialPolicySchema;

export const createCredentialBody = z.discriminatedUnion("type", [
  z.object({ name, type: z.literal("winrm"), ...metadata, usagePolicy: usagePolicy.optional(), secret: passwordSecret }),
  z.object({ name, type: z.literal("ssh"), ...metadata, usagePolicy: usagePolicy.optional(), secret: sshSecret }),
  z.object({ name, type: z.literal("api_key"), ...metadata, usagePolicy: usagePolicy.optional(), secret: apiKeySecret }),
]);

export const updateCredentialBody = z.object({
  name: name.optional(),
  /** Only accepted when it equals the current type: a credential's type cannot change. */
  type: credentialType.optional(),
  ...metadata,
  /** Present: replaces the whole usage policy. */
  usagePolicy: usagePolicy.optional(),
  /** Present: rotate the secret (validated against the credential's type). */
  secret: z.record(z.string(), z.unknown()).optional(),
});

export const credentialListQuery = pageQuery.extend({ type: credentialType.optional(), q: z.string().trim().max(200).optional() });

const detailSelect = {
  id: true,
  name: true,
  type: true,
  username: true,
  domain: true,
  description: true,
  usagePolicy: true,
  keyId: true,
  createdAt: true,
  updatedAt: true,
  rotatedAt: true,
  _count: { select: { targets: true } },
} satisfies Prisma.CredentialSelect;
type DetailRow = Prisma.CredentialGetPayload<{ select: typeof detailSelect }>;

/** What an admin sees of a credential: metadata, never the secret. */
export interface CredentialView {
  id: string;
  name: string;
  type: CredentialType;
  username: string | null;
  domain: string | null;
  description: string | null;
  /** Hosts the credential may be used against: names, `*.` wildcards, IP addresses, CIDR ranges. */
  usagePolicy: string[];
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
  rotatedAt: Date | null;
  usedByTargets: number;
}

/** What an operator sees: enough to pick one for a target. */
export interface CredentialReference {
  id: string;
  name: string;
  type: CredentialType;
}

function view(row: DetailRow): CredentialView {
  const { _count, ...rest } = row;
  return { ...rest, type: row.type as CredentialType, usedByTargets: _count.targets };
}

const cursorShape = z.object({ at: z.iso.datetime(), id: z.uuid() });

/**
 * Lists credentials newest first; `detail` false gives references only (id, name, type), and then
 * `q` searches names only: matching the hidden fields would reveal them a substring at a time.
 */
export async function listCredentials(db: Db, query: z.infer<typeof credentialListQuery>, detail: boolean) {
  const cursor = decodeCursor(query.cursor, cursorShape);
  const searched: Prisma.CredentialWhereInput[] = query.q
    ? [
        { name: { contains: query.q, mode: "insensitive" } },
        ...(detail ? [{ username: { contains: query.q, mode: "insensitive" as const } }, { description: { contains: query.q, mode: "insensitive" as const } }] : []),
      ]
    : [];
  const where: Prisma.CredentialWhereInput = {
    ...(query.type ? { type: query.type } : {}),
    ...(searched.length > 0 ? { OR: searched } : {}),
  };
  const rows = await db.credential.findMany({
    select: detailSelect,
    where: cursor ? { AND: [where, { OR: [{ createdAt: { lt: new Date(cursor.at) } }, { createdAt: new Date(cursor.at), id: { lt: cursor.id } }] }] } : where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
  });
  const page = toPage(rows, query.limit, (c) => ({ at: c.createdAt.toISOString(), id: c.id }));
  return {
    items: page.items.map((row): CredentialView | CredentialReference => (detail ? view(row) : { id: row.id, name: row.name, type: row.type as CredentialType })),
    nextCursor: page.nextCursor,
  };
}

/** One credential's metadata, or a 404. */
export async function getCredential(db: Db, id: string): Promise<CredentialView> {
  const row = await db.credential.findUnique({ where: { id }, select: detailSelect });
  if (!row) throw notFound("credential");
  return view(row);
}

function nameTaken(error: unknown): never {
  if ((error as { code?: string })?.code === "P2002") {
    const message = "a credential with this name already exists";
    throw new ApiError(409, "conflict", message, { details: [{ path: "body.name", message }] });
  }
  throw error;
}

// Never echo the value: a zod message for a secret field names the field and the rule only.
function secretIssues(error: z.ZodError): ErrorDetail[] {
  return error.issues.map((issue) => {
    const path = ["body", "secret", ...issue.path.map(String)].join(".");
    return { path, message: `${path} ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}` };
  });
}

/** Stores a new credential with its secret sealed under the primary master key, bound to the row id. */
export async function createCredential(prisma: PrismaClient, input: z.infer<typeof createCredentialBody>, createdById: string, audit: AuditFn): Promise<CredentialView> {
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
      return view(row);
    });
  } catch (error) {
    nameTaken(error);
  }
}

/** Updates a credential's metadata and, when `secret` is given, rotates the secret. */
export async function updateCredential(prisma: PrismaClient, id: string, input: z.infer<typeof updateCredentialBody>, audit: AuditFn): Promise<CredentialView> {
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
          const details = secretIssues(parsed.error);
          throw new ApiError(400, "validation_failed", details.map((d) => d.message).join("; "), { details });
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
      if (fields.length === 0 && !sealed) return view(current);
      const row = await tx.credential.update({ where: { id }, data: { ...data, ...(sealed ? { ...sealed, rotatedAt: new Date() } : {}) }, select: detailSelect });
      if (fields.length > 0) {
        const changes = Object.fromEntries(fields.map((f) => [f, { from: current[f as keyof DetailRow], to: row[f as keyof DetailRow] }]));
        await audit({ action: "credential.update", entityType: "credential", entityId: id, summary: `updated credential ${row.name} (${fields.join(", ")})`, details: { fields, changes } }, tx);
      }
      if (sealed) {
        await audit({ action: "credential.rotate", entityType: "credential", entityId: id, summary: `rotated the secret of credential ${row.name}`, details: { name: row.name, keyId: row.keyId } }, tx);
      }
      return view(row);
    });
  } catch (error) {
    nameTaken(error);
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
export async function deleteCredential(prisma: PrismaClient, id: string, audit: AuditFn): Promise<void> {
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
    if ((error as { code?: string })?.code === "P2003") {
      await refuseInUse(prisma, id, current.name);
      throw new ApiError(409, "in_use", `credential ${current.name} is still in use; try again`);
    }
    throw error;
  }
}
