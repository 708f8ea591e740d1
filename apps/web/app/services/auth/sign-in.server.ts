// Password sign-in with throttling, shared by POST /api/login and the login page.
import { verifyPassword, type PrismaClient } from "@opsconductor/db";
import type { Role } from "../lib/permissions.ts";
import { recordAudit } from "./audit.server.ts";
import { issueTokens, type ClientMeta, type IssuedTokens } from "./auth.server.ts";
import { ApiError } from "./errors.server.ts";
import { accountKey, addressKey, attemptSucceeded, countAttempt, recordRepeatedAudit, tooManyAttempts } from "./sign-in-throttle.server.ts";

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
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !valid || user.disabled) {
    const reason = !user ? "unknown user" : !valid ? "wrong password" : "account disabled";
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

/** The JSON body and headers every sign-in answers with: tokens in the body and in cookies. */
export function signedInResponse(request: Request, signedIn: SignedIn, cookies: string[]): Response {
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const c of cookies) headers.append("Set-Cookie", c);
  const { tokens, user } = signedIn;
  return Response.json(
    { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: tokens.expiresIn, user: { id: user.id, username: user.username, role: user.role } },
    { headers },
  );
}
