// Single sign-on through Microsoft Entra ID or any OpenID Connect provider: the configured
// providers, their discovery documents and keys, ID tokens verified against the provider's published
// keys, and users found or created by (provider, subject). The browser's side of the flow
// (redirects, attempt cookies, the code exchange) is http/sso-flow.server.ts.
import { createPublicKey, randomBytes, verify, type JsonWebKey } from "node:crypto";
import type { Db, PrismaClient } from "@opsconductor/db";
import { z } from "zod";
import { env, type WebEnv } from "../../env.server.ts";
import type { Role } from "../../lib/permissions.ts";
import { recordAudit } from "../audit/audit.server.ts";
import { isUniqueViolation } from "../errors.server.ts";
import { isLastEnabledAdmin } from "../users/commands.server.ts";
import { issueTokens, type ClientMeta, type IssuedTokens } from "./tokens.server.ts";

export const SSO_PROVIDER_IDS = ["entra", "oidc"] as const;
export type SsoProviderId = (typeof SSO_PROVIDER_IDS)[number];

const CACHE_TTL_MS = 60 * 60 * 1000;
const FETCH_TIMEOUT_MS = 10_000;
// Clock skew tolerated between us and the provider when checking exp, nbf and iat.
const SKEW_SEC = 60;
const ROLE_RANK: Readonly<Record<Role, number>> = Object.freeze({ viewer: 0, operator: 1, admin: 2 });

/** Why an SSO sign-in failed: the code travels in /login?error=, the message is shown there. */
export const SSO_ERROR_MESSAGES = Object.freeze({
  sso_unknown_provider: "That sign-in provider is not configured on this server.",
  sso_misconfigured: "Single sign-on is not configured correctly on this server; ask an administrator to check the audit log.",
  sso_unavailable: "The identity provider could not be reached. Try again in a moment.",
  sso_denied: "The identity provider did not sign you in.",
  sso_expired: "The sign-in attempt expired or was started in another browser window. Please try again.",
  sso_failed: "The identity provider refused to complete the sign-in. Please try again.",
  sso_invalid_token: "The identity provider's answer could not be verified, so you were not signed in.",
  sso_account_disabled: "This account is disabled; ask an administrator.",
} satisfies Record<string, string>);

export type SsoErrorCode = keyof typeof SSO_ERROR_MESSAGES;

/** The message for an SSO error code; unknown codes get a generic text, never the code itself. */
export function ssoErrorMessage(code: string): string {
  return Object.hasOwn(SSO_ERROR_MESSAGES, code) ? SSO_ERROR_MESSAGES[code as SsoErrorCode] : "Sign-in failed. Please try again.";
}

/** A failed SSO step: `code` is shown to the user, `reason` goes to the audit log only. */
export class SsoError extends Error {
  readonly code: SsoErrorCode;
  readonly reason: string;
  readonly userId: string | null;
  readonly username: string | null;
  constructor(code: SsoErrorCode, reason: string, user?: { id: string; username: string }) {
    super(`${code}: ${reason}`);
    this.name = "SsoError";
    this.code = code;
    this.reason = reason;
    this.userId = user?.id ?? null;
    this.username = user?.username ?? null;
  }
}

export interface ProviderConfig {
  id: SsoProviderId;
  /** Shown on the sign-in button and in audit summaries. */
  name: string;
  clientId: string;
  clientSecret: string | null;
  discoveryUrl: string | null;
  /** The issuer the discovery document must name (OIDC Discovery §4.3); null to accept the document's own. */
  expectedIssuer: string | null;
  tenant: string | null;
  /** Why the provider cannot work, when its configuration is incomplete. */
  problem: string | null;
}

const MULTI_TENANT = new Set(["common", "organizations", "consumers"]);
/** A URL without trailing slashes. */
export const trimSlash = (url: string) => url.replace(/\/+$/, "");

/** The SSO providers `config` turns on, each with the reason it cannot work when its settings are incomplete. */
export function providerConfigs(config: WebEnv): ProviderConfig[] {
  const list: ProviderConfig[] = [];
  if (config.ENTRA_CLIENT_ID) {
    const tenant = config.ENTRA_TENANT_ID ?? null;
    // Microsoft's shared tenants would let every Microsoft account in, each getting a viewer account.
    const shared = tenant !== null && MULTI_TENANT.has(tenant.toLowerCase());
    list.push({
      id: "entra",
      name: "Microsoft",
      clientId: config.ENTRA_CLIENT_ID,
      clientSecret: config.ENTRA_CLIENT_SECRET ?? null,
      discoveryUrl: tenant ? `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration` : null,
      expectedIssuer: null,
      tenant,
      problem: !tenant ? "ENTRA_CLIENT_ID is set but ENTRA_TENANT_ID is not" : shared ? `ENTRA_TENANT_ID must name your directory (its id or domain), not the shared "${tenant}" tenant` : null,
    });
  }
  if (config.OIDC_CLIENT_ID) {
    const issuer = config.OIDC_ISSUER ? trimSlash(config.OIDC_ISSUER) : null;
    list.push({
      id: "oidc",
      name: config.OIDC_NAME,
      clientId: config.OIDC_CLIENT_ID,
      clientSecret: config.OIDC_CLIENT_SECRET ?? null,
      discoveryUrl: issuer ? `${issuer}/.well-known/openid-configuration` : null,
      expectedIssuer: issuer,
      tenant: null,
      problem: issuer ? null : "OIDC_CLIENT_ID is set but OIDC_ISSUER is not",
    });
  }
  return list;
}

/** The configured SSO providers, for the sign-in page's buttons. */
export function listSsoProviders(): { id: SsoProviderId; name: string }[] {
  return providerConfigs(env()).map(({ id, name }) => ({ id, name }));
}

/** The configuration of provider `id`; an SsoError when it is not configured or cannot work. */
export function providerConfig(id: string): ProviderConfig {
  const found = providerConfigs(env()).find((p) => p.id === id);
  if (!found) throw new SsoError("sso_unknown_provider", `no SSO provider "${id.slice(0, 40)}" is configured`);
  if (found.problem) throw new SsoError("sso_misconfigured", found.problem);
  return found;
}

// --- discovery and keys -----------------------------------------------------------------------

const discoverySchema = z.object({
  issuer: z.string().min(1),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
});
export type OidcDiscovery = z.infer<typeof discoverySchema>;

interface Cached<T> {
  value: T;
  fetchedAt: number;
}
const discoveryCache = new Map<string, Cached<OidcDiscovery>>();
const jwksCache = new Map<string, Cached<JsonWebKey[]>>();

async function fetchJson(url: string, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new SsoError("sso_unavailable", `cannot fetch the ${what} at ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new SsoError("sso_unavailable", `the ${what} at ${url} answered HTTP ${response.status}`);
  }
  try {
    return await response.json();
  } catch {
    throw new SsoError("sso_unavailable", `the ${what} at ${url} is not JSON`);
  }
}

/**
 * The provider's OpenID configuration, cached for an hour. When `expectedIssuer` is given the
 * document must name that issuer, so a hijacked document cannot redirect token checks elsewhere.
 */
export async function discover(url: string, expectedIssuer: string | null = null): Promise<OidcDiscovery> {
  const cached = discoveryCache.get(url);
  if (cached && Date.now() - cached.fetchedAt < CACHE_TTL_MS) return cached.value;
  const parsed = discoverySchema.safeParse(await fetchJson(url, "OpenID configuration"));
  if (!parsed.success) {
    throw new SsoError("sso_misconfigured", `the OpenID configuration at ${url} lacks ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  }
  if (expectedIssuer !== null && trimSlash(parsed.data.issuer) !== expectedIssuer) {
    throw new SsoError("sso_misconfigured", `the OpenID configuration at ${url} names issuer ${parsed.data.issuer}, not the configured ${expectedIssuer}`);
  }
  discoveryCache.set(url, { value: parsed.data, fetchedAt: Date.now() });
  return parsed.data;
}

const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional() })) });

async function signingKeys(jwksUri: string, refresh: boolean): Promise<JsonWebKey[]> {
  const cached = jwksCache.get(jwksUri);
  if (cached && !refresh && Date.now() - cached.fetchedAt < CACHE_TTL_MS) return cached.value;
  const parsed = jwksSchema.safeParse(await fetchJson(jwksUri, "signing keys (JWKS)"));
  if (!parsed.success) throw new SsoError("sso_unavailable", `the signing keys at ${jwksUri} are not a JWK set`);
  const keys = parsed.data.keys as JsonWebKey[];
  jwksCache.set(jwksUri, { value: keys, fetchedAt: Date.now() });
  return keys;
}

/** Forgets cached discovery documents and key sets (after reconfiguration). */
export function clearSsoCaches(): void {
  discoveryCache.clear();
  jwksCache.clear();
}

// --- ID tokens ---------------------------------------------------------------------------------

export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  [claim: string]: unknown;
}

export interface IdTokenExpectations {
  issuer: string;
  /** Our client id. */
  audience: string;
  jwksUri: string;
  /** The nonce sent with the authorization request. */
  nonce?: string;
  now?: number;
}

function decodeSegment(segment: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? "", "base64url").toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new SsoError("sso_invalid_token", `the ID token's ${what} is not a JSON object`);
}

const invalid = (reason: string) => new SsoError("sso_invalid_token", reason);

/**
 * Verifies an ID token (OpenID Connect Core §3.1.3.7): RS256 signature by a key of the provider's
 * JWKS, issuer, audience (and azp when there are several audiences), expiry, and the nonce.
 */
export async function verifyIdToken(token: string, expect: IdTokenExpectations): Promise<IdTokenClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) throw invalid("the ID token is not a signed JWT");
  const header = decodeSegment(parts[0], "header");
  const claims = decodeSegment(parts[1], "payload");
  if (header.alg !== "RS256") throw invalid(`the ID token is signed with ${String(header.alg)}; only RS256 is accepted`);
  const kid = typeof header.kid === "string" ? header.kid : undefined;

  const pick = (keys: JsonWebKey[]) => {
    const rsa = keys.filter((k) => k.kty === "RSA" && (k.use === undefined || k.use === "sig") && (k.alg === undefined || k.alg === "RS256"));
    return kid === undefined ? (rsa.length === 1 ? rsa[0] : undefined) : rsa.find((k) => k.kid === kid);
  };
  // An unknown kid usually means the provider rotated its keys since we cached them: fetch once more.
  const jwk = pick(await signingKeys(expect.jwksUri, false)) ?? pick(await signingKeys(expect.jwksUri, true));
  if (!jwk) throw invalid(kid === undefined ? "the ID token names no key id and the provider has several keys" : `the provider publishes no RS256 key with id "${kid}"`);
  let valid = false;
  try {
    const key = createPublicKey({ key: jwk, format: "jwk" });
    valid = verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, "base64url"));
  } catch (error) {
    throw invalid(`the provider's key "${kid ?? "(no id)"}" is unusable: ${(error as Error).message}`);
  }
  if (!valid) throw invalid("the ID token's signature does not match the provider's key");

  if (claims.iss !== expect.issuer) throw invalid(`the ID token was issued by ${String(claims.iss)}, not ${expect.issuer}`);
  const audiences = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.includes(expect.audience)) throw invalid(`the ID token is meant for ${JSON.stringify(claims.aud)}, not this application (${expect.audience})`);
  if (audiences.length > 1 && claims.azp !== expect.audience) throw invalid("the ID token has several audiences but was not authorized for this application (azp)");
  const now = Math.floor((expect.now ?? Date.now()) / 1000);
  if (typeof claims.exp !== "number" || claims.exp + SKEW_SEC <= now) throw invalid("the ID token has expired");
  if (typeof claims.iat !== "number" || claims.iat - SKEW_SEC > now) throw invalid("the ID token's issue time is missing or in the future");
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || claims.nbf - SKEW_SEC > now)) throw invalid("the ID token is not valid yet");
  if (typeof claims.sub !== "string" || claims.sub === "") throw invalid("the ID token names no subject");
  if (expect.nonce !== undefined && claims.nonce !== expect.nonce) throw invalid("the ID token's nonce does not match this sign-in attempt");
  return claims as IdTokenClaims;
}

// --- users --------------------------------------------------------------------------------------

const stringList = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : typeof value === "string" ? [value] : []);

/** The highest role that SSO_ROLE_MAP grants for the token's `groups` and `roles` claims, or null. */
export function roleFromClaims(claims: Record<string, unknown>, roleMap: Record<string, Role>): Role | null {
  let best: Role | null = null;
  for (const value of [...stringList(claims.groups), ...stringList(claims.roles)]) {
    const role = Object.hasOwn(roleMap, value) ? roleMap[value] : undefined;
    if (role && (best === null || ROLE_RANK[role] > ROLE_RANK[best])) best = role;
  }
  return best;
}

const text = (value: unknown, max: number): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, max) : null);

// A new SSO user never takes over an existing account with the same name: it gets a free variant.
async function freeUsername(db: Db, base: string, provider: string): Promise<string> {
  const candidates = [base, `${base}-${provider}`];
  for (const name of candidates) if (!(await db.user.findUnique({ where: { username: name }, select: { id: true } }))) return name;
  for (;;) {
    const name = `${base}-${provider}-${randomBytes(3).toString("hex")}`;
    if (!(await db.user.findUnique({ where: { username: name }, select: { id: true } }))) return name;
  }
}

export interface SsoSignedIn {
  tokens: IssuedTokens;
  user: { id: string; username: string; role: Role; displayName: string | null };
  created: boolean;
}

/**
 * Signs in the user behind verified ID token claims: the one linked to (provider, subject), or a new
 * one (role from SSO_ROLE_MAP, else viewer). A later sign-in re-applies a matching mapped role.
 */
export async function signInWithSso(prisma: PrismaClient, provider: { id: SsoProviderId; name: string }, claims: IdTokenClaims, meta: ClientMeta): Promise<SsoSignedIn> {
  try {
    return await signInOnce(prisma, provider, claims, meta);
  } catch (error) {
    // Two first sign-ins of one person at once: the loser finds the winner's link on the retry.
    if (isUniqueViolation(error)) return signInOnce(prisma, provider, claims, meta);
    throw error;
  }
}

async function signInOnce(prisma: PrismaClient, provider: { id: SsoProviderId; name: string }, claims: IdTokenClaims, meta: ClientMeta): Promise<SsoSignedIn> {
  const mapped = roleFromClaims(claims, env().SSO_ROLE_MAP);
  const email = text(claims.email, 320);
  return prisma.$transaction(async (tx) => {
    const identity = await tx.externalIdentity.findUnique({ where: { provider_subject: { provider: provider.id, subject: claims.sub } }, include: { user: true } });
    let user = identity?.user;
    let created = false;
    if (user) {
      if (user.disabled) throw new SsoError("sso_account_disabled", "the account is disabled", user);
      await tx.externalIdentity.update({ where: { id: identity!.id }, data: { lastUsedAt: new Date(), email } });
      // The group mapping never demotes the last enabled admin: that would lock everyone out.
      const lastAdmin = mapped !== null && mapped !== user.role && (await isLastEnabledAdmin(tx, user));
      if (mapped && mapped !== user.role && lastAdmin) {
        await recordAudit(tx, { actor: null, action: "user.update", entityType: "user", entityId: user.id, summary: `${user.username} kept the admin role although the ${provider.name} group mapping says ${mapped}: it is the last enabled admin`, details: { from: user.role, to: mapped, applied: false, source: "sso", provider: provider.id }, ...meta });
      } else if (mapped && mapped !== user.role) {
        await recordAudit(tx, { actor: null, action: "user.update", entityType: "user", entityId: user.id, summary: `${user.username}'s role changed from ${user.role} to ${mapped} by the ${provider.name} group mapping`, details: { from: user.role, to: mapped, source: "sso", provider: provider.id }, ...meta });
        user = await tx.user.update({ where: { id: user.id }, data: { role: mapped } });
      }
    } else {
      const base = text(claims.preferred_username, 100) ?? email?.slice(0, 100) ?? text(claims.name, 100) ?? `${provider.id}-${claims.sub.slice(0, 40)}`;
      const username = await freeUsername(tx, base, provider.id);
      const emailFree = email !== null && !(await tx.user.findUnique({ where: { email }, select: { id: true } }));
      const role = mapped ?? "viewer";
      user = await tx.user.create({
        data: {
          username,
          email: emailFree ? email : null,
          displayName: text(claims.name, 200),
          role,
          passwordHash: null,
          identities: { create: { provider: provider.id, subject: claims.sub, email, lastUsedAt: new Date() } },
        },
      });
      created = true;
      await recordAudit(tx, { actor: { id: user.id, name: user.username }, action: "user.create", entityType: "user", entityId: user.id, summary: `${user.username} was created at their first ${provider.name} sign-in, as ${role}`, details: { source: "sso", provider: provider.id, role }, ...meta });
    }
    await tx.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    await recordAudit(tx, { actor: { id: user.id, name: user.username }, action: "auth.login", entityType: "user", entityId: user.id, summary: `${user.username} signed in with ${provider.name}`, details: { method: "sso", provider: provider.id }, ...meta });
    const role = user.role as Role;
    const tokens = await issueTokens(tx, { id: user.id, role, tokenVersion: user.tokenVersion }, meta);
    return { tokens, user: { id: user.id, username: user.username, role, displayName: user.displayName }, created };
  });
}
