// A self-signed X.509 v3 certificate for the HTTPS listener, built with node:crypto and a minimal
// DER writer (ITU-T X.690) so the test server needs no openssl binary. ECDSA P-256 keys make
// generation instant; the signature uses SHA-256, which is also what tls-server-end-point channel
// bindings hash with (RFC 5929 4.1).
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const part of parts.slice(2)) {
    const groups: number[] = [];
    let v = part;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i] = (groups[i] ?? 0) | 0x80;
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

function positiveInteger(bytes: Buffer): Buffer {
  const trimmed = Buffer.from(bytes);
  trimmed[0] = (trimmed[0] ?? 0) & 0x7f;
  if (trimmed[0] === 0) trimmed[0] = 1;
  return tlv(0x02, trimmed);
}

function utcTime(date: Date): Buffer {
  const two = (n: number): string => String(n).padStart(2, "0");
  const text = `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(text, "ascii"));
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid("2.5.4.3"), tlv(0x0c, Buffer.from(commonName, "utf8")))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

function ipBytes(ip: string): Buffer | undefined {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (v4) return Buffer.from(v4.slice(1).map(Number));
  if (ip === "::1") return Buffer.concat([Buffer.alloc(15), Buffer.from([1])]);
  return undefined;
}

/** A generated key and self-signed certificate, both PEM. */
export interface SelfSignedCertificate {
  key: string;
  cert: string;
  /** The certificate in DER form (what tls-server-end-point channel bindings hash). */
  der: Buffer;
}

/** Creates a self-signed server certificate valid for the given host names and IP addresses. */
export function createSelfSignedCertificate(opts: { commonName?: string; dnsNames?: string[]; ipAddresses?: string[]; validDays?: number } = {}): SelfSignedCertificate {
  const commonName = opts.commonName ?? "localhost";
  const dnsNames = opts.dnsNames ?? ["localhost"];
  const ipAddresses = opts.ipAddresses ?? ["127.0.0.1", "::1"];
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"));
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + (opts.validDays ?? 30) * 24 * 60 * 60 * 1000);
  const altNames = sequence(
    ...dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, "ascii"))),
    ...ipAddresses.flatMap((ip) => {
      const bytes = ipBytes(ip);
      return bytes ? [tlv(0x87, bytes)] : [];
    }),
  );
  const extensions = tlv(
    0xa3,
    sequence(
      extension("2.5.29.19", true, sequence(tlv(0x01, Buffer.from([0xff])))),
      // digitalSignature | keyCertSign: it signs its own certificate and the TLS handshake.
      extension("2.5.29.15", true, tlv(0x03, Buffer.from([0x02, 0x84]))),
      extension("2.5.29.37", false, sequence(oid("1.3.6.1.5.5.7.3.1"))),
      extension("2.5.29.17", false, altNames),
    ),
  );
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    positiveInteger(randomBytes(16)),
    ecdsaWithSha256,
    name(commonName),
    sequence(utcTime(notBefore), utcTime(notAfter)),
    name(commonName),
    publicKey.export({ type: "spki", format: "der" }),
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = sequence(tbs, ecdsaWithSha256, tlv(0x03, Buffer.from([0]), signature));
  const base64 = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    der,
  };
}
