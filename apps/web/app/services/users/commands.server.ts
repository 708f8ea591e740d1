// Changing user accounts: admin management, self-registration and each user's own profile and
// password. Invariant: at least one enabled admin always exists, so the instance can still be administered.
import type { Db, Prisma, PrismaClient } from "@opsconductor/db";
import { env } from "../../env.server.ts";
import type { Role } from "../../lib/permissions.ts";
import type { CreateUser, PasswordChange, ProfileChange, Registration, UpdateUser } from "../../schemas/users.ts";
import type { Audit } from "../audit/audit.server.ts";
import { hashPassword, verifyPassword } from "../auth/passwords.server.ts";
import { attemptSucceeded, countAttempt, tooManyAttempts } from "../auth/sign-in-throttle.server.ts";
import { issueTokens, revokeAllTokens, SESSION_TX, type ClientMeta, type IssuedTokens } from "../auth/tokens.server.ts";
import { ApiError, notFound, rethrowConflict } from "../errors.server.ts";
import { otherEnabledAdmins, toUserView, userSelect, type UserView } from "./queries.server.ts";

// A taken username or email is a 409 naming the body field.
async function saving<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    rethrowConflict(error, "user");
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
  return (await otherEnabledAdmins(tx, user.id)) === 0;
}

async function assertNotLastAdmin(tx: Db, user: { id: string; role: string; disabled: boolean }, what: string): Promise<void> {
  if (await isLastEnabledAdmin(tx, user)) {
    throw new ApiError(409, "last_admin", `${what} the last enabled admin is not allowed: make another user an admin first`);
  }
}

/** Creates a user (admin action); the password, when given, is stored as an argon2id hash. */
export async function createUser(prisma: PrismaClient, input: CreateUser, audit: Audit): Promise<UserView> {
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
      return toUserView(row);
    }),
  );
}

/** Updates a user (admin action); disabling, a role change or a new password revokes their tokens. */
export async function updateUser(prisma: PrismaClient, id: string, input: UpdateUser, audit: Audit): Promise<UserView> {
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
      if (fields.length === 0) return toUserView(current);
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
      return toUserView(row);
    }),
  );
}

/** Deletes a user; their audit entries keep the name. The last enabled admin cannot be deleted. */
export async function deleteUser(prisma: PrismaClient, id: string, audit: Audit): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const current = await tx.user.findUnique({ where: { id }, select: userSelect });
    if (!current) throw notFound("user");
    await assertNotLastAdmin(tx, current, "deleting");
    await tx.user.delete({ where: { id } });
    await audit({ action: "user.delete", entityType: "user", entityId: id, summary: `deleted ${current.role} ${current.username}`, details: { username: current.username, role: current.role } }, tx);
  });
}

/** Self-registration: creates an enabled viewer, when the deployment allows it. */
export async function registerUser(prisma: PrismaClient, input: Registration, audit: Audit): Promise<UserView> {
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
      return toUserView(row);
    }),
  );
}

/** Changes the caller's own display name and email. */
export async function updateProfile(prisma: PrismaClient, id: string, input: ProfileChange, audit: Audit): Promise<UserView> {
  return updateUser(prisma, id, { email: input.email, displayName: input.displayName }, audit);
}

/**
 * Changes the caller's own password after checking the current one (throttled like sign-in), then
 * revokes every token of the user and answers a fresh pair for the calling session.
 */
export async function changeOwnPassword(prisma: PrismaClient, id: string, input: PasswordChange, meta: ClientMeta, audit: Audit): Promise<IssuedTokens> {
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
