import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { credentialPolicySchema, hostPatternProblem, ipVersion, normalizeHost } from "./host-patterns.ts";
import { connectionFingerprint, credentialUseRefusal, hostMatchesPolicy, parseNetworkList, type TargetConnection } from "./host-policy.ts";
import { MIGRATIONS_DIR } from "../database/migrate.ts";

describe("hostMatchesPolicy", () => {
  test("exact names match case-insensitively, with or without a trailing dot", () => {
    expect(hostMatchesPolicy("WEB-01.Corp.Example", ["web-01.corp.example"])).toBe(true);
    expect(hostMatchesPolicy("web-01.corp.example.", ["WEB-01.CORP.EXAMPLE"])).toBe(true);
    expect(hostMatchesPolicy("web-01.corp.example", ["web-01.corp.example."])).toBe(true);
    expect(hostMatchesPolicy("web-02.corp.example", ["web-01.corp.example"])).toBe(false);
    expect(hostMatchesPolicy("web-01.corp.example.attacker.example", ["web-01.corp.example"])).toBe(false);
  });

  test("*. wildcards match names below the domain at any depth, not the domain itself or look-alikes", () => {
    const policy = ["*.corp.example"];
    expect(hostMatchesPolicy("web-01.corp.example", policy)).toBe(true);
    expect(hostMatchesPolicy("a.b.CORP.example.", policy)).toBe(true);
    expect(hostMatchesPolicy("corp.example", policy)).toBe(false);
    expect(hostMatchesPolicy("evilcorp.example", policy)).toBe(false);
    expect(hostMatchesPolicy("web.corp.example.evil", policy)).toBe(false);
  });

  test("CIDR ranges and addresses match literal IPv4 and IPv6 hosts only", () => {
    const policy = ["10.20.0.0/16", "fd00:1::/32", "192.0.2.7"];
    expect(hostMatchesPolicy("10.20.3.4", policy)).toBe(true);
    expect(hostMatchesPolicy("10.21.0.1", policy)).toBe(false);
    expect(hostMatchesPolicy("192.0.2.7", policy)).toBe(true);
    expect(hostMatchesPolicy("192.0.2.8", policy)).toBe(false);
    expect(hostMatchesPolicy("FD00:1::5", policy)).toBe(true);
    expect(hostMatchesPolicy("[fd00:1:0:0::9]", policy)).toBe(true);
    expect(hostMatchesPolicy("fd00:2::5", policy)).toBe(false);
    // An IPv4-mapped IPv6 address is the IPv4 address.
    expect(hostMatchesPolicy("::ffff:10.20.1.1", policy)).toBe(true);
    expect(hostMatchesPolicy("::1", ["::1"])).toBe(true);
    expect(hostMatchesPolicy("0:0:0:0:0:0:0:1", ["::1/128"])).toBe(true);
  });

  test("a host name never matches a CIDR range or an address, even one it may resolve to", () => {
    expect(hostMatchesPolicy("localhost", ["127.0.0.0/8", "::1"])).toBe(false);
    expect(hostMatchesPolicy("10.20.3.4.nip.io", ["10.20.0.0/16"])).toBe(false);
    // Not a literal IP (the resolver might read it as 127.0.0.1): a name, so no range covers it.
    expect(hostMatchesPolicy("127.1", ["127.0.0.0/8"])).toBe(false);
    // And a literal IP never matches a name pattern.
    expect(hostMatchesPolicy("10.0.0.1", ["*.0.0.1", "10.0.0.1.example"])).toBe(false);
  });

  test("an empty policy matches nothing", () => {
    expect(hostMatchesPolicy("web-01.corp.example", [])).toBe(false);
    expect(hostMatchesPolicy("10.0.0.1", [])).toBe(false);
  });
});

describe("pattern validation", () => {
  test("accepts names, wildcards, addresses and ranges; normalizes and de-duplicates", () => {
    expect(credentialPolicySchema.parse([" WEB-01.corp.example. ", "*.Corp.Example", "10.0.0.0/8", "[fd00::1]", "web-01.corp.example"])).toEqual([
      "web-01.corp.example",
      "*.corp.example",
      "10.0.0.0/8",
      "fd00::1",
    ]);
  });

  test("refuses what it cannot honour, saying why", () => {
    expect(hostPatternProblem("*")).toMatch(/only as a whole first label/);
    expect(hostPatternProblem("web*.corp.example")).toMatch(/only as a whole first label/);
    expect(hostPatternProblem("*.-corp")).toMatch(/\*\. followed by a domain name/);
    expect(hostPatternProblem("10.0.0.0/33")).toMatch(/\/0 to \/32/);
    expect(hostPatternProblem("fd00::/129")).toMatch(/\/0 to \/128/);
    expect(hostPatternProblem("corp.example/8")).toMatch(/not an IP address/);
    expect(hostPatternProblem("web-01:5985")).toMatch(/must be a host name/);
    expect(hostPatternProblem("a..b")).toMatch(/must be a host name/);
    const result = credentialPolicySchema.safeParse(["ok.example", "bad host"]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([1]);
  });
});

describe("credentialUseRefusal", () => {
  const target: TargetConnection & { credentialApproval: string | null } = {
    credentialId: randomUUID(),
    hostname: "win-07.other.example",
    port: 5985,
    winrmTransport: "http",
    winrmAuth: "ntlm",
    winrmAllowUnencrypted: false,
    winrmCaCertificate: null,
    winrmRejectUnauthorized: true,
    credentialApproval: null,
  };

  test("allows a host inside the policy and refuses one outside, naming credential and host", () => {
    expect(credentialUseRefusal({ name: "svc", usagePolicy: ["*.other.example"] }, target)).toBeUndefined();
    expect(credentialUseRefusal({ name: "svc", usagePolicy: ["*.corp.example"] }, target)).toBe(
      "credential svc may not be used against host win-07.other.example: the host is outside the credential's usage policy (an admin may extend the policy or bind it)",
    );
    expect(credentialUseRefusal({ name: "svc", usagePolicy: [] }, target)).toMatch(/usage policy is empty, so only an admin may bind it/);
  });

  test("an admin's approval holds only while every connection setting is what the admin approved", () => {
    const approved = { ...target, credentialApproval: connectionFingerprint(target) };
    expect(credentialUseRefusal({ name: "svc", usagePolicy: [] }, approved)).toBeUndefined();
    expect(credentialUseRefusal({ name: "svc", usagePolicy: [] }, { ...approved, hostname: "WIN-07.other.example." })).toBeUndefined();
    for (const change of [
      { hostname: "attacker.example" },
      { port: 80 },
      { winrmTransport: "https" },
      { winrmAuth: "basic" },
      { winrmAllowUnencrypted: true },
      { winrmCaCertificate: "-----BEGIN CERTIFICATE-----" },
      { winrmRejectUnauthorized: false },
      { credentialId: randomUUID() },
    ]) {
      expect(credentialUseRefusal({ name: "svc", usagePolicy: [] }, { ...approved, ...change }), JSON.stringify(change)).toMatch(/may not be used/);
    }
  });
});

describe("parseNetworkList", () => {
  test("matches addresses in the listed ranges, IPv4-mapped IPv6 included", () => {
    const list = parseNetworkList("127.0.0.0/8, ::1, 169.254.0.0/16,fe80::/10", "DENY");
    expect(list.entries).toEqual(["127.0.0.0/8", "::1", "169.254.0.0/16", "fe80::/10"]);
    for (const address of ["127.0.0.1", "127.9.9.9", "::1", "169.254.169.254", "fe80::1", "::ffff:127.0.0.1", "[::1]"]) expect(list.has(address), address).toBe(true);
    for (const address of ["10.0.0.1", "192.168.1.1", "2001:db8::1", "localhost"]) expect(list.has(address), address).toBe(false);
    expect(parseNetworkList("", "DENY").has("127.0.0.1")).toBe(false);
  });

  test("a host name or a bad range is an error naming the variable and the entry", () => {
    expect(() => parseNetworkList("127.0.0.0/8,localhost", "CONNECTION_TEST_DENY")).toThrow('CONNECTION_TEST_DENY: "localhost" is not an IP address or CIDR range');
    expect(() => parseNetworkList("10.0.0.0/40", "X")).toThrow('X: "10.0.0.0/40"');
  });
});

test("normalizeHost", () => {
  expect(normalizeHost(" Web-01.Corp.Example.. ")).toBe("web-01.corp.example");
  expect(normalizeHost("[FD00::1]")).toBe("fd00::1");
});

// Runs the real migration files, in order, on a database holding rows from before the policy existed.
test("the migration gives each existing credential the hosts its targets already use, so running installs keep working", async () => {
  const adminUrl = inject("postgresAdminUrl");
  const name = `policy_migration_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    await client.query(await readFile(join(MIGRATIONS_DIR, "20261126032115_init", "migration.sql"), "utf8"));
    const sealed = `'\\x00', '\\x00', '\\x00', '\\x00', 'k1'`;
    const [used, spare] = [randomUUID(), randomUUID()];
    await client.query(`INSERT INTO credentials (id, name, type, ciphertext, iv, auth_tag, wrapped_key, key_id, updated_at) VALUES ('${used}', 'used', 'winrm', ${sealed}, now()), ('${spare}', 'spare', 'winrm', ${sealed}, now())`);
    await client.query(
      `INSERT INTO targets (id, name, hostname, credential_id, updated_at) VALUES
        ('${randomUUID()}', 't1', 'WEB-01.corp.example.', '${used}', now()),
        ('${randomUUID()}', 't2', 'web-01.corp.example', '${used}', now()),
        ('${randomUUID()}', 't3', '[fd00::5]', '${used}', now()),
        ('${randomUUID()}', 't4', '10.0.0.9', '${used}', now()),
        ('${randomUUID()}', 't5', 'nobody.example', NULL, now())`,
    );
    await client.query(await readFile(join(MIGRATIONS_DIR, "20261201000100_credential_policy", "migration.sql"), "utf8"));
    const rows = (await client.query<{ name: string; usage_policy: string[] }>("SELECT name, usage_policy FROM credentials ORDER BY name")).rows;
    expect(rows).toEqual([
      { name: "spare", usage_policy: [] },
      { name: "used", usage_policy: ["10.0.0.9", "fd00::5", "web-01.corp.example"] },
    ]);
    const hosts = (await client.query<{ hostname: string }>("SELECT hostname FROM targets WHERE credential_id IS NOT NULL")).rows.map((r) => r.hostname);
    for (const host of hosts) expect(hostMatchesPolicy(host, rows[1]!.usage_policy), host).toBe(true);
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
});

describe("ipVersion (the browser-safe twin of node:net isIP used by the policy schema)", () => {
  const samples = [
    "10.0.0.1", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.04", "0.0.0.0", " 1.2.3.4", "1.2.3.4 ",
    "::", "::1", "1::", "fe80::1", "fe80::1%eth0", "fe80::1%", "fe80::1%a b", "2001:db8::8a2e:370:7334", "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "1::2::3", ":1:2", "1:2:", "::ffff:10.0.0.1", "::ffff:256.0.0.1", "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4", "g::1", "12345::", "[::1]", "web-01", "", "::1.2.3.4", "1.2.3.4::", "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
  ];
  test.each(samples)("%j gets the answer net.isIP gives", (sample) => {
    expect(ipVersion(sample)).toBe(isIP(sample));
  });

  test("agrees with net.isIP on random addresses and near-misses", () => {
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const hex = () => next(0x10000).toString(16).padStart(next(4) + 1, "0").slice(-(next(4) + 1));
    for (let i = 0; i < 5000; i++) {
      const groups = Array.from({ length: next(10) }, hex);
      if (next(3) === 0 && groups.length > 1) groups.splice(next(groups.length), 0, "");
      if (next(4) === 0) groups.push(Array.from({ length: 4 }, () => next(300)).join("."));
      const sample = next(5) === 0 ? Array.from({ length: next(6) }, () => next(300)).join(".") : groups.join(":");
      expect(ipVersion(sample), sample).toBe(isIP(sample));
    }
  });
});
