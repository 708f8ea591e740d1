import type { Db } from "../database/client.ts";
import { translatePrismaError } from "../database/errors.ts";
import type { Role } from "../generated/enums.ts";

export interface NewUser {
  username: string;
  /** The password's hash (the web app's passwords module makes it); null for an account without local sign-in. */
  passwordHash?: string | null;
  role?: Role;
  email?: string | null;
  displayName?: string | null;
}

/** Creates a user; a taken username (any case) is a conflict. */
export async function createUser(db: Db, input: NewUser) {
  try {
    return await db.user.create({
      data: {
        username: input.username,
        role: input.role ?? "viewer",
        email: input.email ?? null,
        displayName: input.displayName ?? null,
        passwordHash: input.passwordHash ?? null,
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
