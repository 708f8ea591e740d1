// Accounts that sign in with a password of their own: creating one with its password hashed, and
// the first admin of a new installation.
import { createUser, type Db, type NewUser } from "@opsconductor/db";
import { hashPassword, randomPassword } from "./passwords.server.ts";

/** A user to create; `password`, when given, is stored as an argon2id hash. */
export type NewLocalUser = Omit<NewUser, "passwordHash"> & { password?: string | undefined };

/** Creates a user with a password (or none, for single sign-on only); a taken username (any case) is a conflict. */
export async function createLocalUser(db: Db, input: NewLocalUser) {
  const { password, ...user } = input;
  return createUser(db, { ...user, passwordHash: password ? await hashPassword(password) : null });
}

export type EnsureAdminResult = { created: false } | { created: true; username: string; generatedPassword: string | null };

/**
 * Creates the first admin when the database has no admin yet: with `password` when given, else a
 * random password returned once so the caller can print it. Never a fixed default.
 */
export async function ensureAdminUser(db: Db, options: { username?: string; password?: string | undefined }): Promise<EnsureAdminResult> {
  const existing = await db.user.count({ where: { role: "admin" } });
  if (existing > 0) return { created: false };
  const username = options.username ?? "admin";
  const generatedPassword = options.password ? null : randomPassword();
  await createLocalUser(db, { username, password: options.password ?? generatedPassword!, role: "admin", displayName: "Administrator" });
  return { created: true, username, generatedPassword };
}
