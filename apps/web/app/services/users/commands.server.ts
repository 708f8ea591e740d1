// User accounts: admin management, self-registration and each user's own profile and password.
// Invariant: at least one enabled admin always exists, so the instance can still be administered.
import { hashPassword, verifyPassword, type Db, type Prisma, type PrismaClient } from "@opsconductor/db";
import { z } from "zod";
import { ROLES, type Role } from "../lib/permissions.ts";
import { decodeCursor, pageQuery, toPage } from "./api.server.ts";
import type { AuditEntry } from "./audit.server.ts";
import { issueTokens, revokeAllTokens, SESSION_TX, type ClientMeta, type IssuedTokens } from "./auth.server.ts";
import { ApiError, notFound } from "./errors.server.ts";
import { attemptSucceeded, countAttempt, tooManyAttempts } from "./sign-in-throttle.server.ts";
import { env } from "../env.server.ts";

/** Writes an audit row inside the caller's transaction (the route context's `audit`). */
export type AuditFn = (entry: Omit<AuditEntry, "actor" | "ip" | "userAgent">, tx: Db) => Promise<void>;

export const PASSWORD_MIN_LENGTH = 12;

const username = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}._@-]+$/u, "may hold only letters, digits, '.', '_', '@' and '-'");
const password = z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(1024);
const email = z.email({ error: "must be an email address" }).max(320);
const displayName = z.string().trim().min(1).max(200);
const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` });

export const createUserBody = z.object({
  username,
  password: password.optional(),
  role,
  email: email.nullish(),
  displayName: displayName.nullish(),
  disabled: z.boolean().optional(),
});

export const updateUserBody = z.object({
  username: username.optional(),
  password: password.optional(),
  role: role.optional(),
  email: email.nullish(),
  displayName: displayName.nullish(),
  disabled: z.boolean().optional(),
});

export const registerBody = z.object({ username, password, email: email.nullish(), displayName: displayName.nullish() });
export const profileBody = z.object({ email: email.nullish(), displayName: displayName.nullish() });
export const passwordChangeBody = z.object({ currentPassword: z.string().min(1).max(1024), newPassword: password });

export const userListQuery = pageQuery.extend({
  q: z.string().trim().max(200).optional(),
  role: role.optional(),
  disabled: z.enum(["true", "false"], { error: "must be true or false" }).transform((v) => v === "true").optional(),
});

const userSelect = {
  id: true,
  username: true,
  email: true,
  displayName: true,
  role: true,
  disabled: true,
  lastLoginAt: true,
  createdAt: true,
  updatedAt: true,
  passwordHash: true,
  _count: { select: { identities: true } },
} satisfies Prisma.UserSelect;

type UserRow = Prisma.UserGetPayload<{ select: typeof userSelect }>;

/** A user as the API shows it: never the password hash, only whether one is set. */
export interface UserView {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  hasPassword: boolean;
  ssoLinked: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

function view(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    displayName: row.displayName,
    role: row.role as Role,
    disabled: row.disabled,
    hasPassword: row.passwordHash !== null,
    ssoLinked: row._count.identities > 0,
    lastLoginAt: row.lastLoginAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const cursorShape = z.object({ at: z.iso.datetime(), id: z.uuid() });

/** Lists users newest first, filtered by a text query, role and disabled flag. */
export async function listUsers(db: Db, query: z.infer<typeof userListQuery>) {
  const cursor = decodeCursor(query.cursor, cursorShape);
  const where: Prisma.UserWhereInput = {
    ...(query.role ? { role: query.role } : {}),
    ...(query.disabled !== undefined ? { disabled: query.disabled } : {}),
    ...(query.q
      ? {
          OR: [
            { username: { contains: query.q, mode: "insensitive" } },
            { email: { contains: query.q, mode: "insensitive" } },
            { displayName: { contains: query.q, mode: "insensitive" } },
          ],
        }
      : {}),
  };
  const rows = await db.user.findMany({
    select: userSelect,
    where: cursor ? { AND: [where, { OR: [{ createdAt: { lt: new Date(cursor.at) } }, { createdAt: new Date(cursor.at), id: { lt: cursor.id } }] }] } : where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
  });
  return toPage(rows.map(view), query.limit, (u) => ({ at: u.createdAt.toISOString(), id: u.id }));
}

/** One user, or a 404. */
export async function getUser(db: Db, id: string): Promise<UserView> {
  const row = await db.user.findUnique({ where: { id }, select: userSelect });
  if (!row) throw notFound("user");
  return view(row);
}

// A unique violation names its column; the API names the body field instead.
async function saving<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string })?.code === "P2002") {
      const text = JSON.stringify((error as { meta?: unknown }).meta ?? {});
      const field = text.includes("email") ? "email" : "username";
      const message = `a user with this ${field} already exists`;
      throw new ApiError(409, "conflict", message, { details: [{ path: `body.${field}`, message }] });
    }
    throw error;
  }
}

// Serialises changes that could remove the last enabled admin, so two concurrent demotions cannot
// both see "one other admin left".
async function lockAdmins(tx: Db): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('opsconductor:enabled-admins'))`;
}

/**
 * Whether `user` is the last enabled admin. Takes the lock that serialises every change which could
 * remove an admin (held until the transaction ends), so call it in the transaction of that change.
 */
export async function isLastEnabledAdmin(tx: Db, user: { id: string; role: string; disabled: boolean }): Promise<boolean> {
  if (user.role !== "admin" || user.disabled) return false;
  await lockAdmins(tx);
  return (await tx.user.count({ where: { role: "admin", disabled: false, id: { not: user.id } } })) === 0;
}

async function assertNotLastAdmin(tx: Db, user: { id: string; role: string; disabled: boolean }, what: string): Promise<void> {
  if (await isLastEnabledAdmin(tx, user)) {
    throw new ApiError(409, "last_admin", `${what} the last enabled admin is not allowed: make another user an admin first`);
  }
}

/** Creates a user (admin action); the password, when given, is stored as an argon2id hash. */
export async function createUser(prisma: PrismaClient, input: z.infer<typeof createUserBody>, audit: AuditFn): Promise<UserView> {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return saving(() =>
    prisma.$transaction(async (tx) => {
      const row = await tx.user.create({
        data: {
          username: input.username,
          role: input.role,
          email: input.email ?? null,
          displayName: input.displayName ?? null,
          disabled: input.disabled ?? false,
          passwordHash,
        },
        select: userSelect,
      });
      await audit(
        {
          action: "user.create",
          entityType: "user",
          entityId: row.id,
          summary: `created ${row.role} ${row.username}`,
          details: { username: row.username, role: row.role, email: row.email, disabled: row.disabled, localSignIn: passwordHash !== null },
        },
        tx,
      );
      return view(row);
    }),
  );
}

/** Updates a user (admin action); disabling, a role change or a new password revokes their tokens. */
export async function updateUser(prisma: PrismaClient, id: string, input: z.infer<typeof updateUserBody>, audit: AuditFn): Promise<UserView> {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  return saving(() =>
    prisma.$transaction(async (tx) => {
      const current = await tx.user.findUnique({ where: { id }, select: userSelect });
      if (!current) throw notFound("user");
      const demoted = input.role !== undefined && input.role !== current.role && current.role === "admin";
      const disabling = input.disabled === true && !current.disabled;
      if (demoted || disabling) await assertNotLastAdmin(tx, current, demoted ? "demoting" : "disabling");
      const data: Prisma.UserUpdateInput = {};
      const changes: Record<string, unknown> = {};
      const fields: string[] = [];
      for (const key of ["username", "role", "email", "displayName", "disabled"] as const) {
        const value = input[key];
        if (value === undefined || value === current[key]) continue;
        Object.assign(data, { [key]: value });
        changes[key] = { from: current[key], to: value };
        fields.push(key);
      }
      if (passwordHash) {
        data.passwordHash = passwordHash;
        fields.push("password");
      }
      if (fields.length === 0) return view(current);
      const row = await tx.user.update({ where: { id }, data, select: userSelect });
      const revoke = fields.includes("role") || disabling || passwordHash !== undefined;
      if (revoke) await revokeAllTokens(tx, id);
      await audit(
        {
          action: "user.update",
          entityType: "user",
          entityId: id,
          summary: `updated ${row.username} (${fields.join(", ")})${revoke ? "; their tokens were revoked" : ""}`,
          details: { fields, changes, signedOut: revoke },
        },
        tx,
      );
      return view(row);
    }),
  );
}

/** Deletes a user; their audit entries keep the name. The last enabled admin cannot be deleted. */
export async function deleteUser(prisma: PrismaClient, id: string, audit: AuditFn): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const current = await tx.user.findUnique({ where: { id }, select: userSelect });
    if (!current) throw notFound("user");
    await assertNotLastAdmin(tx, current, "deleting");
    await tx.user.delete({ where: { id } });
    await audit({ action: "user.delete", entityType: "user", entityId: id, summary: `deleted ${current.role} ${current.username}`, details: { username: current.username, role: current.role } }, tx);
  });
}

/** Self-registration: creates an enabled viewer, when the deployment allows it. */
export async function registerUser(prisma: PrismaClient, input: z.infer<typeof registerBody>, audit: (entry: Omit<AuditEntry, "ip" | "userAgent">, tx: Db) => Promise<void>): Promise<UserView> {
  if (!env().OPSCONDUCTOR_SELF_REGISTRATION) {
    throw new ApiError(403, "registration_disabled", "self-registration is turned off here; ask an administrator for an account");
  }
  const passwordHash = await hashPassword(input.password);
  return saving(() =>
    prisma.$transaction(async (tx) => {
      const row = await tx.user.create({
        data: { username: input.username, role: "viewer", email: input.email ?? null, displayName: input.displayName ?? null, passwordHash },
        select: userSelect,
      });
      await audit(
        {
          actor: { id: row.id, name: row.username },
          action: "user.register",
          entityType: "user",
          entityId: row.id,
          summary: `${row.username} registered as a viewer`,
          details: { username: row.username, email: row.email },
        },
        tx,
      );
      return view(row);
    }),
  );
}

/** Changes the caller's own display name and email. */
export async function updateProfile(prisma: PrismaClient, id: string, input: z.infer<typeof profileBody>, audit: AuditFn): Promise<UserView> {
  return updateUser(prisma, id, { email: input.email, displayName: input.displayName }, audit);
}

/**
 * Changes the caller's own password after checking the current one (throttled like sign-in), then
 * revokes every token of the user and answers a fresh pair for the calling session.
 */
export async function changeOwnPassword(prisma: PrismaClient, id: string, input: z.infer<typeof passwordChangeBody>, meta: ClientMeta, audit: AuditFn): Promise<IssuedTokens> {
  const keys = { account: `password:${id}` };
  const attempt = await countAttempt(prisma, keys);
  if (!attempt.allowed) throw tooManyAttempts(attempt.waitSec, "wrong current passwords");
  const user = await prisma.user.findUnique({ where: { id }, select: { id: true, username: true, role: true, passwordHash: true } });
  if (!user) throw notFound("user");
  const invalid = (message: string) => new ApiError(400, "validation_failed", message, { details: [{ path: "body.currentPassword", message }] });
  if (!user.passwordHash) throw invalid("body.currentPassword cannot be checked: this account signs in through single sign-on and has no password");
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) throw invalid("body.currentPassword is not your current password");
  await attemptSucceeded(prisma, keys);
  if (input.newPassword === input.currentPassword) {
    const message = "body.newPassword must differ from the current password";
    throw new ApiError(400, "validation_failed", message, { details: [{ path: "body.newPassword", message }] });
  }
  const passwordHash = await hashPassword(input.newPassword);
  return prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id }, data: { passwordHash } });
    await revokeAllTokens(tx, id);
    const fresh = await tx.user.findUniqueOrThrow({ where: { id }, select: { tokenVersion: true } });
    await audit({ action: "user.password_change", entityType: "user", entityId: id, summary: `${user.username} changed their password; other sessions were signed out`, details: {} }, tx);
    return issueTokens(tx, { id, role: user.role as Role, tokenVersion: fresh.tokenVersion }, meta);
  }, SESSION_TX);
}
