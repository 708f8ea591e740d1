// API tokens: `oc_` and 256 random bits, shown once and kept only as their SHA-256 (enough for a
// value that cannot be guessed; no salt or slow hash needed). A request presenting one acts as the
// token's owner with the lower of the token's and the owner's current role.
import { createHash, randomBytes } from "node:crypto";
import type { Db, Prisma, PrismaClient } from "@opsconductor/db";
import { can, type Role } from "../../lib/permissions.ts";
import { TOKEN_PREFIX, type CreateToken, type CreatedToken, type TokenListQuery, type TokenView } from "../../schemas/tokens.ts";
import type { Audit } from "../audit/audit.server.ts";
import type { Principal } from "../auth/tokens.server.ts";
import { ApiError, invalidField, notFound } from "../errors.server.ts";
import { newestFirst, type Page } from "../pagination.server.ts";

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
/** How often a token's last use is written at most: a busy pipeline costs one UPDATE a minute, not one per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** The lower of two roles. */
export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

/** True when `value` looks like an API token (as opposed to a session's access JWT). */
export function isApiToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX);
}

const hashToken = (value: string) => createHash("sha256").update(value).digest("hex");

const tokenSelect = {
  id: true,
  name: true,
  role: true,
  createdAt: true,
  createdByName: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
  user: { select: { id: true, username: true, kind: true } },
} satisfies Prisma.ApiTokenSelect;

type TokenRow = Prisma.ApiTokenGetPayload<{ select: typeof tokenSelect }>;

function toTokenView(row: TokenRow, now = Date.now()): TokenView {
  const status = row.revokedAt ? "revoked" : row.expiresAt && row.expiresAt.getTime() <= now ? "expired" : "active";
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    owner: { id: row.user.id, username: row.user.username, kind: row.user.kind },
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdByName,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    status,
  };
}

/**
 * The principal of a request presenting an API token, or a 401 saying why it does not hold
 * (unknown, revoked, expired, owner disabled). Writes the last use at most once a minute.
 */
export async function apiTokenPrincipal(db: Db, value: string, now = Date.now()): Promise<Principal> {
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(value) },
    select: { id: true, role: true, expiresAt: true, revokedAt: true, lastUsedAt: true, user: { select: { id: true, username: true, role: true, disabled: true, tokenVersion: true } } },
  });
  if (!row) throw new ApiError(401, "invalid_token", "the API token is not known");
  if (row.revokedAt) throw new ApiError(401, "invalid_token", "the API token was revoked");
  if (row.expiresAt && row.expiresAt.getTime() <= now) throw new ApiError(401, "invalid_token", "the API token has expired");
  if (row.user.disabled) throw new ApiError(401, "invalid_token", "the API token's owner is disabled");
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // Conditional, so concurrent requests of one token within the minute write it once.
    await db.apiToken.updateMany({ where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - LAST_USED_RESOLUTION_MS) } }] }, data: { lastUsedAt: new Date(now) } });
  }
  // Long-lived answers (run event streams) re-check these claims against the user row like a session's.
  const exp = Math.floor((row.expiresAt?.getTime() ?? now + 10 * 365 * 86_400_000) / 1000);
  return {
    id: row.user.id,
    username: row.user.username,
    role: lowerRole(row.role as Role, row.user.role as Role),
    via: "bearer",
    apiTokenId: row.id,
    token: { sub: row.user.id, tv: row.user.tokenVersion, exp },
  };
}

function expiryOf(input: CreateToken, now: number): Date | null {
  if (input.expiresInDays !== undefined) return new Date(now + input.expiresInDays * 86_400_000);
  if (input.expiresAt === undefined) return null;
  const at = new Date(input.expiresAt);
  if (at.getTime() <= now) throw invalidField("body.expiresAt", "must be in the future");
  if (at.getTime() > now + 3650 * 86_400_000) throw invalidField("body.expiresAt", "must be within ten years");
  return at;
}

/**
 * Creates a token for the caller, or (admins) for a service account; its role defaults to the
 * owner's and may not be higher. Answers the token's value this once.
 */
export async function createToken(prisma: PrismaClient, input: CreateToken, principal: Principal, audit: Audit): Promise<CreatedToken> {
  const now = Date.now();
  const expiresAt = expiryOf(input, now);
  return prisma.$transaction(async (tx) => {
    let ownerId = principal.id;
    if (input.userId !== undefined && input.userId !== principal.id) {
      if (!can(principal.role, "tokens:admin")) throw new ApiError(403, "forbidden", `the ${principal.role} role may create tokens only for itself (needs tokens:admin)`);
      ownerId = input.userId;
    }
    const owner = await tx.user.findUnique({ where: { id: ownerId }, select: { id: true, username: true, role: true, kind: true, disabled: true } });
    if (!owner) throw invalidField("body.userId", "names no user");
    if (owner.id !== principal.id && owner.kind !== "service") throw invalidField("body.userId", "names a person: admins create tokens only for service accounts; people create their own");
    if (owner.disabled) throw invalidField("body.userId", `names the disabled account ${owner.username}`);
    const ownerRole = owner.role as Role;
    const role = input.role ?? ownerRole;
    if (RANK[role] > RANK[ownerRole]) throw invalidField("body.role", `may be at most ${ownerRole}, the role of ${owner.username}`);
    const value = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
    const row = await tx.apiToken.create({
      data: { name: input.name, tokenHash: hashToken(value), userId: owner.id, role, expiresAt, createdById: principal.id, createdByName: principal.username },
      select: tokenSelect,
    });
    await audit(
      {
        action: "api_token.create",
        entityType: "api_token",
        entityId: row.id,
        summary: `${principal.username} created API token "${row.name}" (${role}) for ${owner.username}`,
        details: { name: row.name, owner: owner.username, ownerId: owner.id, role, expiresAt: expiresAt?.toISOString() ?? null },
      },
      tx,
    );
    return { ...toTokenView(row, now), token: value };
  });
}

/** Lists tokens newest first: the caller's own, or (admins) everyone's or one user's. */
export async function listTokens(db: Db, query: TokenListQuery, principal: Principal): Promise<Page<TokenView>> {
  const wantsOthers = query.scope === "all" || (query.userId !== undefined && query.userId !== principal.id);
  if (wantsOthers && !can(principal.role, "tokens:admin")) {
    throw new ApiError(403, "forbidden", `the ${principal.role} role may list only its own tokens (needs tokens:admin)`);
  }
  const now = new Date();
  const where: Prisma.ApiTokenWhereInput = {
    ...(query.userId !== undefined ? { userId: query.userId } : query.scope === "all" ? {} : { userId: principal.id }),
    ...(query.active ? { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } : {}),
  };
  const page = newestFirst(query, "createdAt");
  const rows = await db.apiToken.findMany({ ...page.args(where), select: tokenSelect });
  const result = page.page(rows);
  return { items: result.items.map((row) => toTokenView(row, now.getTime())), nextCursor: result.nextCursor };
}

/** Revokes a token: the owner's own, or any (admins). Revoking a revoked token changes nothing. */
export async function revokeToken(prisma: PrismaClient, id: string, principal: Principal, audit: Audit): Promise<TokenView> {
  return prisma.$transaction(async (tx) => {
    const row = await tx.apiToken.findUnique({ where: { id }, select: tokenSelect });
    // Someone else's token is "not found" to a non-admin: its existence is not theirs to learn.
    if (!row || (row.user.id !== principal.id && !can(principal.role, "tokens:admin"))) throw notFound("API token");
    if (row.revokedAt) return toTokenView(row);
    const revoked = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() }, select: tokenSelect });
    await audit(
      {
        action: "api_token.revoke",
        entityType: "api_token",
        entityId: id,
        summary: `${principal.username} revoked API token "${row.name}" of ${row.user.username}`,
        details: { name: row.name, owner: row.user.username, ownerId: row.user.id },
      },
      tx,
    );
    return toTokenView(revoked);
  });
}

/** One token's view, to its owner or an admin. */
export async function getToken(db: Db, id: string, principal: Principal): Promise<TokenView> {
  const row = await db.apiToken.findUnique({ where: { id }, select: tokenSelect });
  if (!row || (row.user.id !== principal.id && !can(principal.role, "tokens:admin"))) throw notFound("API token");
  return toTokenView(row);
}
