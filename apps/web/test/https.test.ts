// The web server speaks HTTPS itself: with a given certificate, or one it makes under the data folder.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@opsconductor/db/embedded";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";
import { parseWebEnv } from "../app/env.server.ts";
import { createSelfSignedCertificate } from "../tls.ts";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request that trusts only `ca`, so a wrong certificate fails the test. */
function secure(url: string, ca: string, options: { method?: string; body?: unknown; servername?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpsRequest(url, { method: options.method ?? "GET", ca, servername: options.servername, headers: body ? { "content-type": "application/json" } : {} }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function plain(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: "" }));
    });
    req.on("error", reject);
    req.end();
  });
}

const ADMIN = { username: "admin", password: PASSWORDS.admin };

describe("TLS_CERT_FILE and TLS_KEY_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "oc-tls-"));
  const { cert, key } = createSelfSignedCertificate(["localhost", "127.0.0.1"]);
  writeFileSync(join(dir, "cert.pem"), cert);
  writeFileSync(join(dir, "key.pem"), key, { mode: 0o600 });

  test("the server answers over HTTPS with the given certificate; cookies are Secure and HSTS is sent", async () => {
    const app = await startApp({ TLS_CERT_FILE: join(dir, "cert.pem"), TLS_KEY_FILE: join(dir, "key.pem") });
    const base = app.url.replace("http:", "https:");
    expect(app.output()).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+ with the certificate /);
    const health = await secure(`${base}/health`, cert);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok" });
    expect(health.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    const login = await secure(`${base}/api/login`, cert, { method: "POST", body: ADMIN });
    expect(login.status).toBe(200);
    const cookies = login.headers["set-cookie"] as string[];
    expect(cookies.map((c) => c.split("=")[0])).toEqual(["oc_access", "oc_refresh", "oc_csrf"]);
    for (const c of cookies) expect(c).toMatch(/; Secure/);
    // Plain HTTP on the HTTPS port gets nowhere near the app.
    await expect(plain(`${app.url}/health`).then((a) => a.status)).rejects.toThrow();
  });

  test("a missing half, an unreadable file or a key that does not fit stops the server with a message naming the variable", async () => {
    const base = { DATABASE_URL: "postgresql://ops:secret@db.example.internal:5432/ops", OPSCONDUCTOR_MASTER_KEY: Buffer.alloc(32, 1).toString("base64") };
    expect(() => parseWebEnv({ ...base, TLS_CERT_FILE: join(dir, "cert.pem") })).toThrow(/TLS_KEY_FILE: TLS_KEY_FILE must be set too/);
    expect(() => parseWebEnv({ ...base, TLS_KEY_FILE: join(dir, "key.pem") })).toThrow(/TLS_CERT_FILE: TLS_CERT_FILE must be set too/);
    expect(() => parseWebEnv({ ...base, OPSCONDUCTOR_TLS: "yes" })).toThrow(/OPSCONDUCTOR_TLS must be off or self-signed/);
    expect(() => parseWebEnv({ ...base, TLS_REDIRECT_PORT: "8080" })).toThrow(/TLS_REDIRECT_PORT redirects to HTTPS/);
    expect(() => parseWebEnv({ ...base, OPSCONDUCTOR_TLS: "self-signed", TLS_CERT_FILE: "a", TLS_KEY_FILE: "b" })).toThrow(/OPSCONDUCTOR_TLS=self-signed conflicts with TLS_CERT_FILE/);
    const other = createSelfSignedCertificate(["localhost"]);
    writeFileSync(join(dir, "other-key.pem"), other.key, { mode: 0o600 });
    await expect(startApp({ TLS_CERT_FILE: join(dir, "cert.pem"), TLS_KEY_FILE: join(dir, "other-key.pem") })).rejects.toThrow(/TLS_KEY_FILE: .* is not the key of the certificate in TLS_CERT_FILE/);
    await expect(startApp({ TLS_CERT_FILE: join(dir, "missing.pem"), TLS_KEY_FILE: join(dir, "key.pem") })).rejects.toThrow(/TLS_CERT_FILE: cannot read/);
  });
});

test("OPSCONDUCTOR_TLS=self-signed makes a certificate once under the data folder, keeps it, and TLS_REDIRECT_PORT redirects to HTTPS", { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "oc-data-"));
  const redirectPort = await freePort();
  const app = await startApp({ OPSCONDUCTOR_TLS: "self-signed", OPSCONDUCTOR_DATA_DIR: dataDir, TLS_REDIRECT_PORT: String(redirectPort) });
  const cert = readFileSync(join(dataDir, "tls", "cert.pem"), "utf8");
  expect(statSync(join(dataDir, "tls", "key.pem")).mode & 0o777).toBe(0o600);
  const base = app.url.replace("http:", "https:");
  const health = await secure(`${base}/health`, cert);
  expect(health.status).toBe(200);
  expect(health.headers["strict-transport-security"]).toMatch(/max-age=/);
  // The certificate names localhost as well as the loopback address.
  expect((await secure(`${base}/health`, cert, { servername: "localhost" })).status).toBe(200);
  const redirect = await plain(`http://127.0.0.1:${redirectPort}/login?redirectTo=%2Fjobs`);
  expect(redirect.status).toBe(308);
  expect(redirect.headers.location).toBe(`https://127.0.0.1:${new URL(app.url).port}/login?redirectTo=%2Fjobs`);
  // A second start keeps the same certificate.
  const again = await startApp({ OPSCONDUCTOR_TLS: "self-signed", OPSCONDUCTOR_DATA_DIR: dataDir });
  expect(readFileSync(join(dataDir, "tls", "cert.pem"), "utf8")).toBe(cert);
  expect((await secure(`${again.url.replace("http:", "https:")}/health`, cert)).status).toBe(200);
});
