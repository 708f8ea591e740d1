import type { NtlmSession } from "./session.ts";

const BOUNDARY = "Encrypted Boundary";
const PROTOCOL = "application/HTTP-SPNEGO-session-encrypted";

/** The Content-Type of an encrypted WinRM body (MS-WSMV 2.2.9.1.1.2.2). */
export const ENCRYPTED_CONTENT_TYPE = `multipart/encrypted;protocol="${PROTOCOL}";boundary="${BOUNDARY}"`;

/** Seals a SOAP body into WinRM's multipart/encrypted framing (MS-WSMV 2.2.9.1.1.2.2), in a buffer from `alloc`. */
export function encryptWinRMBody(session: NtlmSession, soap: Uint8Array, alloc: (size: number) => Buffer = Buffer.allocUnsafe): { body: Buffer; contentType: string } {
  const head =
    `--${BOUNDARY}\r\n\tContent-Type: ${PROTOCOL}\r\n` +
    `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${soap.length}\r\n` +
    `--${BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n`;
  const tail = `--${BOUNDARY}--\r\n`;
  // One buffer for the whole body: the envelope is sealed where it lies in it.
  const body = alloc(head.length + 4 + 16 + soap.length + tail.length);
  let at = body.write(head, 0, "latin1");
  at = body.writeUInt32LE(16, at);
  const sealed = body.subarray(at + 16, at + 16 + soap.length);
  sealed.set(soap);
  session.sealInPlace(sealed).copy(body, at);
  body.write(tail, at + 16 + soap.length, "latin1");
  return { body, contentType: ENCRYPTED_CONTENT_TYPE };
}

/** True when a Content-Type header announces WinRM's SPNEGO session encryption. */
export function isEncryptedContentType(contentType: string | undefined): boolean {
  return Boolean(contentType && /^multipart\/encrypted/i.test(contentType.trim()) && contentType.includes(PROTOCOL));
}

/** Unseals a WinRM multipart/encrypted body in place (returning the plaintext's part of `body`), throwing a descriptive error when the framing is malformed. */
export function decryptWinRMBody(session: NtlmSession, body: Buffer, contentType: string): Buffer {
  if (!isEncryptedContentType(contentType)) {
    throw new Error(`expected an encrypted WinRM body (multipart/encrypted; protocol="${PROTOCOL}"), got Content-Type "${contentType}"`);
  }
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1] ?? BOUNDARY;
  const marker = Buffer.from(`--${boundary}\r\n`, "latin1");
  const first = body.indexOf(marker);
  if (first < 0) throw new Error("malformed encrypted WinRM body: no opening boundary");
  const second = body.indexOf(marker, first + marker.length);
  if (second < 0) throw new Error("malformed encrypted WinRM body: no second part");
  const headers = body.subarray(first + marker.length, second).toString("latin1");
  const length = /Length=(\d+)/i.exec(headers)?.[1];
  if (length === undefined) throw new Error("malformed encrypted WinRM body: OriginalContent has no Length");
  const expectedLength = Number(length);
  const octetHeader = /\tContent-Type: application\/octet-stream\r\n/i;
  const afterMarker = body.subarray(second + marker.length, second + marker.length + 200).toString("latin1");
  const headerMatch = octetHeader.exec(afterMarker);
  if (!headerMatch || headerMatch.index !== 0) {
    throw new Error("malformed encrypted WinRM body: second part is not application/octet-stream");
  }
  const dataStart = second + marker.length + headerMatch[0].length;
  if (dataStart + 4 > body.length) throw new Error("malformed encrypted WinRM body: truncated before the signature");
  const sigLength = body.readUInt32LE(dataStart);
  const sigStart = dataStart + 4;
  const sealedStart = sigStart + sigLength;
  const sealedEnd = sealedStart + expectedLength;
  if (sigLength !== 16 || sealedEnd > body.length) {
    throw new Error("malformed encrypted WinRM body: signature or payload length does not fit the message");
  }
  const closing = Buffer.from(`--${boundary}--`, "latin1");
  if (!body.subarray(sealedEnd, sealedEnd + closing.length).equals(closing)) {
    throw new Error("malformed encrypted WinRM body: payload length does not match OriginalContent Length");
  }
  // Decrypted where it lies: the caller's body buffer becomes the plaintext's storage.
  const plain = body.subarray(sealedStart, sealedEnd);
  session.unsealInPlace(plain, body.subarray(sigStart, sealedStart));
  return plain;
}
