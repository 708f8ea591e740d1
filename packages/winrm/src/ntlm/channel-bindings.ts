import { createHash } from "node:crypto";

// Reads one DER TLV header; returns the content range.
function tlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at] as number;
  let len = der[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] as number);
    start += n;
  }
  return { tag, start, end: start + len };
}

// Signature algorithm OIDs (DER content, hex) whose hash is stronger than SHA-256.
const SHA384 = new Set(["2a864886f70d01010c", "2a8648ce3d040303"]);
const SHA512 = new Set(["2a864886f70d01010d", "2a8648ce3d040304"]);

/** Picks the tls-server-end-point hash (RFC 5929 4.1): the certificate's signature hash, with MD5/SHA-1 raised to SHA-256. */
export function certificateHashAlgorithm(certDer: Buffer): "sha256" | "sha384" | "sha512" {
  try {
    const cert = tlv(certDer, 0);
    const tbs = tlv(certDer, cert.start);
    const algId = tlv(certDer, tbs.end);
    const oid = tlv(certDer, algId.start);
    if (oid.tag !== 0x06) return "sha256";
    const hex = certDer.subarray(oid.start, oid.end).toString("hex");
    if (SHA384.has(hex)) return "sha384";
    if (SHA512.has(hex)) return "sha512";
  } catch {
    // A certificate we cannot read falls back to SHA-256, which nearly every server certificate uses.
  }
  return "sha256";
}

/**
 * Builds the MsvAvChannelBindings value for a TLS peer certificate: the MD5 of a gss_channel_bindings_struct
 * (RFC 2744) with zero addresses and application data "tls-server-end-point:" + certificate hash.
 */
export function channelBindingsHash(peerCertificateDer: Buffer): Buffer {
  const certHash = createHash(certificateHashAlgorithm(peerCertificateDer)).update(peerCertificateDer).digest();
  const appData = Buffer.concat([Buffer.from("tls-server-end-point:", "latin1"), certHash]);
  const struct = Buffer.alloc(20 + appData.length);
  // initiator addrtype+length, acceptor addrtype+length all zero; then application data length + bytes.
  struct.writeUInt32LE(appData.length, 16);
  appData.copy(struct, 20);
  return createHash("md5").update(struct).digest();
}
