// The "test connection" check of a target: an authenticated WinRM Identify and `hostname`, with a
// hint for each way it can fail, stored as the target's last test.
import { SecretDecryptionError } from "@opsconductor/core";
import { credentialUseRefusal, type PrismaClient } from "@opsconductor/db";
import * as WinRMModule from "@opsconductor/winrm";
import type { Audit } from "../audit/audit.server.ts";
import { decryptCredentialSecret } from "../credentials/keyring.server.ts";
import { ApiError, notFound } from "../errors.server.ts";
import { policyRefusalAudit } from "./credential-policy.server.ts";
import { deniedAddress, destinationRules, guardedLookup, type DestinationRules } from "./destinations.server.ts";

/** The outcome of a connection test, as the API answers it. */
export type ConnectionTestResult = { ok: true; latencyMs: number; hostname: string } | { ok: false; error: string; hint: string; latencyMs?: number };

type WinRM = typeof WinRMModule;

const loadWinRM = async (): Promise<WinRM> => WinRMModule;

class TestFailure extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

// Each hint says where to look first; the WinRM error's own message carries the details.
function hintFor(winrm: WinRM, error: unknown, target: { port: number; winrmTransport: string; winrmAuth: string; hostname: string }): string {
  const { WinRMAuthError, WinRMConnectionError, WinRMFaultError, WinRMHttpError, WinRMTimeoutError } = winrm;
  const where = `${target.winrmTransport.toUpperCase()} port ${target.port}`;
  if (error instanceof TestFailure) return error.hint;
  if (error instanceof WinRMAuthError) {
    return `The host refused the credential: check the credential's user name, password and domain (PUT /api/credentials/{id} with a new secret), and that ${target.winrmAuth === "ntlm" ? "Negotiate" : "Basic"} auth is enabled on the listener.`;
  }
  if (error instanceof WinRMTimeoutError) return `No answer in time: check that ${target.hostname} is up and that no firewall silently drops ${where}.`;
  if (error instanceof WinRMConnectionError) {
    switch (error.code) {
      case "ECONNREFUSED":
        return `Nothing accepted the connection: check that the WinRM service has a ${target.winrmTransport.toUpperCase()} listener on port ${target.port} (winrm quickconfig; winrm enumerate winrm/config/listener) and that the firewall allows TCP ${target.port}.`;
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `The host name ${target.hostname} does not resolve: check the name and DNS, or use the IP address.`;
      case "EDESTINATIONDENIED":
        return "Connection tests may not reach this address (CONNECTION_TEST_DENY); an admin can list it in CONNECTION_TEST_ALLOW.";
      default:
        if (error.code && /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/i.test(error.code)) {
          return "The listener's TLS certificate is not trusted: add its issuing CA as winrm.caCertificate, or connect by the name in the certificate.";
        }
        return `Check that ${target.hostname} is reachable on ${where} and that the transport (http/https) matches the listener.`;
    }
  }
  if (error instanceof WinRMHttpError) return `The listener answered HTTP ${error.status}: check the port, the transport and the listener's settings (AllowUnencrypted, auth methods).`;
  if (error instanceof WinRMFaultError) return "The host answered with a WS-Management fault: the error text says what to change on the Windows side.";
  return "Check the target's WinRM settings and the WinRM service's event log (Microsoft-Windows-WinRM/Operational) on the host.";
}

/**
 * Connects to a target with its credential: an authenticated Identify, then `hostname` in cmd.exe.
 * Stores the outcome as the target's last test and audits it; failures answer ok: false with a hint.
 * A target outside its credential's usage policy, or at an address connection tests may not reach,
 * is a 403 (audited) and nothing is sent.
 */
export async function testTargetConnection(prisma: PrismaClient, id: string, audit: Audit, rules: DestinationRules = destinationRules()): Promise<ConnectionTestResult> {
  const target = await prisma.target.findUnique({ where: { id }, include: { credential: true } });
  if (!target) throw notFound("target");
  if (target.os !== "windows") throw new ApiError(409, "not_windows", `target ${target.name} is a ${target.os} target; the WinRM test is for Windows targets`);
  // Checked again here, not only when the target was saved: the row may have changed since.
  const refusal = target.credential ? credentialUseRefusal(target.credential, target) : undefined;
  if (target.credential && refusal) {
    await audit(policyRefusalAudit(target.credential, target, "target.test_winrm", refusal), prisma);
    throw new ApiError(403, "credential_policy", refusal, { details: [{ path: "params.id", message: refusal }] });
  }
  const winrm = await loadWinRM();
  let result: ConnectionTestResult;
  let password: string | undefined;
  const started = performance.now();
  try {
    const credential = target.credential;
    if (!credential) throw new TestFailure(`target ${target.name} has no credential`, "Attach a winrm credential to the target (credentialId), then test again.");
    if (!credential.username) throw new TestFailure(`credential ${credential.name} has no user name`, "Set the credential's username (and domain, for a domain account).");
    let secret;
    try {
      secret = decryptCredentialSecret(credential);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new TestFailure(`the secret of credential ${credential.name} cannot be decrypted: ${error.message}`, "Configure the master key it was sealed with in OPSCONDUCTOR_MASTER_KEY, or store the secret again.");
    }
    if (!("password" in secret)) throw new TestFailure(`credential ${credential.name} holds no password`, "WinRM signs in with a password: use a winrm credential.");
    password = secret.password;
    const address = await deniedAddress(target.hostname, rules);
    if (address) {
      const message = `connection tests may not reach ${target.hostname}${address === target.hostname ? "" : ` (${address})`}: the address is in CONNECTION_TEST_DENY; an admin can list it in CONNECTION_TEST_ALLOW`;
      await audit({ action: "target.test_winrm_denied", entityType: "target", entityId: id, summary: `refused to test target ${target.name}: ${message}`, details: { hostname: target.hostname, address } }, prisma);
      throw new ApiError(403, "destination_denied", message, { details: [{ path: "params.id", message }] });
    }
    const client = new winrm.WinRMClient({
      lookup: guardedLookup(rules),
      host: target.hostname,
      port: target.port,
      transport: target.winrmTransport,
      auth: target.winrmAuth,
      username: credential.username,
      password: secret.password,
      ...(credential.domain ? { domain: credential.domain } : {}),
      ...(target.winrmCaCertificate ? { ca: target.winrmCaCertificate } : {}),
      rejectUnauthorized: target.winrmRejectUnauthorized,
      allowUnencrypted: target.winrmAllowUnencrypted,
      connectTimeoutSec: 10,
      operationTimeoutSec: 15,
    });
    try {
      await client.identify();
      const out = await client.runCmd("hostname", [], { timeoutSec: 30 });
      if (out.exitCode !== 0) throw new TestFailure(`hostname exited with code ${out.exitCode}: ${out.stderr.trim().slice(0, 300)}`, "The connection works but cmd.exe failed: check the user's rights on the host.");
      result = { ok: true, latencyMs: Math.round(performance.now() - started), hostname: out.stdout.trim() };
    } finally {
      await client.close().catch(() => undefined);
    }
  } catch (error) {
    if (!(error instanceof TestFailure || error instanceof winrm.WinRMError)) throw error;
    const raw = error.message;
    // Belt and braces: no error text may carry the password, whatever produced it.
    const message = password ? raw.split(password).join("[redacted]") : raw;
    result = { ok: false, error: message.slice(0, 1000), hint: hintFor(winrm, error, target), latencyMs: Math.round(performance.now() - started) };
  }
  await prisma.$transaction(async (tx) => {
    await tx.target.update({
      where: { id },
      data: {
        lastTestAt: new Date(),
        lastTestOk: result.ok,
        lastTestLatencyMs: result.latencyMs ?? null,
        lastTestMessage: result.ok ? `connected; hostname ${result.hostname}` : result.error,
      },
    });
    await audit(
      {
        action: "target.test_winrm",
        entityType: "target",
        entityId: id,
        summary: result.ok ? `WinRM test of ${target.name} succeeded (${result.latencyMs} ms)` : `WinRM test of ${target.name} failed`,
        details: result.ok ? { ok: true, latencyMs: result.latencyMs, hostname: result.hostname } : { ok: false, error: result.error },
      },
      tx,
    );
  });
  return result;
}
