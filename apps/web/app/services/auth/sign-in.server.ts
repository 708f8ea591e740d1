// Signing in and out: password sign-in with throttling (POST /api/login and the login page), the
// refresh of a session, signing out one session (the API and the sign-out form) and revoking every
// session of a user.
import type { PrismaClient } from "@opsconductor/db";
import { can, type Role } from "../../lib/permissions.ts";
import { recordAudit, type Audit } from "../audit/audit.server.ts";
import { ApiError, notFound } from "../errors.server.ts";
import { verifyPassword } from "./passwords.server.ts";
import { accountKey, addressKey, attemptSucceeded, countAttempt, recordRepeatedAudit, tooManyAttempts } from "./sign-in-throttle.server.ts";
import { issueTokens, revokeAllTokens, revokeRefreshFamily, rotateRefreshToken, SESSION_TX, type ClientMeta, type IssuedTokens, type Principal } from "./tokens.server.ts";

// Verifying against a fixed hash for unknown users keeps the answer time the same for both cases.
const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$kHbQF1DXhJ3jHeqQ+7V7w6yB8H0o2Xx9dB0b2o7vQ1Q".replaceAll("+", "-");

export interface SignedIn {
  tokens: IssuedTokens;
  user: { id: string; username: string; role: Role; displayName: string | null };
}

/** Checks a username and password, throttled per account and per address; audits the outcome. */
export async function signInWithPassword(prisma: PrismaClient, username: string, password: string, meta: ClientMeta): Promise<SignedIn> {
  const keys = { account: accountKey(username), address: addressKey(meta.ip) };
  const attempt = await countAttempt(prisma, keys);
  if (!attempt.allowed) {
    const summary = `sign-in for "${username}" refused: too many failed attempts`;
    await recordRepeatedAudit(prisma, `audit:${attempt.blockedKey}`, { actor: null, action: "auth.login_throttled", entityType: "user", summary, details: { username, throttledBy: attempt.blockedKey === keys.account ? "account" : "address" }, ...meta });
    throw tooManyAttempts(attempt.waitSec);
  }
  const user = await prisma.user.findUnique({ where: { username } });
  // A service account acts only through its API tokens, even when someone set a password on it.
  const valid = (await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)) && user?.kind !== "service";
  if (!user || !valid || user.disabled) {
    const reason = !user ? "unknown user" : user.kind === "service" ? "service account" : !valid ? "wrong password" : "account disabled";
    await recordAudit(prisma, { actor: user ? { id: user.id, name: user.username } : null, action: "auth.login_failed", entityType: "user", entityId: user?.id ?? null, summary: `failed sign-in for "${username}" (${reason})`, details: { username, reason }, ...meta });
    throw new ApiError(401, "invalid_credentials", user?.disabled && valid ? "this account is disabled; ask an administrator" : "wrong username or password");
  }
  await attemptSucceeded(prisma, keys);
  const tokens = await prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    await recordAudit(tx, { actor: { id: user.id, name: user.username }, action: "auth.login", entityType: "user", entityId: user.id, summary: `${user.username} signed in`, details: { method: "password" }, ...meta });
    return issueTokens(tx, { id: user.id, role: user.role as Role, tokenVersion: user.tokenVersion }, meta);
  });
  return { tokens, user: { id: user.id, username: user.username, role: user.role as Role, displayName: user.displayName } };
}

/** Why a refresh token was refused, in the words the API answers with. */
export const REFRESH_REFUSALS = Object.freeze({
  unknown: "this refresh token is not valid",
  expired: "this refresh token has expired; sign in again",
  revoked: "this refresh token was revoked; sign in again",
  reused: "this refresh token was already used, so every token of its session has been revoked; sign in again",
  disabled: "this account is disabled",
} as const);

/** A refresh either signs the session in again or is refused with the reason's message. */
export type Refreshed = { ok: true; signedIn: SignedIn } | { ok: false; message: string };

/**
 * Exchanges a refresh token (from the body or the cookie) for a new pair; each works once. A spent
 * token presented again ends its session and is audited as `auth.refresh_reused`.
 */
export async function refreshSession(prisma: PrismaClient, token: string | null, meta: ClientMeta, audit: Audit): Promise<Refreshed> {
  if (!token) throw new ApiError(400, "validation_failed", "send refreshToken in the body, or the refresh cookie", { details: [{ path: "body.refreshToken", message: "body.refreshToken is required" }] });
  const outcome = await rotateRefreshToken(prisma, token, meta);
  if (outcome.ok) return { ok: true, signedIn: { tokens: outcome.tokens, user: { ...outcome.user, displayName: null } } };
  if (outcome.reason === "reused") {
    await audit({ actor: { id: outcome.userId ?? null, name: outcome.username ?? null }, action: "auth.refresh_reused", entityType: "user", entityId: outcome.userId ?? null, summary: `a spent refresh token of ${outcome.username} was presented again; its session was revoked` });
  }
  return { ok: false, message: REFRESH_REFUSALS[outcome.reason] };
}

/**
 * Signs out one session: its refresh token's family is revoked (when there is one) and the sign-out
 * of `user` (when known) is audited.
 */
export async function signOut(prisma: PrismaClient, refreshToken: string | null, user: { id: string; username: string } | null, audit: Audit): Promise<void> {
  if (refreshToken) await revokeRefreshFamily(prisma, refreshToken);
  if (user) await audit({ actor: { id: user.id, name: user.username }, action: "auth.logout", entityType: "user", entityId: user.id, summary: `${user.username} signed out` });
}

/**
 * Invalidates every token of `userId` (the caller's own when left out); another user's only for
 * those who may manage users. Audited in the same transaction.
 */
export async function revokeAllSessions(prisma: PrismaClient, principal: Principal, userId: string | undefined, audit: Audit): Promise<{ revoked: true; userId: string; own: boolean }> {
  const id = userId ?? principal.id;
  if (id !== principal.id && !can(principal.role, "users:write")) throw new ApiError(403, "forbidden", "only an admin may revoke another user's tokens");
  const user = await prisma.user.findUnique({ where: { id }, select: { id: true, username: true } });
  if (!user) throw notFound("user");
  await prisma.$transaction(async (tx) => {
    await revokeAllTokens(tx, user.id);
    await audit({ action: "auth.revoke_all", entityType: "user", entityId: user.id, summary: `${principal.username} revoked every token of ${user.username}` }, tx);
  }, SESSION_TX);
  return { revoked: true, userId: user.id, own: user.id === principal.id };
}
