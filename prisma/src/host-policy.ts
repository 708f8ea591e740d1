// Where a credential may be sent, and which addresses a connection test may reach: the one
// implementation of host patterns and CIDR ranges that the web app and the worker both enforce.
import { createHash } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { z } from "zod";

/** Lower case, without IPv6 brackets or a trailing dot: the form every comparison uses. */
export function normalizeHost(host: string): string {
  let out = host.trim().toLowerCase();
  if (out.startsWith("[") && out.endsWith("]")) out = out.slice(1, -1);
  while (out.endsWith(".")) out = out.slice(0, -1);
  return out;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const isHostName = (name: string) => name.length > 0 && name.length <= 253 && name.split(".").every((label) => LABEL.test(label));

type Parsed = { kind: "name"; name: string } | { kind: "wildcard"; suffix: string } | { kind: "network"; address: string; prefix: number; family: "ipv4" | "ipv6" };

/** Parses one pattern; a string says what is wrong with it. */
function parsePattern(text: string): Parsed | string {
  const value = normalizeHost(text);
  const slash = value.indexOf("/");
  if (slash !== -1) {
    const address = value.slice(0, slash);
    const bits = value.slice(slash + 1);
    const version = isIP(address);
    if (version === 0) return "must be a CIDR range such as 10.0.0.0/8 or fd00::/8 (the part before / is not an IP address)";
    const max = version === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `has prefix length /${bits}; an IPv${version} range takes /0 to /${max}`;
    return { kind: "network", address, prefix: Number(bits), family: version === 4 ? "ipv4" : "ipv6" };
  }
  const version = isIP(value);
  if (version !== 0) return { kind: "network", address: value, prefix: version === 4 ? 32 : 128, family: version === 4 ? "ipv4" : "ipv6" };
  if (value.startsWith("*.")) {
    const suffix = value.slice(2);
    if (!isHostName(suffix)) return "must be *. followed by a domain name, such as *.corp.example";
    return { kind: "wildcard", suffix };
  }
  if (value.includes("*")) return "may use * only as a whole first label (*.corp.example); to allow any host, an admin binds the credential";
  if (!isHostName(value)) return "must be a host name (web-01.corp.example), a wildcard (*.corp.example), an IP address or a CIDR range (10.0.0.0/8)";
  return { kind: "name", name: value };
}

/** Why a pattern is invalid, or undefined when it is valid. */
export function hostPatternProblem(pattern: string): string | undefined {
  const parsed = parsePattern(pattern);
  return typeof parsed === "string" ? parsed : undefined;
}

/** One entry of a credential usage policy: host name, `*.` wildcard, IP address or CIDR range. */
export const hostPatternSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(300)
  .superRefine((value, ctx) => {
    const problem = hostPatternProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .transform(normalizeHost);

/** A credential usage policy as the API takes it: where the credential may be sent; empty = admins bind it. */
export const credentialPolicySchema = z
  .array(hostPatternSchema)
  .max(200, "may list at most 200 patterns")
  .transform((patterns) => [...new Set(patterns)]);

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
