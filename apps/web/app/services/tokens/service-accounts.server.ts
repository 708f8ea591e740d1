// Service accounts: users of kind "service" that an admin creates with a role. They have no
// password and cannot sign in; pipelines act as them through their API tokens.
import type { Db, Prisma, PrismaClient } from "@opsconductor/db";
import type { Role } from "../../lib/permissions.ts";
import type { CreateServiceAccount, ServiceAccountView } from "../../schemas/tokens.ts";
import type { Audit } from "../audit/audit.server.ts";
import { ApiError, notFound, rethrowConflict } from "../errors.server.ts";
import { newestFirst, type Page, type PageRequest } from "../pagination.server.ts";

const accountSelect = (now: Date) =>
  ({
    id: true,
    username: true,
    displayName: true,
    role: true,
    disabled: true,
    createdAt: true,
    _count: { select: { apiTokens: { where: { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } } } },
  }) satisfies Prisma.UserSelect;

type AccountRow = Prisma.UserGetPayload<{ select: ReturnType<typeof accountSelect> }>;

function toView(row: AccountRow): ServiceAccountView {
  return { id: row.id, username: row.username, displayName: row.displayName, role: row.role as Role, disabled: row.disabled, createdAt: row.createdAt.toISOString(), activeTokens: row._count.apiTokens };
}

/** Creates a service account (admin action). */
export async function createServiceAccount(prisma: PrismaClient, input: CreateServiceAccount, audit: Audit): Promise<ServiceAccountView> {
  try {
    return await prisma.$transaction(async (tx) => {
      const row = await tx.user.create({
        data: { username: input.username, role: input.role, displayName: input.displayName ?? null, kind: "service", passwordHash: null },
        select: accountSelect(new Date()),
      });
      await audit({ action: "service_account.create", entityType: "user", entityId: row.id, summary: `created ${row.role} service account ${row.username}`, details: { username: row.username, role: row.role } }, tx);
      return toView(row);
    });
  } catch (error) {
    rethrowConflict(error, "user");
  }
}

/** Lists service accounts, newest first, with how many active tokens each holds. */
export async function listServiceAccounts(db: Db, request: PageRequest): Promise<Page<ServiceAccountView>> {
  const page = newestFirst(request, "createdAt");
  const rows = await db.user.findMany({ ...page.args({ kind: "service" as const }), select: accountSelect(new Date()) });
  const result = page.page(rows);
  return { items: result.items.map(toView), nextCursor: result.nextCursor };
}

/** One service account. */
export async function getServiceAccount(db: Db, id: string): Promise<ServiceAccountView> {
  const row = await db.user.findFirst({ where: { id, kind: "service" }, select: accountSelect(new Date()) });
  if (!row) throw notFound("service account");
  return toView(row);
}

/** Deletes a service account and with it every token it holds (admin action). */
export async function deleteServiceAccount(prisma: PrismaClient, id: string, audit: Audit): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const row = await tx.user.findUnique({ where: { id }, select: { username: true, kind: true, role: true } });
    if (!row) throw notFound("service account");
    if (row.kind !== "service") throw new ApiError(409, "not_a_service_account", `${row.username} is a person's account: delete it under Users`);
    const tokens = await tx.apiToken.count({ where: { userId: id, revokedAt: null } });
    await tx.user.delete({ where: { id } });
    await audit({ action: "service_account.delete", entityType: "user", entityId: id, summary: `deleted service account ${row.username} and its ${tokens} unrevoked token(s)`, details: { username: row.username, role: row.role, tokens } }, tx);
  });
}
