// HTTPS for the web server: the certificate and key from TLS_CERT_FILE/TLS_KEY_FILE, or, with
// OPSCONDUCTOR_TLS=self-signed, a certificate this module makes once under the data folder (as the
// product it replaces did on first start). The X.509 encoding is small enough to write here with
// node:crypto, so no OpenSSL and no certificate library is needed at run time.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export interface TlsFiles {
  cert: string;
  key: string;
  /** Where they came from, for the start-up line. */
  source: string;
}

// --- DER, just what a certificate needs (ITU-T X.690) ---------------------------------------------

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const explicit = (n: number, inner: Buffer) => der(0xa0 + n, inner);
const octets = (value: Buffer) => der(0x04, value);
const utf8 = (value: string) => der(0x0c, Buffer.from(value, "utf8"));
const bool = (value: boolean) => der(0x01, Buffer.from([value ? 0xff : 0]));

function integer(value: Buffer): Buffer {
  // Two's complement: a leading 1 bit would make it negative.
  return der(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

// UTCTime covers 1950-2049; the certificates made here end well before that.
function utcTime(date: Date): Buffer {
  const iso = date.toISOString();
  return der(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`));
}

function ipBytes(address: string): Buffer {
  if (address.includes(":")) {
    const [head, tail = ""] = address.split("::");
    const left = head ? head.split(":") : [];
    const right = tail ? tail.split(":") : [];
    const groups = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  return Buffer.from(address.split(".").map(Number));
}

const OID = Object.freeze({
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
});

/** A self-signed ECDSA P-256 server certificate for `names` (DNS names and IP addresses), valid for `days`. */
export function createSelfSignedCertificate(names: string[], days = 825, now = new Date()): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const name = seq(set(seq(oid(OID.commonName), utf8(`OpsConductor (${names[0] ?? "localhost"}), self-signed`))));
  const altNames = names.map((n) => (/^[\d.]+$/.test(n) || n.includes(":") ? der(0x87, ipBytes(n)) : der(0x82, Buffer.from(n, "ascii"))));
  const extensions = seq(
    seq(oid(OID.subjectAltName), octets(seq(...altNames))),
    seq(oid(OID.basicConstraints), bool(true), octets(seq())),
    // digitalSignature only: an ECDHE key exchange signs with the certificate's key.
    seq(oid(OID.keyUsage), bool(true), octets(der(0x03, Buffer.from([0x07, 0x80])))),
    seq(oid(OID.extKeyUsage), octets(seq(oid(OID.serverAuth)))),
  );
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name,
    seq(utcTime(new Date(now.getTime() - 60_000)), utcTime(new Date(now.getTime() + days * 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = seq(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = `-----BEGIN CERTIFICATE-----\n${certificate.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END CERTIFICATE-----\n`;
  return { cert: pem, key: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

/**
 * The self-signed certificate under `dataDir`/tls, made on first use and made again when it has
 * expired (or expires within a day). The key is written with mode 0600.
 */
export function selfSignedFiles(dataDir: string, now = new Date()): TlsFiles {
  const dir = join(dataDir, "tls");
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, "utf8");
    const key = readFileSync(keyPath, "utf8");
    if (new Date(new X509Certificate(cert).validTo).getTime() > now.getTime() + 86_400_000) return { cert, key, source: `self-signed certificate ${certPath}` };
  }
  const made = createSelfSignedCertificate(["localhost", hostname(), "127.0.0.1", "::1"], 825, now);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, made.key, { mode: 0o600 });
  writeFileSync(certPath, made.cert, { mode: 0o644 });
  return { ...made, source: `self-signed certificate ${certPath} (new)` };
}

/** Reads and checks TLS_CERT_FILE and TLS_KEY_FILE; a problem is an error naming the variable. */
export function certificateFiles(certFile: string, keyFile: string): TlsFiles {
  const read = (path: string, variable: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(`${variable}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const cert = read(certFile, "TLS_CERT_FILE");
  const key = read(keyFile, "TLS_KEY_FILE");
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`TLS_CERT_FILE: ${certFile} is not a PEM certificate: ${(error as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // Never echo the key file's content or the parser's view of it.
    throw new Error(`TLS_KEY_FILE: ${keyFile} is not an unencrypted PEM private key`);
  }
  if (!parsed.checkPrivateKey(privateKey)) throw new Error(`TLS_KEY_FILE: ${keyFile} is not the key of the certificate in TLS_CERT_FILE`);
  return { cert, key, source: `certificate ${certFile}` };
}
