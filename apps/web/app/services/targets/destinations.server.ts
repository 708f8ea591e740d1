// Which addresses the web process itself may connect to on a user's behalf (the WinRM connection
// test). Without a limit, anyone allowed to test a target could make the web server reach its own
// database, loopback-only services or the cloud metadata endpoint.
import { lookup as dnsLookup } from "node:dns";
import { lookup as lookupAll } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { normalizeHost, type NetworkList } from "@opsconductor/db";
import { env } from "../../env.server.ts";

/** The deny list and its exceptions (CONNECTION_TEST_DENY, CONNECTION_TEST_ALLOW). */
export interface DestinationRules {
  deny: NetworkList;
  allow: NetworkList;
}

export function destinationRules(): DestinationRules {
  const config = env();
  return { deny: config.CONNECTION_TEST_DENY, allow: config.CONNECTION_TEST_ALLOW };
}

const denied = (rules: DestinationRules, address: string) => rules.deny.has(address) && !rules.allow.has(address);

/** Thrown at connect time when a name resolves to a denied address (e.g. it changed since the check). */
export class DestinationDenied extends Error {
  readonly code = "EDESTINATIONDENIED";
  readonly address: string;
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, which connection tests may not reach (CONNECTION_TEST_DENY)`);
    this.name = "DestinationDenied";
    this.address = address;
  }
}

/**
 * The first denied address `host` is or resolves to, or undefined when every address is allowed.
 * A name that does not resolve is not refused here: the connection attempt reports it.
 */
export async function deniedAddress(host: string, rules: DestinationRules): Promise<string | undefined> {
  const name = normalizeHost(host);
  if (isIP(name) !== 0) return denied(rules, name) ? name : undefined;
  let addresses: { address: string }[];
  try {
    addresses = await lookupAll(name, { all: true, verbatim: true });
  } catch {
    return undefined;
  }
  return addresses.find((a) => denied(rules, a.address))?.address;
}

/**
 * A resolver for the WinRM client that refuses denied addresses when the connection is made, so a
 * name re-pointed between the check and the connect (DNS rebinding) still reaches nothing denied.
 */
export function guardedLookup(rules: DestinationRules): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 4);
      const bad = addresses.find((a) => denied(rules, a.address));
      if (bad) return callback(Object.assign(new DestinationDenied(hostname, bad.address), { hostname }), "", 4);
      if (options.all) return (callback as unknown as (e: null, all: typeof addresses) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
