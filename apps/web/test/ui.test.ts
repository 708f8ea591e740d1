// The server-rendered pages over HTTP, as a browser without JavaScript uses them: sign-in form,
// signed-in dashboard, transparent token refresh, sign-out, and the SSO entry points.
import { createHmac, randomUUID } from "node:crypto";
import { createLocalUser as createUser } from "../app/services/auth/local-users.server.ts";
import { cookieHeader, cookieValue, startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";
import { navFor } from "../app/components/nav.ts";

const JWT_SECRET = "ui-test-access-token-signing-secret-0123456789";
const app = await startApp({ OPSCONDUCTOR_JWT_SECRET: JWT_SECRET, OIDC_ISSUER: "https://sso.invalid", OIDC_CLIENT_ID: "opsconductor-ui", OIDC_NAME: "Acme Login" });

const dana = await createUser(app.prisma, { username: "dana", password: "dana-password-1", role: "operator", displayName: "Dana Scully" });

interface PageResponse {
  status: number;
  location: string | null;
  cookies: string[];
  headers: Headers;
  html: string;
}

async function send(method: string, path: string, options: { cookie?: string; form?: Record<string, string> } = {}): Promise<PageResponse> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | undefined;
  if (options.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form).toString();
  }
  const res = await fetch(`${app.url}${path}`, { method, headers, body, redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), headers: res.headers, html: await res.text() };
}

async function signIn(username: string, password: string, redirectTo?: string) {
  return send("POST", "/login", { form: { username, password, ...(redirectTo === undefined ? {} : { redirectTo }) } });
}

// An access token exactly as the server signs them, for a given expiry.
function accessToken(user: { id: string; role: string }, expiresInSec: number): string {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify({ iss: "opsconductor", sub: user.id, role: user.role, tv: 0, iat: now - 3600, exp: now + expiresInSec, jti: randomUUID() })).toString("base64url");
  const signature = createHmac("sha256", JWT_SECRET).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

const testId = (html: string, id: string) => new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];

describe("signing in", () => {
  test("a page request without cookies is sent to /login, remembering a deeper local address", async () => {
    const root = await send("GET", "/");
    expect(root.status).toBe(302);
    expect(root.location).toBe("/login");
    const deeper = await send("GET", "/?tab=workers");
    expect(deeper.status).toBe(302);
    expect(deeper.location).toBe(`/login?redirectTo=${encodeURIComponent("/?tab=workers")}`);
  });

  test("the sign-in page is a plain form plus one button per configured SSO provider", async () => {
    const page = await send("GET", "/login?redirectTo=%2F%3Ftab%3Dworkers");
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<form method="post" action="\/login"/);
    expect(page.html).toMatch(/name="username"/);
    expect(page.html).toMatch(/name="password" type="password"/);
    expect(page.html).toContain('name="redirectTo" value="/?tab=workers"');
    expect(page.html).toContain(`href="/auth/sso/oidc?redirectTo=${encodeURIComponent("/?tab=workers")}"`);
    expect(page.html).toContain("Sign in with <!-- -->Acme Login");
    expect(page.html).not.toContain("/auth/sso/entra");
  });

  test("good credentials redirect to / with the auth cookies, and / then shows who is signed in", async () => {
    const res = await signIn("dana", "dana-password-1");
    expect(res.status).toBe(302);
    expect(res.location).toBe("/");
    for (const name of ["oc_access", "oc_refresh", "oc_csrf"]) expect(cookieValue(res.cookies, name)).toBeTruthy();
    expect(res.cookies.find((c) => c.startsWith("oc_access="))).toMatch(/HttpOnly/);

    const dashboard = await send("GET", "/", { cookie: cookieHeader(res.cookies) });
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get("cache-control")).toBe("no-store");
    expect(testId(dashboard.html, "display-name")).toBe("Dana Scully");
    expect(dashboard.html).toMatch(/\((<!-- -->)?operator(<!-- -->)?\)/);
    // An operator's dashboard: runs in progress, failures, upcoming schedules, workers (system status moved to /system).
    for (const panel of ["Runs in progress", "Recent failures", "Upcoming scheduled runs", "Workers online"]) expect(dashboard.html).toContain(panel);
    expect(dashboard.html).toMatch(/<a[^>]*href="\/"[^>]*>Dashboard<\/a>/);
    // The sign-out form echoes this browser's CSRF token.
    expect(dashboard.html).toContain(`name="csrf" value="${cookieValue(res.cookies, "oc_csrf")}"`);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.login", actorId: dana.id } })).toBeGreaterThan(0);
  });

  test("after sign-in the browser goes back to a local redirectTo, never to another site", async () => {
    expect((await signIn("dana", "dana-password-1", "/?tab=workers")).location).toBe("/?tab=workers");
    expect((await signIn("dana", "dana-password-1", "https://evil.example/")).location).toBe("/");
    expect((await signIn("dana", "dana-password-1", "//evil.example/path")).location).toBe("/");
    expect((await signIn("dana", "dana-password-1", "/\\evil.example")).location).toBe("/");
  });

  test("a signed-in visitor of /login goes straight on", async () => {
    const { cookies } = await signIn("dana", "dana-password-1");
    const res = await send("GET", "/login", { cookie: cookieHeader(cookies) });
    expect(res.status).toBe(302);
    expect(res.location).toBe("/");
  });

  test("a wrong password re-renders the form with the error and the username kept, setting no cookies", async () => {
    const res = await signIn("dana", "not-the-password");
    expect(res.status).toBe(401);
    expect(res.html).toContain('role="alert"');
    expect(res.html).toContain("Wrong username or password.");
    expect(res.html).toMatch(/name="username"[^>]*value="dana"/);
    expect(res.cookies.filter((c) => c.startsWith("oc_access="))).toEqual([]);
    const empty = await signIn("", "");
    expect(empty.status).toBe(400);
    expect(empty.html).toContain("Enter your username and password.");
  });

  test("after too many failures the form says how long to wait", async () => {
    await createUser(app.prisma, { username: "hasty", password: "hasty-password-1", role: "viewer" });
    // Three failures are free (LOGIN_FREE_FAILURES_PER_ACCOUNT); the next attempt right away must wait.
    for (let i = 0; i < 3; i++) expect((await signIn("hasty", `wrong-${i}`)).status).toBe(401);
    const locked = await signIn("hasty", "hasty-password-1");
    expect(locked.status).toBe(429);
    expect(locked.html).toMatch(/Too many failed sign-ins; try again in \d+ s\./);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(locked.cookies.filter((c) => c.startsWith("oc_access="))).toEqual([]);
  });
});

describe("sessions", () => {
  test("an expired access cookie with a valid refresh cookie still renders /, with new cookies", async () => {
    const signedIn = await signIn("dana", "dana-password-1");
    const refresh = cookieValue(signedIn.cookies, "oc_refresh")!;
    // Control: a token made this way is accepted while it is valid...
    const fresh = await send("GET", "/", { cookie: `oc_access=${accessToken(dana, 600)}` });
    expect(fresh.status).toBe(200);
    // ...and refused once expired, when there is nothing to refresh with.
    const expiredOnly = await send("GET", "/", { cookie: `oc_access=${accessToken(dana, -60)}` });
    expect(expiredOnly.status).toBe(302);
    expect(expiredOnly.location).toBe("/login");
    expect(expiredOnly.cookies.some((c) => c.startsWith("oc_access=;") && /Max-Age=0/.test(c))).toBe(true);

    const res = await send("GET", "/", { cookie: `oc_access=${accessToken(dana, -60)}; oc_refresh=${encodeURIComponent(refresh)}` });
    expect(res.status).toBe(200);
    expect(testId(res.html, "display-name")).toBe("Dana Scully");
    const newAccess = cookieValue(res.cookies, "oc_access");
    const newRefresh = cookieValue(res.cookies, "oc_refresh");
    expect(newAccess).toBeTruthy();
    expect(newRefresh).toBeTruthy();
    expect(newRefresh).not.toBe(refresh);
    // Both loaders of the page shared one refresh: the old token was spent once, its family lives on.
    expect(res.cookies.filter((c) => c.startsWith("oc_refresh="))).toHaveLength(1);
    expect(res.html).toContain(`name="csrf" value="${cookieValue(res.cookies, "oc_csrf")}"`);
    const again = await send("GET", "/", { cookie: cookieHeader(res.cookies) });
    expect(again.status).toBe(200);
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: newRefresh } })).status).toBe(200);
  });

  test("sign-out needs the form's CSRF token, then revokes the session and clears the cookies", async () => {
    const signedIn = await signIn("dana", "dana-password-1");
    const cookie = cookieHeader(signedIn.cookies);
    const refresh = cookieValue(signedIn.cookies, "oc_refresh")!;

    const forged = await send("POST", "/logout", { cookie, form: {} });
    expect(forged.status).toBe(403);
    expect(forged.cookies).toEqual([]);
    const wrong = await send("POST", "/logout", { cookie, form: { csrf: "x".repeat(32) } });
    expect(wrong.status).toBe(403);
    expect((await send("GET", "/", { cookie })).status).toBe(200);

    const res = await send("POST", "/logout", { cookie, form: { csrf: cookieValue(signedIn.cookies, "oc_csrf")! } });
    expect(res.status).toBe(302);
    expect(res.location).toBe("/login");
    for (const name of ["oc_access", "oc_refresh", "oc_csrf"]) {
      expect(res.cookies.find((c) => c.startsWith(`${name}=`))).toMatch(/^[a-z_]+=; .*Max-Age=0/);
    }
    expect((await app.request("POST", "/api/refresh", { body: { refreshToken: refresh } })).status).toBe(401);
    expect(await app.prisma.auditLog.count({ where: { action: "auth.logout", actorId: dana.id } })).toBe(1);
  });
});

describe("single sign-on entry points", () => {
  test("an unknown provider and a callback without this browser's attempt both land on /login with a message, audited", async () => {
    const unknown = await send("GET", "/auth/sso/github");
    expect(unknown.status).toBe(302);
    expect(unknown.location).toBe("/login?error=sso_unknown_provider");

    const stray = await send("GET", "/auth/sso/oidc/callback?code=abc&state=def");
    expect(stray.status).toBe(302);
    expect(stray.location).toBe("/login?error=sso_expired");
    const audit = await app.prisma.auditLog.findFirst({ where: { action: "auth.login_failed", details: { path: ["reason"], equals: "sso_expired" } } });
    expect(audit?.details).toMatchObject({ method: "sso", provider: "oidc", reason: "sso_expired" });
    expect(await app.prisma.auditLog.count({ where: { action: "auth.login_failed", details: { path: ["reason"], equals: "sso_unknown_provider" } } })).toBe(1);

    const page = await send("GET", "/login?error=sso_expired");
    expect(page.html).toContain("The sign-in attempt expired or was started in another browser window. Please try again.");
    const odd = await send("GET", "/login?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    expect(odd.html).toContain("Sign-in failed. Please try again.");
    expect(odd.html).not.toContain("alert(1)");
  });
});

test("the navigation shows only the sections a role may use", () => {
  const items = [{ to: "/", label: "Dashboard" }, { to: "/credentials", label: "Credentials", permission: "credentials:reference" as const }, { to: "/users", label: "Users", permission: "users:read" as const }];
  expect(navFor("admin", items).map((i) => i.label)).toEqual(["Dashboard", "Credentials", "Users"]);
  expect(navFor("operator", items).map((i) => i.label)).toEqual(["Dashboard", "Credentials"]);
  expect(navFor("viewer", items).map((i) => i.label)).toEqual(["Dashboard"]);
  expect(navFor("viewer").map((i) => i.to)).toEqual(["/", "/jobs", "/runs", "/schedules", "/targets", "/files", "/system", "/profile"]);
  expect(navFor("operator").map((i) => i.to)).toEqual(["/", "/jobs", "/runs", "/schedules", "/targets", "/credentials", "/files", "/system", "/profile"]);
  expect(navFor("admin").map((i) => i.to)).toEqual(["/", "/jobs", "/runs", "/schedules", "/targets", "/credentials", "/files", "/users", "/tokens", "/audit", "/system", "/profile"]);
});
