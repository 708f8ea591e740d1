// Single sign-on against fake identity providers (msw answers their discovery, key and token
// endpoints in this process), with real RSA keys and this file's own database.
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createLocalUser as createUser } from "../app/services/auth/local-users.server.ts";
import { createTestDatabase } from "@opsconductor/testing";
import { cookieHeader, cookieValue } from "@opsconductor/testing/web";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";

const ISSUER = "https://idp.example.test/realms/ops";
const CLIENT_ID = "opsconductor-app";
const CLIENT_SECRET = "oidc-client-secret-value";
const TENANT = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const ENTRA = `https://login.microsoftonline.com/${TENANT}`;
const ENTRA_CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const PUBLIC_URL = "https://ops.example.com";
const META = { ip: "203.0.113.7", userAgent: "sso-test" };

const database = await createTestDatabase();
const prisma = database.prisma;
for (const [name, value] of Object.entries({
  DATABASE_URL: database.url,
  OPSCONDUCTOR_MASTER_KEY: Buffer.alloc(32, 7).toString("base64"),
  OPSCONDUCTOR_PUBLIC_URL: PUBLIC_URL,
  OIDC_ISSUER: ISSUER,
  OIDC_CLIENT_ID: CLIENT_ID,
  OIDC_CLIENT_SECRET: CLIENT_SECRET,
  OIDC_NAME: "Acme SSO",
  ENTRA_TENANT_ID: TENANT,
  ENTRA_CLIENT_ID,
  ENTRA_CLIENT_SECRET: "entra-client-secret-value",
  SSO_ROLE_MAP: JSON.stringify({ "ops-admins": "admin", "ops-team": "operator", "OpsConductor.Admin": "admin" }),
})) {
  vi.stubEnv(name, value);
}
const sso = { ...(await import("../app/services/auth/sso.server.ts")), ...(await import("../app/http/sso-flow.server.ts")) };

// --- the fake providers ---

function rsaKey(kid: string) {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" } };
}
const idpKey = rsaKey("idp-key-1");
const rotatedKey = rsaKey("idp-key-2");
const entraKey = rsaKey("entra-key-1");
const strangerKey = rsaKey("idp-key-1"); // same kid as the real key, different key material

let idpKeys = [idpKey.jwk];
const hits = { discovery: 0, jwks: 0 };
type TokenHandler = (form: URLSearchParams, request: Request) => Response | Promise<Response>;
let onToken: TokenHandler = () => HttpResponse.json({ error: "invalid_request" }, { status: 400 });

const server = setupServer(
  http.get(`${ISSUER}/.well-known/openid-configuration`, () => {
    hits.discovery++;
    return HttpResponse.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/protocol/openid-connect/auth`, token_endpoint: `${ISSUER}/protocol/openid-connect/token`, jwks_uri: `${ISSUER}/protocol/openid-connect/certs` });
  }),
  http.get(`${ISSUER}/protocol/openid-connect/certs`, () => {
    hits.jwks++;
    return HttpResponse.json({ keys: idpKeys });
  }),
  http.post(`${ISSUER}/protocol/openid-connect/token`, async ({ request }) => onToken(new URLSearchParams(await request.text()), request)),
  http.get(`${ENTRA}/v2.0/.well-known/openid-configuration`, () =>
    HttpResponse.json({ issuer: `${ENTRA}/v2.0`, authorization_endpoint: `${ENTRA}/oauth2/v2.0/authorize`, token_endpoint: `${ENTRA}/oauth2/v2.0/token`, jwks_uri: `${ENTRA}/discovery/v2.0/keys` }),
  ),
  http.get(`${ENTRA}/discovery/v2.0/keys`, () => HttpResponse.json({ keys: [entraKey.jwk] })),
  http.post(`${ENTRA}/oauth2/v2.0/token`, async ({ request }) => onToken(new URLSearchParams(await request.text()), request)),
  http.get("https://liar.example.test/.well-known/openid-configuration", () =>
    HttpResponse.json({ issuer: "https://someone-else.example.test", authorization_endpoint: "https://x.test/a", token_endpoint: "https://x.test/t", jwks_uri: "https://x.test/k" }),
  ),
  http.get("https://down.example.test/.well-known/openid-configuration", () => new HttpResponse("upstream down", { status: 502 })),
);
beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterAll(() => {
  server.close();
  vi.unstubAllEnvs();
});

function signJwt(claims: Record<string, unknown>, options: { key?: KeyObject; kid?: string | null; alg?: string } = {}): string {
  const header: Record<string, unknown> = { alg: options.alg ?? "RS256", typ: "JWT" };
  if (options.kid !== null) header.kid = options.kid ?? idpKey.kid;
  const encoded = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${encoded}.${sign("sha256", Buffer.from(encoded), options.key ?? idpKey.privateKey).toString("base64url")}`;
}

const now = () => Math.floor(Date.now() / 1000);
const idClaims = (overrides: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: CLIENT_ID, sub: "subject-1", iat: now(), exp: now() + 300, nonce: "nonce-1", ...overrides });
const expectations = { issuer: ISSUER, audience: CLIENT_ID, jwksUri: `${ISSUER}/protocol/openid-connect/certs`, nonce: "nonce-1" };

async function rejection(promise: Promise<unknown>): Promise<{ code: string; reason: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(sso.SsoError);
  return error as { code: string; reason: string };
}

test("a provider is on when its client id is set; incomplete or multi-tenant settings are reported, not half-used", async () => {
  const { parseWebEnv } = await import("../app/env.server.ts");
  const base = { DATABASE_URL: "postgresql://x@localhost/x", OPSCONDUCTOR_MASTER_KEY: Buffer.alloc(32, 1).toString("base64") };
  const problems = (extra: Record<string, string>) => sso.providerConfigs(parseWebEnv({ ...base, ...extra })).map((p) => [p.id, p.problem]);
  expect(problems({})).toEqual([]);
  expect(problems({ ENTRA_CLIENT_ID: "app", ENTRA_TENANT_ID: "contoso.onmicrosoft.com", OIDC_CLIENT_ID: "app", OIDC_ISSUER: ISSUER })).toEqual([
    ["entra", null],
    ["oidc", null],
  ]);
  expect(problems({ ENTRA_CLIENT_ID: "app" })).toEqual([["entra", "ENTRA_CLIENT_ID is set but ENTRA_TENANT_ID is not"]]);
  expect(problems({ ENTRA_CLIENT_ID: "app", ENTRA_TENANT_ID: "Common" })[0]![1]).toMatch(/not the shared "Common" tenant/);
  expect(problems({ OIDC_CLIENT_ID: "app" })).toEqual([["oidc", "OIDC_CLIENT_ID is set but OIDC_ISSUER is not"]]);
  expect(sso.listSsoProviders()).toEqual([
    { id: "entra", name: "Microsoft" },
    { id: "oidc", name: "Acme SSO" },
  ]);
});

describe("discovery", () => {
  test("reads the provider's OpenID configuration once and then serves it from the cache", async () => {
    sso.clearSsoCaches();
    const before = hits.discovery;
    const first = await sso.discover(`${ISSUER}/.well-known/openid-configuration`, ISSUER);
    const second = await sso.discover(`${ISSUER}/.well-known/openid-configuration`, ISSUER);
    expect(first).toEqual(second);
    expect(first.token_endpoint).toBe(`${ISSUER}/protocol/openid-connect/token`);
    expect(hits.discovery - before).toBe(1);
  });

  test("a document naming another issuer is refused, an unreachable one is reported", async () => {
    const liar = await rejection(sso.discover("https://liar.example.test/.well-known/openid-configuration", "https://liar.example.test"));
    expect(liar.code).toBe("sso_misconfigured");
    expect(liar.reason).toContain("https://someone-else.example.test");
    const down = await rejection(sso.discover("https://down.example.test/.well-known/openid-configuration"));
    expect(down.code).toBe("sso_unavailable");
    expect(down.reason).toContain("HTTP 502");
  });
});

describe("ID token verification", () => {
  test("a token signed by the provider's key, for us, unexpired, with our nonce is accepted", async () => {
    const claims = await sso.verifyIdToken(signJwt(idClaims({ name: "Ada" })), expectations);
    expect(claims).toMatchObject({ sub: "subject-1", name: "Ada" });
  });

  test.each([
    ["a wrong issuer", idClaims({ iss: "https://evil.example.test" }), /issued by https:\/\/evil\.example\.test/],
    ["a wrong audience", idClaims({ aud: "some-other-app" }), /meant for "some-other-app"/],
    ["several audiences without azp", idClaims({ aud: [CLIENT_ID, "other-app"] }), /azp/],
    ["an expiry in the past", idClaims({ exp: now() - 120 }), /expired/],
    ["another nonce", idClaims({ nonce: "replayed" }), /nonce/],
    ["no subject", idClaims({ sub: "" }), /subject/],
  ])("a token with %s is refused", async (_, claims, message) => {
    const error = await rejection(sso.verifyIdToken(signJwt(claims), expectations));
    expect(error.code).toBe("sso_invalid_token");
    expect(error.reason).toMatch(message);
  });

  test("a token whose signature is not the provider's is refused", async () => {
    const forged = await rejection(sso.verifyIdToken(signJwt(idClaims(), { key: strangerKey.privateKey }), expectations));
    expect(forged.reason).toMatch(/signature does not match/);
    const [h, , s] = signJwt(idClaims()).split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify(idClaims({ sub: "admin" }))).toString("base64url")}.${s}`;
    expect((await rejection(sso.verifyIdToken(tampered, expectations))).reason).toMatch(/signature does not match/);
    const unsigned = await rejection(sso.verifyIdToken(signJwt(idClaims(), { alg: "none" }), expectations));
    expect(unsigned.reason).toMatch(/only RS256/);
  });

  test("an unknown key id makes one fresh JWKS fetch, which picks up rotated keys and refuses the rest", async () => {
    await sso.verifyIdToken(signJwt(idClaims()), expectations); // warms the key cache
    const before = hits.jwks;
    const unknown = await rejection(sso.verifyIdToken(signJwt(idClaims(), { kid: "no-such-key" }), expectations));
    expect(unknown.reason).toContain('no RS256 key with id "no-such-key"');
    expect(hits.jwks - before).toBe(1);

    idpKeys = [idpKey.jwk, rotatedKey.jwk];
    try {
      const claims = await sso.verifyIdToken(signJwt(idClaims(), { key: rotatedKey.privateKey, kid: rotatedKey.kid }), expectations);
      expect(claims.sub).toBe("subject-1");
      expect(hits.jwks - before).toBe(2);
    } finally {
      idpKeys = [idpKey.jwk];
    }
  });
});

test("roles come from groups and roles claims through SSO_ROLE_MAP, the highest winning", () => {
  const map = { "ops-admins": "admin", "ops-team": "operator", readers: "viewer" } as const;
  expect(sso.roleFromClaims({ groups: ["readers", "ops-team"] }, map)).toBe("operator");
  expect(sso.roleFromClaims({ groups: ["ops-team"], roles: ["ops-admins"] }, map)).toBe("admin");
  expect(sso.roleFromClaims({ roles: "readers" }, map)).toBe("viewer");
  expect(sso.roleFromClaims({ groups: ["strangers", 42] }, map)).toBeNull();
  expect(sso.roleFromClaims({ groups: ["constructor", "toString"] }, map)).toBeNull();
  expect(sso.roleFromClaims({}, map)).toBeNull();
});

describe("users", () => {
  const oidc = { id: "oidc", name: "Acme SSO" } as const;
  const claimsFor = (sub: string, extra: Record<string, unknown> = {}) => sso.verifyIdToken(signJwt(idClaims({ sub, ...extra })), expectations);

  test("a first sign-in without a mapped group creates a viewer linked to the identity, and audits it", async () => {
    const result = await sso.signInWithSso(prisma, oidc, await claimsFor("new-person", { preferred_username: "grace", email: "grace@example.com", name: "Grace Hopper", groups: ["unmapped"] }), META);
    expect(result.created).toBe(true);
    expect(result.user).toMatchObject({ username: "grace", role: "viewer", displayName: "Grace Hopper" });
    const user = await prisma.user.findUniqueOrThrow({ where: { id: result.user.id }, include: { identities: true } });
    expect(user).toMatchObject({ email: "grace@example.com", passwordHash: null, role: "viewer" });
    expect(user.lastLoginAt).not.toBeNull();
    expect(user.identities).toEqual([expect.objectContaining({ provider: "oidc", subject: "new-person", email: "grace@example.com" })]);
    expect(await prisma.refreshToken.count({ where: { userId: user.id } })).toBe(1);
    const login = await prisma.auditLog.findFirstOrThrow({ where: { action: "auth.login", entityId: user.id } });
    expect(login).toMatchObject({ actorId: user.id, details: { method: "sso", provider: "oidc" }, ip: META.ip });
    expect(await prisma.auditLog.count({ where: { action: "user.create", entityId: user.id } })).toBe(1);

    const again = await sso.signInWithSso(prisma, oidc, await claimsFor("new-person", { preferred_username: "grace" }), META);
    expect(again).toMatchObject({ created: false, user: { id: user.id } });
    expect(await prisma.user.count({ where: { username: { startsWith: "grace" } } })).toBe(1);
  });

  test("a mapped group sets the role at the first sign-in and re-applies it later; no match keeps the role", async () => {
    const first = await sso.signInWithSso(prisma, oidc, await claimsFor("lead", { preferred_username: "lin", groups: ["ops-team", "ops-admins"] }), META);
    expect(first.user.role).toBe("admin");

    await prisma.user.update({ where: { id: first.user.id }, data: { role: "viewer" } });
    const remapped = await sso.signInWithSso(prisma, oidc, await claimsFor("lead", { groups: ["ops-team"] }), META);
    expect(remapped.user.role).toBe("operator");
    expect((await prisma.user.findUniqueOrThrow({ where: { id: first.user.id } })).role).toBe("operator");
    expect(await prisma.auditLog.findFirst({ where: { action: "user.update", entityId: first.user.id } })).toMatchObject({ details: { from: "viewer", to: "operator", source: "sso", provider: "oidc" } });

    const unmapped = await sso.signInWithSso(prisma, oidc, await claimsFor("lead", { groups: ["nothing-mapped"] }), META);
    expect(unmapped.user.role).toBe("operator");
  });

  test("the group mapping never demotes the last enabled admin", async () => {
    const { prisma: fresh } = await createTestDatabase();
    const first = await sso.signInWithSso(fresh, oidc, await claimsFor("only-admin", { preferred_username: "solo", groups: ["ops-admins"] }), META);
    expect(first.user.role).toBe("admin");
    const kept = await sso.signInWithSso(fresh, oidc, await claimsFor("only-admin", { groups: ["ops-team"] }), META);
    expect(kept.user.role).toBe("admin");
    expect(await fresh.auditLog.findFirst({ where: { action: "user.update", entityId: first.user.id } })).toMatchObject({ details: { from: "admin", to: "operator", applied: false } });
    await createUser(fresh, { username: "second-admin", password: "second-admin-pw", role: "admin" });
    const demoted = await sso.signInWithSso(fresh, oidc, await claimsFor("only-admin", { groups: ["ops-team"] }), META);
    expect(demoted.user.role).toBe("operator");
  });

  test("two admins demoted by the group mapping at the same moment: one of them stays admin (the last-admin lock)", { timeout: 60_000 }, async () => {
    const { prisma: fresh } = await createTestDatabase();
    const a = await sso.signInWithSso(fresh, oidc, await claimsFor("admin-a", { preferred_username: "admin-a", groups: ["ops-admins"] }), META);
    const b = await sso.signInWithSso(fresh, oidc, await claimsFor("admin-b", { preferred_username: "admin-b", groups: ["ops-admins"] }), META);
    const demote = { a: await claimsFor("admin-a", { groups: ["ops-team"] }), b: await claimsFor("admin-b", { groups: ["ops-team"] }) };
    for (let trial = 0; trial < 15; trial++) {
      await fresh.user.updateMany({ where: { id: { in: [a.user.id, b.user.id] } }, data: { role: "admin" } });
      await Promise.all([sso.signInWithSso(fresh, oidc, demote.a, META), sso.signInWithSso(fresh, oidc, demote.b, META)]);
      expect(await fresh.user.count({ where: { role: "admin", disabled: false } }), `trial ${trial}`).toBe(1);
    }
  });

  test("a new identity never takes over a local account with the same name or email", async () => {
    const local = await createUser(prisma, { username: "root", password: "local-password-1", role: "admin", email: "root@example.com" });
    const result = await sso.signInWithSso(prisma, oidc, await claimsFor("intruder", { preferred_username: "root", email: "root@example.com" }), META);
    expect(result.user.id).not.toBe(local.id);
    expect(result.user).toMatchObject({ username: "root-oidc", role: "viewer" });
    expect((await prisma.user.findUniqueOrThrow({ where: { id: result.user.id } })).email).toBeNull();
    expect(await prisma.externalIdentity.count({ where: { userId: local.id } })).toBe(0);
  });

  test("a disabled user is refused and gets no tokens", async () => {
    const first = await sso.signInWithSso(prisma, oidc, await claimsFor("leaver", { preferred_username: "leaver" }), META);
    await prisma.user.update({ where: { id: first.user.id }, data: { disabled: true } });
    const tokensBefore = await prisma.refreshToken.count({ where: { userId: first.user.id } });
    const refused = await rejection(sso.signInWithSso(prisma, oidc, await claimsFor("leaver"), META));
    expect(refused.code).toBe("sso_account_disabled");
    expect(await prisma.refreshToken.count({ where: { userId: first.user.id } })).toBe(tokensBefore);
  });
});

describe("the sign-in flow", () => {
  const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

  /** Starts a sign-in as a browser would and returns the provider-bound URL and the attempt cookies. */
  async function begin(provider: string, query = "") {
    const res = await sso.beginSsoSignIn(prisma, new Request(`${PUBLIC_URL}/auth/sso/${provider}${query}`), provider, META);
    expect(res.status).toBe(302);
    return { url: new URL(res.headers.get("location")!), cookies: res.headers.getSetCookie() };
  }

  function callback(provider: string, params: Record<string, string>, cookies: string[]) {
    const request = new Request(`${PUBLIC_URL}/auth/sso/${provider}/callback?${new URLSearchParams(params)}`, { headers: { cookie: cookieHeader(cookies) } });
    return sso.completeSsoSignIn(prisma, request, provider, META);
  }

  async function failedLogins(reason: string) {
    return prisma.auditLog.count({ where: { action: "auth.login_failed", details: { path: ["reason"], equals: reason } } });
  }

  test("OIDC: PKCE, state and nonce round-trip, the code is exchanged, the user lands on redirectTo signed in", async () => {
    const { url, cookies } = await begin("oidc", "?redirectTo=%2Fjobs%3Fpage%3D2");
    expect(`${url.origin}${url.pathname}`).toBe(`${ISSUER}/protocol/openid-connect/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: `${PUBLIC_URL}/auth/sso/oidc/callback`,
      scope: "openid profile email",
      code_challenge_method: "S256",
    });
    const state = url.searchParams.get("state")!;
    const nonce = url.searchParams.get("nonce")!;
    expect(state.length).toBeGreaterThan(20);
    expect(nonce.length).toBeGreaterThan(20);
    for (const name of ["oc_sso_state", "oc_sso_verifier", "oc_sso_nonce", "oc_sso_next"]) {
      const cookie = cookies.find((c) => c.startsWith(`${name}=`));
      expect(cookie).toMatch(/; Path=\/auth\/sso\/oidc; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
    }
    expect(cookieValue(cookies, "oc_sso_state")).toBe(state);

    let exchanged: { form: URLSearchParams; authorization: string | null } | undefined;
    onToken = (form, request) => {
      exchanged = { form, authorization: request.headers.get("authorization") };
      return HttpResponse.json({ access_token: "provider-access-token", token_type: "Bearer", id_token: signJwt(idClaims({ sub: "flow-user", nonce, preferred_username: "flow", groups: ["ops-team"] })) });
    };
    const res = await callback("oidc", { code: "the-code", state }, cookies);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/jobs?page=2");
    expect(exchanged!.form.get("grant_type")).toBe("authorization_code");
    expect(exchanged!.form.get("code")).toBe("the-code");
    expect(exchanged!.form.get("redirect_uri")).toBe(`${PUBLIC_URL}/auth/sso/oidc/callback`);
    expect(s256(exchanged!.form.get("code_verifier")!)).toBe(url.searchParams.get("code_challenge"));
    expect(exchanged!.authorization).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`);

    const set = res.headers.getSetCookie();
    for (const name of ["oc_access", "oc_refresh", "oc_csrf"]) expect(cookieValue(set, name)).toBeTruthy();
    for (const name of ["oc_sso_state", "oc_sso_verifier", "oc_sso_nonce", "oc_sso_next"]) expect(set.find((c) => c.startsWith(`${name}=`))).toMatch(/Max-Age=0/);
    const identity = await prisma.externalIdentity.findUniqueOrThrow({ where: { provider_subject: { provider: "oidc", subject: "flow-user" } }, include: { user: true } });
    expect(identity.user).toMatchObject({ username: "flow", role: "operator" });
  });

  test("Entra ID: Microsoft's endpoints for the tenant, app roles mapped", async () => {
    const { url, cookies } = await begin("entra");
    expect(`${url.origin}${url.pathname}`).toBe(`${ENTRA}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get("client_id")).toBe(ENTRA_CLIENT_ID);
    expect(url.searchParams.get("redirect_uri")).toBe(`${PUBLIC_URL}/auth/sso/entra/callback`);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const nonce = url.searchParams.get("nonce")!;
    onToken = () =>
      HttpResponse.json({
        access_token: "graph-token",
        token_type: "Bearer",
        id_token: signJwt({ iss: `${ENTRA}/v2.0`, aud: ENTRA_CLIENT_ID, sub: "entra-sub-1", tid: TENANT, iat: now(), exp: now() + 3600, nonce, preferred_username: "ana@contoso.example", name: "Ana", roles: ["OpsConductor.Admin"] }, { key: entraKey.privateKey, kid: entraKey.kid }),
      });
    const res = await callback("entra", { code: "entra-code", state: url.searchParams.get("state")! }, cookies);
    expect(res.headers.get("location")).toBe("/");
    const identity = await prisma.externalIdentity.findUniqueOrThrow({ where: { provider_subject: { provider: "entra", subject: "entra-sub-1" } }, include: { user: true } });
    expect(identity.user).toMatchObject({ username: "ana@contoso.example", role: "admin", displayName: "Ana" });
    expect(await prisma.auditLog.count({ where: { action: "auth.login", entityId: identity.userId, details: { equals: { method: "sso", provider: "entra" } } } })).toBe(1);
  });

  test("every failure lands on /login?error=<code> without tokens and is audited", async () => {
    const expectFailure = async (res: Response, code: string) => {
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`/login?error=${code}`);
      expect(res.headers.getSetCookie().filter((c) => c.startsWith("oc_access="))).toEqual([]);
      expect(await failedLogins(code)).toBeGreaterThan(0);
    };
    const issue = (claims: Record<string, unknown>) => () => HttpResponse.json({ access_token: "a", token_type: "Bearer", id_token: signJwt(claims) });

    const a = await begin("oidc");
    await expectFailure(await callback("oidc", { code: "c", state: "not-the-state" }, a.cookies), "sso_expired");
    await expectFailure(await callback("oidc", { code: "c", state: a.url.searchParams.get("state")! }, []), "sso_expired");
    await expectFailure(await callback("oidc", { error: "access_denied", error_description: "The user cancelled" }, a.cookies), "sso_denied");
    expect(await prisma.auditLog.findFirst({ where: { action: "auth.login_failed", details: { path: ["reason"], equals: "sso_denied" } } })).toMatchObject({ summary: expect.stringContaining("The user cancelled") });

    onToken = () => HttpResponse.json({ error: "invalid_grant", error_description: "code expired" }, { status: 400 });
    await expectFailure(await callback("oidc", { code: "c", state: a.url.searchParams.get("state")! }, a.cookies), "sso_failed");

    const nonce = a.url.searchParams.get("nonce")!;
    onToken = issue(idClaims({ nonce, aud: "someone-else" }));
    await expectFailure(await callback("oidc", { code: "c", state: a.url.searchParams.get("state")! }, a.cookies), "sso_invalid_token");
    onToken = issue(idClaims({ nonce: "another-attempt" }));
    const before = await failedLogins("sso_invalid_token");
    await expectFailure(await callback("oidc", { code: "c", state: a.url.searchParams.get("state")! }, a.cookies), "sso_invalid_token");
    // The same failure from the same address again: counted in the same row, whose summary is the latest.
    expect(await failedLogins("sso_invalid_token")).toBe(before);
    expect(await prisma.auditLog.findFirst({ where: { action: "auth.login_failed", details: { path: ["reason"], equals: "sso_invalid_token" } } })).toMatchObject({ details: { count: 2 }, summary: expect.stringMatching(/nonce.*\(2 times since/) });

    const leaver = await sso.signInWithSso(prisma, { id: "oidc", name: "Acme SSO" }, await sso.verifyIdToken(signJwt(idClaims({ sub: "gone", preferred_username: "gone" })), expectations), META);
    await prisma.user.update({ where: { id: leaver.user.id }, data: { disabled: true } });
    onToken = issue(idClaims({ nonce, sub: "gone" }));
    await expectFailure(await callback("oidc", { code: "c", state: a.url.searchParams.get("state")! }, a.cookies), "sso_account_disabled");
    expect(await prisma.auditLog.findFirst({ where: { action: "auth.login_failed", entityId: leaver.user.id } })).toMatchObject({ actorId: leaver.user.id, ip: META.ip });

    await expectFailure(await sso.beginSsoSignIn(prisma, new Request(`${PUBLIC_URL}/auth/sso/google`), "google", META), "sso_unknown_provider");
  });

  test("a flood of failing callbacks writes one audit row per address, reason and window, with a count", async () => {
    const flood = { ip: "198.51.100.99", userAgent: "flood" };
    for (let i = 0; i < 60; i++) {
      const res = await sso.completeSsoSignIn(prisma, new Request(`${PUBLIC_URL}/auth/sso/oidc/callback?code=c&state=s${i}`), "oidc", flood);
      expect(res.headers.get("location")).toBe("/login?error=sso_expired");
    }
    const rows = await prisma.auditLog.findMany({ where: { action: "auth.login_failed", ip: flood.ip } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({ reason: "sso_expired", count: 60 });
    // Another address gets its own row.
    await sso.completeSsoSignIn(prisma, new Request(`${PUBLIC_URL}/auth/sso/oidc/callback?code=c&state=s`), "oidc", { ip: "198.51.100.100", userAgent: "flood" });
    expect(await prisma.auditLog.count({ where: { action: "auth.login_failed", ip: { in: [flood.ip, "198.51.100.100"] } } })).toBe(2);
  });

  test("an error code on /login maps to a readable message; unknown codes are never echoed", () => {
    expect(sso.ssoErrorMessage("sso_account_disabled")).toBe("This account is disabled; ask an administrator.");
    expect(sso.ssoErrorMessage("<b>owned</b>")).toBe("Sign-in failed. Please try again.");
    expect(sso.ssoErrorMessage("toString")).toBe("Sign-in failed. Please try again.");
  });
});
