// Host patterns of credential usage policies, and the schema the API and the credential form
// validate them with. No Node.js built-ins, so a browser bundle can import it.
import { z } from "zod";

const IPV4_PART = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

function isIPv6(text: string): boolean {
  const zone = text.indexOf("%");
  // A zone index (fe80::1%eth0) names an interface; what follows % is not checked further.
  const address = zone === -1 ? text : text.slice(0, zone);
  if (zone !== -1 && !/^%[0-9a-zA-Z\-.:]+$/.test(text.slice(zone))) return false;
  const halves = address.split("::");
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === "" ? [] : half.split(":")));
  const all = groups.flat();
  // An embedded IPv4 address may only end the address (::ffff:10.0.0.1), never precede "::".
  const endsWithGroup = groups[groups.length - 1]!.length > 0;
  let count = 0;
  for (const [i, group] of all.entries()) {
    if (i === all.length - 1 && endsWithGroup && IPV4.test(group)) count += 2;
    else if (HEX_GROUP.test(group)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** 4 for an IPv4 address, 6 for an IPv6 address, 0 otherwise: the answers of Node's `net.isIP`. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  return isIPv6(text) ? 6 : 0;
}

/** Lower case, without IPv6 brackets or a trailing dot: the form every comparison uses. */
export function normalizeHost(host: string): string {
  let out = host.trim().toLowerCase();
  if (out.startsWith("[") && out.endsWith("]")) out = out.slice(1, -1);
  while (out.endsWith(".")) out = out.slice(0, -1);
  return out;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** True for a syntactically valid DNS host name. */
export const isHostName = (name: string) => name.length > 0 && name.length <= 253 && name.split(".").every((label) => LABEL.test(label));

/** A parsed host pattern. */
export type Parsed = { kind: "name"; name: string } | { kind: "wildcard"; suffix: string } | { kind: "network"; address: string; prefix: number; family: "ipv4" | "ipv6" };

/** Parses one pattern; a string says what is wrong with it. */
export function parsePattern(text: string): Parsed | string {
  const value = normalizeHost(text);
  const slash = value.indexOf("/");
  if (slash !== -1) {
    const address = value.slice(0, slash);
    const bits = value.slice(slash + 1);
    const version = ipVersion(address);
    if (version === 0) return "must be a CIDR range such as 10.0.0.0/8 or fd00::/8 (the part before / is not an IP address)";
    const max = version === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `has prefix length /${bits}; an IPv${version} range takes /0 to /${max}`;
    return { kind: "network", address, prefix: Number(bits), family: version === 4 ? "ipv4" : "ipv6" };
  }
  const version = ipVersion(value);
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

