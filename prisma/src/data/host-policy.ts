// Where a credential may be sent, and which addresses a connection test may reach: the one
// implementation of host patterns and CIDR ranges that the web app and the worker both enforce.
import { createHash } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { isHostName, normalizeHost, parsePattern, type Parsed } from "./host-patterns.ts";

function networkList(entries: Parsed[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) if (entry.kind === "network") list.addSubnet(entry.address, entry.prefix, entry.family);
  return list;
}

// BlockList's check matches IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) against IPv4 ranges too.
function inNetworks(list: BlockList, address: string): boolean {
  const version = isIP(address);
  return version !== 0 && list.check(address, version === 4 ? "ipv4" : "ipv6");
}

/**
 * True when `host` matches one of `patterns`. Names compare case-insensitively without a trailing
 * dot; `*.corp.example` matches any name below corp.example (not corp.example itself); IP addresses
 * and CIDR ranges match only a host that is a literal IP address, never a name that resolves to one.
 */
export function hostMatchesPolicy(host: string, patterns: readonly string[]): boolean {
  const value = normalizeHost(host);
  const parsed = patterns.map(parsePattern).filter((p): p is Parsed => typeof p !== "string");
  if (isIP(value) !== 0) return inNetworks(networkList(parsed), value);
  if (!isHostName(value)) return false;
  return parsed.some((p) => (p.kind === "name" ? p.name === value : p.kind === "wildcard" ? value.endsWith(`.${p.suffix}`) : false));
}

/** The settings that decide where a target's credential is sent and how. */
export interface TargetConnection {
  credentialId: string | null;
  hostname: string;
  port: number;
  winrmTransport: string;
  winrmAuth: string;
  winrmAllowUnencrypted: boolean;
  winrmCaCertificate: string | null;
  winrmRejectUnauthorized: boolean;
}

/**
 * A digest of a target's connection settings, stored when an admin binds a credential outside its
 * policy: the approval holds only while the target still points exactly where the admin pointed it.
 */
export function connectionFingerprint(target: TargetConnection): string {
  const fields = [
    target.credentialId,
    normalizeHost(target.hostname),
    target.port,
    target.winrmTransport,
    target.winrmAuth,
    target.winrmAllowUnencrypted,
    target.winrmCaCertificate,
    target.winrmRejectUnauthorized,
  ];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

/** True when two targets' connection settings differ in anything that decides where the secret goes. */
export function connectionChanged(a: TargetConnection, b: TargetConnection): boolean {
  return connectionFingerprint(a) !== connectionFingerprint(b);
}

/**
 * Checks that a target may receive its credential's secret: its host matches the credential's
 * usage policy, or an admin approved exactly these connection settings. Returns the refusal message,
 * or undefined when the use is allowed.
 */
export function credentialUseRefusal(credential: { name: string; usagePolicy: readonly string[] }, target: TargetConnection & { credentialApproval: string | null }): string | undefined {
  if (hostMatchesPolicy(target.hostname, credential.usagePolicy)) return undefined;
  if (target.credentialApproval !== null && target.credentialApproval === connectionFingerprint(target)) return undefined;
  return credentialPolicyMessage(credential.name, target.hostname, credential.usagePolicy.length === 0);
}

/** The refusal text shared by the API's 403 and the worker's failed step. */
export function credentialPolicyMessage(credentialName: string, host: string, emptyPolicy: boolean): string {
  return emptyPolicy
    ? `credential ${credentialName} may not be used against host ${host}: its usage policy is empty, so only an admin may bind it to a target`
    : `credential ${credentialName} may not be used against host ${host}: the host is outside the credential's usage policy (an admin may extend the policy or bind it)`;
}

/** A parsed list of IP addresses and CIDR ranges, e.g. the connection test's deny and allow lists. */
export interface NetworkList {
  /** The entries as given (normalized). */
  readonly entries: readonly string[];
  /** True when `address` (a literal IP) lies in one of the ranges. */
  has(address: string): boolean;
}

/** Parses a comma-separated list of IP addresses and CIDR ranges; throws naming the bad entry. */
export function parseNetworkList(value: string, variable: string): NetworkList {
  const entries = value
    .split(",")
    .map((e) => normalizeHost(e))
    .filter(Boolean);
  const parsed = entries.map((entry) => {
    const result = parsePattern(entry);
    if (typeof result === "string" || result.kind !== "network") {
      throw new Error(`${variable}: "${entry}" is not an IP address or CIDR range (such as 169.254.0.0/16 or fe80::/10)`);
    }
    return result;
  });
  const list = networkList(parsed);
  return Object.freeze({ entries: Object.freeze(entries), has: (address: string) => inNetworks(list, normalizeHost(address)) });
}
