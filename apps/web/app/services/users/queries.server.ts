// Reading user accounts, and the one view of a user row (never the password hash).
import type { Db, Prisma } from "@opsconductor/db";
import type { Role } from "../../lib/permissions.ts";
import type { UserListQuery } from "../../schemas/users.ts";
import { notFound } from "../errors.server.ts";
import { sortedPage } from "../pagination.server.ts";
import { containsAny } from "../text-search.server.ts";

export const userSelect = {
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

/** A user row as the API shows it. */
export function toUserView(row: UserRow): UserView {
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

const SORT_KINDS = { username: "text", createdAt: "date" } as const;

/** Lists users in `query.sort` order (newest first unless asked otherwise), filtered by a text query, role and disabled flag. */
export async function listUsers(db: Db, query: UserListQuery) {
  const keyset = sortedPage(query, { column: query.sort.key, direction: query.sort.direction, kind: SORT_KINDS[query.sort.key] });
  const where: Prisma.UserWhereInput = {
    ...(query.role ? { role: query.role } : {}),
    ...(query.disabled !== undefined ? { disabled: query.disabled } : {}),
    ...containsAny(query.q, ["username", "email", "displayName"]),
  };
  const rows = await db.user.findMany({
    select: userSelect,
    ...keyset.args(where),
  });
  return keyset.page(rows.map(toUserView));
}

/** How many enabled admins there are besides `id`: none means that user is the last one (when an enabled admin). */
export function otherEnabledAdmins(db: Db, id: string): Promise<number> {
  return db.user.count({ where: { role: "admin", disabled: false, id: { not: id } } });
}

/** One user, or a 404. */
export async function getUser(db: Db, id: string): Promise<UserView> {
  const row = await db.user.findUnique({ where: { id }, select: userSelect });
  if (!row) throw notFound("user");
  return toUserView(row);
}
