import type { Db } from "./client.ts";
import { translatePrismaError } from "./errors.ts";
import type { Role } from "./generated/enums.ts";
import { hashPassword, randomPassword } from "./passwords.ts";

export interface NewUser {
  username: string;
  password?: string;
  role?: Role;
  email?: string | null;
  displayName?: string | null;
}

/** Creates a user, hashing the password with argon2id; a taken username (any case) is a conflict. */
export async function createUser(db: Db, input: NewUser) {
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  try {
    return await db.user.create({
      data: {
        username: input.username,
        role: input.role ?? "viewer",
        email: input.email ?? null,
        displayName: input.displayName ?? null,
        passwordHash,
      },
    });
  } catch (error) {
    translatePrismaError(error, "user");
  }
}

/** Finds a user by username, ignoring case. */
export function findUserByUsername(db: Db, username: string) {
  return db.user.findUnique({ where: { username } });
}

export type EnsureAdminResult =
  | { created: false }
  | { created: true; username: string; generatedPassword: string | null };

/**
 * Creates the first admin when the database has no admin yet: with `password` when given, else a
 * random password returned once so the caller can print it. Never a fixed default.
 */
export async function ensureAdminUser(db: Db, options: { username?: string; password?: string | undefined }): Promise<EnsureAdminResult> {
  const existing = await db.user.count({ where: { role: "admin" } });
  if (existing > 0) return { created: false };
  const username = options.username ?? "admin";
  const generatedPassword = options.password ? null : randomPassword();
  await createUser(db, { username, password: options.password ?? generatedPassword!, role: "admin", displayName: "Administrator" });
  return { created: true, username, generatedPassword };
}
