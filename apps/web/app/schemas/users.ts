// Request schemas of user accounts: admin management, self-registration and each user's own profile
// and password. Browser-safe.
import { z } from "zod";
import { ROLES } from "../lib/permissions.ts";
import { sortQuery } from "../lib/sort.ts";
import { pageQuery } from "./common.ts";

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

/** Body of POST /api/users. */
export const createUserBody = z.object({
  username,
  password: password.optional(),
  role,
  email: email.nullish(),
  displayName: displayName.nullish(),
  disabled: z.boolean().optional(),
});

/** Body of PUT and PATCH /api/users/{id}. */
export const updateUserBody = z.object({
  username: username.optional(),
  password: password.optional(),
  role: role.optional(),
  email: email.nullish(),
  displayName: displayName.nullish(),
  disabled: z.boolean().optional(),
});

/** Body of POST /api/register. */
export const registerBody = z.object({ username, password, email: email.nullish(), displayName: displayName.nullish() });
/** Body of PATCH /api/users/me. */
export const profileBody = z.object({ email: email.nullish(), displayName: displayName.nullish() });
/** Body of POST /api/users/me/password. */
export const passwordChangeBody = z.object({ currentPassword: z.string().min(1).max(1024), newPassword: password });

/** The orders a user list can be in: `?sort=username`, `?sort=-createdAt` (the default: newest first). */
export const USER_SORT_KEYS = ["username", "createdAt"] as const;

/** Query of GET /api/users (and of the Users page). */
export const userListQuery = pageQuery.extend({
  q: z.string().trim().max(200).optional(),
  role: role.optional(),
  disabled: z.enum(["true", "false"], { error: "must be true or false" }).transform((v) => v === "true").optional(),
  sort: sortQuery(USER_SORT_KEYS, { key: "createdAt", direction: "desc" }),
});

export type CreateUser = z.infer<typeof createUserBody>;
export type UpdateUser = z.infer<typeof updateUserBody>;
export type Registration = z.infer<typeof registerBody>;
export type ProfileChange = z.infer<typeof profileBody>;
export type PasswordChange = z.infer<typeof passwordChangeBody>;
export type UserListQuery = z.infer<typeof userListQuery>;
