// Sign-in sessions: short-lived access JWTs (HS256) and single-use refresh tokens kept hashed in the
// database. Reusing a spent refresh token revokes its whole family; revoke-all bumps the user's
// token version, which every access token carries.
import { createHash, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Db, PrismaClient } from "@opsconductor/db";
import { hmac } from "@oslojs/crypto/hmac";
import { SHA256 } from "@oslojs/crypto/sha2";
import { createJWTSignatureMessage, encodeJWT, parseJWT } from "@oslojs/jwt";
import { env } from "../../env.server.ts";
import type { Role } from "../../lib/permissions.ts";

const ISSUER = "opsconductor";

/** The authenticated caller of a request. */
export interface Principal {
  id: string;
  username: string;
  role: Role;
  /** How the request proved it: cookie-authenticated mutations must also pass the CSRF check. */
  via: "bearer" | "cookie";
  /** Set when the request presented an API token (services/tokens) rather than a session's access token. */
  apiTokenId?: string;
  /** The access token's claims: long-lived responses (live run streams) re-check them with sessionEnd. */
  token?: AccessClaims;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshExpiresIn: number;
}

export interface ClientMeta {
  ip: string | null;
  userAgent: string | null;
}

let signingKey: Uint8Array | undefined;
// Derived from the primary master key unless configured, so a deployment has one secret fewer.
function key(): Uint8Array {
  if (signingKey) return signingKey;
  const config = env();
  if (config.OPSCONDUCTOR_JWT_SECRET) {
    signingKey = new TextEncoder().encode(config.OPSCONDUCTOR_JWT_SECRET);
  } else {
    const master = Buffer.from(config.OPSCONDUCTOR_MASTER_KEY.keys[config.OPSCONDUCTOR_MASTER_KEY.primary]!, "base64");
    signingKey = new Uint8Array(hkdfSync("sha256", master, Buffer.alloc(0), "opsconductor access-token signing v1", 32));
  }
  return signingKey;
}

const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

function signAccessToken(user: { id: string; role: Role; tokenVersion: number }): string {
  const now = Math.floor(Date.now() / 1000);
  const header = JSON.stringify({ alg: "HS256", typ: "JWT" });
  const payload = JSON.stringify({ iss: ISSUER, sub: user.id, role: user.role, tv: user.tokenVersion, iat: now, exp: now + env().ACCESS_TOKEN_TTL_SEC, jti: randomUUID() });
  return encodeJWT(header, payload, hmac(SHA256, key(), createJWTSignatureMessage(header, payload)));
}

export interface AccessClaims {
  sub: string;
  tv: number;
  /** Expiry, in seconds since the epoch. */
  exp: number;
}

/** Returns the claims of a valid, unexpired access token signed by us, else null. */
export function verifyAccessToken(token: string): AccessClaims | null {
  let parts;
  try {
    parts = parseJWT(token);
  } catch {
    return null;
  }
  const [header, payload, signature, message] = parts as [Record<string, unknown>, Record<string, unknown>, Uint8Array, Uint8Array];
  if (header.alg !== "HS256") return null;
  const expected = hmac(SHA256, key(), message);
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
  if (payload.iss !== ISSUER || typeof payload.sub !== "string" || typeof payload.tv !== "number" || typeof payload.exp !== "number") return null;
  if (payload.exp * 1000 <= Date.now()) return null;
  return { sub: payload.sub, tv: payload.tv, exp: payload.exp };
}

async function createRefreshToken(db: Db, userId: string, family: string, meta: ClientMeta) {
  const token = `ocr_${randomBytes(32).toString("base64url")}`;
  const row = await db.refreshToken.create({
    data: {
      tokenHash: sha256Hex(token),
      family,
      userId,
      expiresAt: new Date(Date.now() + env().REFRESH_TOKEN_TTL_SEC * 1000),
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
    },
  });
  return { token, row };
}

/** Starts a new token family for a signed-in user. */
export async function issueTokens(db: Db, user: { id: string; role: Role; tokenVersion: number }, meta: ClientMeta): Promise<IssuedTokens> {
  const { token } = await createRefreshToken(db, user.id, randomUUID(), meta);
  return { accessToken: signAccessToken(user), refreshToken: token, expiresIn: env().ACCESS_TOKEN_TTL_SEC, refreshExpiresIn: env().REFRESH_TOKEN_TTL_SEC };
}

export type RefreshOutcome =
  | { ok: true; tokens: IssuedTokens; user: { id: string; username: string; role: Role } }
  | { ok: false; reason: "unknown" | "expired" | "reused" | "revoked" | "disabled"; userId?: string; username?: string };

// Everything that ends sessions (revoke-all, a password or role change, disabling, sign-out, reuse)
// updates the user row, and a refresh locks that row before it looks at its token. So a refresh
// either commits before them, and the token it issued is revoked with the rest, or it waits and
// then finds its token revoked and the token version moved on.
async function lockUser(tx: Db, userId: string) {
  const [user] = await tx.$queryRaw<{ id: string; username: string; role: Role; disabled: boolean; token_version: number }[]>`
    SELECT id, username, role::text AS role, disabled, token_version FROM users WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  return user;
}

/**
 * Options for the short transactions that take the user row's lock: a burst of refreshes queues for
 * a pooled connection longer than Prisma's default 2 s rather than failing.
 */
export const SESSION_TX = Object.freeze({ maxWait: 15_000, timeout: 15_000 });

const bumpTokenVersion = (db: Db, userId: string) => db.user.update({ where: { id: userId }, data: { tokenVersion: { increment: 1 } } });

/** Exchanges a refresh token for a new pair, once; presenting a spent token revokes its family. */
export async function rotateRefreshToken(prisma: PrismaClient, token: string, meta: ClientMeta): Promise<RefreshOutcome> {
  const tokenHash = sha256Hex(token);
  return prisma.$transaction(async (tx) => {
    const owner = await tx.refreshToken.findUnique({ where: { tokenHash }, select: { userId: true } });
    const user = owner && (await lockUser(tx, owner.userId));
    if (!user) return { ok: false, reason: "unknown" } as const;
    // Read again under the lock: a revocation that committed while we waited is visible now.
    const row = await tx.refreshToken.findUnique({ where: { tokenHash } });
    if (!row) return { ok: false, reason: "unknown" } as const;
    const who = { userId: user.id, username: user.username };
    if (row.revokedAt) return { ok: false, reason: "revoked", ...who } as const;
    if (row.usedAt) {
      // A spent token again: someone holds a copy. End the family, and its access tokens with the version.
      await tx.refreshToken.updateMany({ where: { family: row.family, revokedAt: null }, data: { revokedAt: new Date() } });
      await bumpTokenVersion(tx, user.id);
      return { ok: false, reason: "reused", ...who } as const;
    }
    await tx.refreshToken.update({ where: { id: row.id }, data: { usedAt: new Date() } });
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false, reason: "expired", ...who } as const;
    if (user.disabled) return { ok: false, reason: "disabled", ...who } as const;
    const next = await createRefreshToken(tx, user.id, row.family, meta);
    await tx.refreshToken.update({ where: { id: row.id }, data: { replacedById: next.row.id } });
    const principal = { id: user.id, username: user.username, role: user.role };
    return {
      ok: true,
      user: principal,
      tokens: { accessToken: signAccessToken({ ...principal, tokenVersion: user.token_version }), refreshToken: next.token, expiresIn: env().ACCESS_TOKEN_TTL_SEC, refreshExpiresIn: env().REFRESH_TOKEN_TTL_SEC },
    } as const;
  }, SESSION_TX);
}

/**
 * Signs out one session: revokes the refresh token's family and bumps the token version, so the
 * access tokens issued to it die too (other sessions of the user refresh once). A token of a
 * session that already ended changes nothing.
 */
export async function revokeRefreshFamily(prisma: PrismaClient, token: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const row = await tx.refreshToken.findUnique({ where: { tokenHash: sha256Hex(token) }, select: { family: true, userId: true } });
    if (!row || !(await lockUser(tx, row.userId))) return;
    const { count } = await tx.refreshToken.updateMany({ where: { family: row.family, revokedAt: null }, data: { revokedAt: new Date() } });
    if (count > 0) await bumpTokenVersion(tx, row.userId);
  }, SESSION_TX);
}

/** Invalidates every access and refresh token of a user; call it inside the transaction of the change that needs it. */
export async function revokeAllTokens(db: Db, userId: string): Promise<void> {
  // The user row first: refreshes lock it before touching their token (see lockUser).
  await bumpTokenVersion(db, userId);
  await db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
}

/** Why a session no longer holds. */
export type SessionEnd = "user_deleted" | "user_disabled" | "session_revoked" | "token_expired";

/** Checks an access token's claims against its user row as it is now: null while the session holds. */
export function sessionEnd(user: { disabled: boolean; tokenVersion: number } | null, claims: AccessClaims, now = Date.now()): SessionEnd | null {
  if (!user) return "user_deleted";
  if (user.disabled) return "user_disabled";
  if (user.tokenVersion !== claims.tv) return "session_revoked";
  if (claims.exp * 1000 <= now) return "token_expired";
  return null;
}

