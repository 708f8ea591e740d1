// The browser's side of single sign-on: GET /auth/sso/{provider} remembers state, PKCE verifier and
// nonce in short-lived cookies and redirects to the provider (arctic builds the URL); the callback
// checks them, exchanges the code, has the ID token verified and signs the user in with cookies.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "@opsconductor/db";
import { ArcticFetchError, CodeChallengeMethod, generateCodeVerifier, generateState, MicrosoftEntraId, OAuth2Client, OAuth2RequestError, type OAuth2Tokens } from "arctic";
import { env } from "../env.server.ts";
import { recordRepeatedAudit } from "../services/auth/sign-in-throttle.server.ts";
import { discover, providerConfig, providerConfigs, signInWithSso, SSO_PROVIDER_IDS, SsoError, trimSlash, verifyIdToken, type ProviderConfig, type SsoProviderId } from "../services/auth/sso.server.ts";
import type { ClientMeta } from "../services/auth/tokens.server.ts";
import { authCookies, readCookie } from "./auth.server.ts";
import { safeRedirect } from "./web-session.server.ts";

const SCOPES = ["openid", "profile", "email"];
const ATTEMPT_TTL_SEC = 10 * 60;

const ATTEMPT_COOKIES = { state: "oc_sso_state", verifier: "oc_sso_verifier", nonce: "oc_sso_nonce", next: "oc_sso_next" } as const;

function publicOrigin(request: Request): string {
  return trimSlash(env().OPSCONDUCTOR_PUBLIC_URL ?? new URL(request.url).origin);
}

// Scoped to this provider's path so the callback, a top-level navigation from the provider, carries
// them (SameSite=Lax allows that) and nothing else does.
function attemptCookie(request: Request, provider: SsoProviderId, name: string, value: string, maxAge: number): string {
  const secure = publicOrigin(request).startsWith("https:");
  return [`${name}=${encodeURIComponent(value)}`, `Path=/auth/sso/${provider}`, `Max-Age=${maxAge}`, "HttpOnly", "SameSite=Lax", ...(secure ? ["Secure"] : [])].join("; ");
}

function clearedAttemptCookies(request: Request, provider: string): string[] {
  if (!(SSO_PROVIDER_IDS as readonly string[]).includes(provider)) return [];
  return Object.values(ATTEMPT_COOKIES).map((name) => attemptCookie(request, provider as SsoProviderId, name, "", 0));
}

function redirectResponse(location: string, cookies: string[]): Response {
  const headers = new Headers({ Location: location, "Cache-Control": "no-store" });
  for (const c of cookies) headers.append("Set-Cookie", c);
  return new Response(null, { status: 302, headers });
}

const redirectUri = (request: Request, provider: SsoProviderId) => `${publicOrigin(request)}/auth/sso/${provider}/callback`;
const sha256Base64url = (value: string) => createHash("sha256").update(value).digest("base64url");

async function failure(prisma: PrismaClient, request: Request, providerId: string, error: unknown, meta: ClientMeta): Promise<Response> {
  if (!(error instanceof SsoError)) throw error;
  const label = providerConfigs(env()).find((p) => p.id === providerId)?.name ?? providerId.slice(0, 40);
  // Anyone can call the callback with junk as often as they like: one row per source, reason and window.
  const key = `sso:${providerId.slice(0, 40)}:${error.code}:${error.userId ?? meta.ip ?? "unknown"}`;
  await recordRepeatedAudit(prisma, key, {
    actor: error.userId ? { id: error.userId, name: error.username } : null,
    action: "auth.login_failed",
    entityType: "user",
    entityId: error.userId,
    summary: `${label} sign-in failed: ${error.reason}`,
    details: { method: "sso", provider: providerId.slice(0, 40), reason: error.code, detail: error.reason },
    ...meta,
  });
  return redirectResponse(`/login?error=${error.code}`, clearedAttemptCookies(request, providerId));
}

/** GET /auth/sso/{provider}: remembers state, PKCE verifier and nonce in short-lived cookies and sends the browser to the provider. */
export async function beginSsoSignIn(prisma: PrismaClient, request: Request, providerId: string, meta: ClientMeta): Promise<Response> {
  try {
    const provider = providerConfig(providerId);
    const state = generateState();
    const verifier = generateCodeVerifier();
    const nonce = randomBytes(24).toString("base64url");
    const callback = redirectUri(request, provider.id);
    let url: URL;
    if (provider.id === "entra") {
      // Discovery first, so a wrong tenant fails here rather than at Microsoft's sign-in page.
      await discover(provider.discoveryUrl!, provider.expectedIssuer);
      url = new MicrosoftEntraId(provider.tenant!, provider.clientId, provider.clientSecret, callback).createAuthorizationURL(state, verifier, SCOPES);
    } else {
      const discovery = await discover(provider.discoveryUrl!, provider.expectedIssuer);
      url = new OAuth2Client(provider.clientId, provider.clientSecret, callback).createAuthorizationURLWithPKCE(discovery.authorization_endpoint, state, CodeChallengeMethod.S256, verifier, SCOPES);
    }
    url.searchParams.set("nonce", nonce);
    const next = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
    const set = (name: string, value: string) => attemptCookie(request, provider.id, name, value, ATTEMPT_TTL_SEC);
    return redirectResponse(url.toString(), [set(ATTEMPT_COOKIES.state, state), set(ATTEMPT_COOKIES.verifier, verifier), set(ATTEMPT_COOKIES.nonce, nonce), set(ATTEMPT_COOKIES.next, next)]);
  } catch (error) {
    return failure(prisma, request, providerId, error, meta);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(sha256Base64url(a));
  const y = Buffer.from(sha256Base64url(b));
  return timingSafeEqual(x, y);
}

async function exchangeCode(provider: ProviderConfig, tokenEndpoint: string, callback: string, code: string, verifier: string): Promise<OAuth2Tokens> {
  try {
    if (provider.id === "entra") return await new MicrosoftEntraId(provider.tenant!, provider.clientId, provider.clientSecret, callback).validateAuthorizationCode(code, verifier);
    return await new OAuth2Client(provider.clientId, provider.clientSecret, callback).validateAuthorizationCode(tokenEndpoint, code, verifier);
  } catch (error) {
    if (error instanceof OAuth2RequestError) throw new SsoError("sso_failed", `the token endpoint refused the code: ${error.code}${error.description ? ` (${error.description})` : ""}`);
    if (error instanceof ArcticFetchError) throw new SsoError("sso_unavailable", `cannot reach the token endpoint: ${(error.cause as Error | undefined)?.message ?? error.message}`);
    throw new SsoError("sso_failed", `the token endpoint answered unexpectedly: ${(error as Error).message}`);
  }
}

/** GET /auth/sso/{provider}/callback: checks state, exchanges the code, verifies the ID token and signs the user in. */
export async function completeSsoSignIn(prisma: PrismaClient, request: Request, providerId: string, meta: ClientMeta): Promise<Response> {
  try {
    const provider = providerConfig(providerId);
    const url = new URL(request.url);
    const providerError = url.searchParams.get("error");
    if (providerError) {
      const description = url.searchParams.get("error_description");
      throw new SsoError("sso_denied", `the provider answered ${providerError.slice(0, 100)}${description ? `: ${description.slice(0, 300)}` : ""}`);
    }
    const state = url.searchParams.get("state");
    const code = url.searchParams.get("code");
    const expectedState = readCookie(request, ATTEMPT_COOKIES.state);
    const verifier = readCookie(request, ATTEMPT_COOKIES.verifier);
    const nonce = readCookie(request, ATTEMPT_COOKIES.nonce);
    if (!expectedState || !verifier || !nonce) throw new SsoError("sso_expired", "the callback came without this browser's sign-in attempt cookies (expired, or started elsewhere)");
    if (!state || !sameSecret(state, expectedState)) throw new SsoError("sso_expired", "the callback's state does not match this browser's sign-in attempt");
    if (!code) throw new SsoError("sso_failed", "the callback carries no authorization code");

    const discovery = await discover(provider.discoveryUrl!, provider.expectedIssuer);
    const tokens = await exchangeCode(provider, discovery.token_endpoint, redirectUri(request, provider.id), code, verifier);
    let idToken: string;
    try {
      idToken = tokens.idToken();
    } catch {
      throw new SsoError("sso_invalid_token", "the token endpoint returned no ID token");
    }
    const claims = await verifyIdToken(idToken, { issuer: discovery.issuer, audience: provider.clientId, jwksUri: discovery.jwks_uri, nonce });
    const signedIn = await signInWithSso(prisma, provider, claims, meta);
    const next = safeRedirect(readCookie(request, ATTEMPT_COOKIES.next));
    return redirectResponse(next, [...clearedAttemptCookies(request, provider.id), ...authCookies(request, signedIn.tokens)]);
  } catch (error) {
    return failure(prisma, request, providerId, error, meta);
  }
}
