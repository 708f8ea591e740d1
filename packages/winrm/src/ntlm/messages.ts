import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { NTLM_FLAGS } from "./flags.ts";
import { md4 } from "./md4.ts";
import { RC4 } from "./rc4.ts";
import { NtlmSession } from "./session.ts";

const SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");

/** AV pair ids (MS-NLMP 2.2.2.1). */
export const AV_ID = Object.freeze({
  EOL: 0,
  NB_COMPUTER: 1,
  NB_DOMAIN: 2,
  DNS_COMPUTER: 3,
  DNS_DOMAIN: 4,
  DNS_TREE: 5,
  FLAGS: 6,
  TIMESTAMP: 7,
  SINGLE_HOST: 8,
  TARGET_NAME: 9,
  CHANNEL_BINDINGS: 10,
});

/** The flags our client asks for: NTLMv2 with extended session security, 128-bit keys, key exchange, sign and seal. */
export const DEFAULT_CLIENT_FLAGS =
  (NTLM_FLAGS.NEGOTIATE_UNICODE |
    NTLM_FLAGS.REQUEST_TARGET |
    NTLM_FLAGS.NEGOTIATE_SIGN |
    NTLM_FLAGS.NEGOTIATE_SEAL |
    NTLM_FLAGS.NEGOTIATE_NTLM |
    NTLM_FLAGS.NEGOTIATE_ALWAYS_SIGN |
    NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY |
    NTLM_FLAGS.NEGOTIATE_TARGET_INFO |
    NTLM_FLAGS.NEGOTIATE_VERSION |
    NTLM_FLAGS.NEGOTIATE_128 |
    NTLM_FLAGS.NEGOTIATE_KEY_EXCH |
    NTLM_FLAGS.NEGOTIATE_56) >>>
  0;

// Windows 10/Server build 17763, NTLM revision 15 (MS-NLMP 2.2.2.10); informational only.
const VERSION = Buffer.from([10, 0, 0x63, 0x45, 0, 0, 0, 0x0f]);

function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac("md5", key);
  for (const part of parts) h.update(part);
  return h.digest();
}

function utf16(s: string): Buffer {
  return Buffer.from(s, "utf16le");
}

function checkHeader(message: Buffer, type: number, name: string): void {
  if (message.length < 12 || !message.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error(`not an NTLM ${name} message (missing NTLMSSP signature)`);
  }
  const actual = message.readUInt32LE(8);
  if (actual !== type) throw new Error(`expected an NTLM ${name} message (type ${type}), got type ${actual}`);
}

function readField(message: Buffer, at: number, what: string): Buffer {
  if (at + 8 > message.length) throw new Error(`NTLM message too short for its ${what} field`);
  const len = message.readUInt16LE(at);
  const offset = message.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (offset + len > message.length) throw new Error(`NTLM ${what} field points outside the message`);
  return message.subarray(offset, offset + len);
}

/** Lays out NTLM payload fields after a fixed header, returning the message. */
function build(header: Buffer, fields: { at: number; data: Buffer }[]): Buffer {
  let offset = header.length;
  for (const field of fields) {
    header.writeUInt16LE(field.data.length, field.at);
    header.writeUInt16LE(field.data.length, field.at + 2);
    header.writeUInt32LE(offset, field.at + 4);
    offset += field.data.length;
  }
  return Buffer.concat([header, ...fields.map((f) => f.data)]);
}

/** Computes NTOWFv2 (MS-NLMP 3.3.2): HMAC_MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(utf16(password)), utf16(user.toUpperCase() + domain));
}

/** Creates an NTLM NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1). */
export function createNegotiateMessage(opts: { flags?: number; domain?: string; workstation?: string } = {}): Buffer {
  let flags = opts.flags ?? DEFAULT_CLIENT_FLAGS;
  const domain = Buffer.from(opts.domain ?? "", "latin1");
  const workstation = Buffer.from(opts.workstation ?? "", "latin1");
  if (domain.length) flags |= NTLM_FLAGS.NEGOTIATE_OEM_DOMAIN_SUPPLIED;
  if (workstation.length) flags |= NTLM_FLAGS.NEGOTIATE_OEM_WORKSTATION_SUPPLIED;
  const header = Buffer.alloc(40);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(1, 8);
  header.writeUInt32LE(flags >>> 0, 12);
  VERSION.copy(header, 32);
  return build(header, [
    { at: 16, data: domain },
    { at: 24, data: workstation },
  ]);
}

/** Parses an NTLM NEGOTIATE_MESSAGE. */
export function parseNegotiateMessage(message: Buffer): { flags: number } {
  checkHeader(message, 1, "NEGOTIATE");
  if (message.length < 16) throw new Error("NTLM NEGOTIATE message too short");
  return { flags: message.readUInt32LE(12) };
}

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** Splits raw AV pairs (MS-NLMP 2.2.2.1) up to MsvAvEOL. */
export function parseAvPairs(raw: Buffer): { id: number; value: Buffer }[] {
  const pairs: { id: number; value: Buffer }[] = [];
  let at = 0;
  while (at + 4 <= raw.length) {
    const id = raw.readUInt16LE(at);
    const len = raw.readUInt16LE(at + 2);
    if (id === AV_ID.EOL) return pairs;
    if (at + 4 + len > raw.length) throw new Error("NTLM AV pair runs past the end of the target info");
    pairs.push({ id, value: raw.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  throw new Error("NTLM target info is not terminated by MsvAvEOL");
}

function encodeAvPairs(pairs: { id: number; value: Buffer }[]): Buffer {
  return Buffer.concat([...pairs.map((p) => avPair(p.id, p.value)), avPair(AV_ID.EOL, Buffer.alloc(0))]);
}

/** Returns the current time as a little-endian FILETIME (100 ns ticks since 1601-01-01). */
export function fileTimeNow(): Buffer {
  const ticks = (BigInt(Date.now()) + 11644473600000n) * 10000n;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(ticks);
  return out;
}

/** Creates an NTLM CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2), as a server answers a NEGOTIATE. */
export function createChallengeMessage(opts: {
  serverChallenge?: Buffer;
  flags: number;
  targetName: string;
  targetInfo?: { nbDomain?: string; nbComputer?: string; dnsDomain?: string; dnsComputer?: string; timestamp?: Buffer };
}): Buffer {
  const challenge = opts.serverChallenge ?? randomBytes(8);
  if (challenge.length !== 8) throw new Error("NTLM server challenge must be 8 bytes");
  const info = opts.targetInfo ?? {};
  const pairs: { id: number; value: Buffer }[] = [];
  if (info.nbDomain !== undefined) pairs.push({ id: AV_ID.NB_DOMAIN, value: utf16(info.nbDomain) });
  if (info.nbComputer !== undefined) pairs.push({ id: AV_ID.NB_COMPUTER, value: utf16(info.nbComputer) });
  if (info.dnsDomain !== undefined) pairs.push({ id: AV_ID.DNS_DOMAIN, value: utf16(info.dnsDomain) });
  if (info.dnsComputer !== undefined) pairs.push({ id: AV_ID.DNS_COMPUTER, value: utf16(info.dnsComputer) });
  if (info.timestamp !== undefined) pairs.push({ id: AV_ID.TIMESTAMP, value: info.timestamp });
  const flags = (opts.flags | NTLM_FLAGS.NEGOTIATE_TARGET_INFO) >>> 0;
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(flags, 20);
  challenge.copy(header, 24);
  VERSION.copy(header, 48);
  return build(header, [
    { at: 12, data: flags & NTLM_FLAGS.NEGOTIATE_UNICODE ? utf16(opts.targetName) : Buffer.from(opts.targetName, "latin1") },
    { at: 40, data: encodeAvPairs(pairs) },
  ]);
}

/** The fields of a CHALLENGE_MESSAGE a client needs. */
export interface ParsedChallenge {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  /** Raw AV pairs. */
  targetInfo: Buffer;
  timestamp?: Buffer;
  /** The whole message, kept for the MIC. */
  raw?: Buffer;
}

/** Parses an NTLM CHALLENGE_MESSAGE. */
export function parseChallengeMessage(message: Buffer): ParsedChallenge {
  checkHeader(message, 2, "CHALLENGE");
  if (message.length < 48) throw new Error("NTLM CHALLENGE message too short");
  const flags = message.readUInt32LE(20);
  const name = readField(message, 12, "TargetName");
  const targetInfo = readField(message, 40, "TargetInfo");
  const timestamp = targetInfo.length ? parseAvPairs(targetInfo).find((p) => p.id === AV_ID.TIMESTAMP)?.value : undefined;
  return {
    flags,
    serverChallenge: Buffer.from(message.subarray(24, 32)),
    targetName: flags & NTLM_FLAGS.NEGOTIATE_UNICODE ? name.toString("utf16le") : name.toString("latin1"),
    targetInfo: Buffer.from(targetInfo),
    ...(timestamp ? { timestamp: Buffer.from(timestamp) } : {}),
    raw: Buffer.from(message),
  };
}

/** Computes the NTLMv2 responses and session base key (MS-NLMP 3.3.2) from their inputs. */
export function computeNtlmV2Response(opts: {
  responseKeyNT: Buffer;
  serverChallenge: Buffer;
  clientChallenge: Buffer;
  timestamp: Buffer;
  avPairs: Buffer;
}): { ntChallengeResponse: Buffer; lmChallengeResponse: Buffer; ntProofStr: Buffer; sessionBaseKey: Buffer } {
  const temp = Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
    opts.timestamp,
    opts.clientChallenge,
    Buffer.alloc(4),
    opts.avPairs,
    Buffer.alloc(4),
  ]);
  const ntProofStr = hmacMd5(opts.responseKeyNT, opts.serverChallenge, temp);
  return {
    ntProofStr,
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    lmChallengeResponse: Buffer.concat([hmacMd5(opts.responseKeyNT, opts.serverChallenge, opts.clientChallenge), opts.clientChallenge]),
    sessionBaseKey: hmacMd5(opts.responseKeyNT, ntProofStr),
  };
}

/** Creates an NTLMv2 AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) and the session it establishes. */
export function createAuthenticateMessage(opts: {
  challenge: ParsedChallenge;
  username: string;
  password: string;
  domain?: string;
  workstation?: string;
  /** MD5 of the gss_channel_bindings_struct, from channelBindingsHash. */
  channelBindings?: Buffer;
  /** The NEGOTIATE message we sent; with it (and a challenge carrying a timestamp) a MIC is included. */
  negotiateMessage?: Buffer;
  clientChallenge?: Buffer;
  timestamp?: Buffer;
  exportedSessionKey?: Buffer;
}): { message: Buffer; session: NtlmSession } {
  const { challenge } = opts;
  const flags = (challenge.flags & DEFAULT_CLIENT_FLAGS) >>> 0;
  if (!(flags & NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
    throw new Error("the server did not agree to NTLMv2 extended session security");
  }
  const domain = opts.domain ?? "";
  const responseKeyNT = ntowfv2(opts.password, opts.username, domain);
  const clientChallenge = opts.clientChallenge ?? randomBytes(8);

  // MS-NLMP 3.1.5.1.2: extend the server's AV pairs with MsvAvFlags (MIC present) and
  // MsvAvChannelBindings when we have them; otherwise send them back unchanged (what the 4.2.4 vectors use).
  let avPairs: Buffer = challenge.targetInfo;
  const withMic = Boolean(opts.negotiateMessage && challenge.raw && challenge.timestamp);
  if (withMic || opts.channelBindings) {
    const pairs = parseAvPairs(challenge.targetInfo).filter((p) => p.id !== AV_ID.FLAGS && p.id !== AV_ID.CHANNEL_BINDINGS);
    const existingFlags = parseAvPairs(challenge.targetInfo).find((p) => p.id === AV_ID.FLAGS)?.value.readUInt32LE(0) ?? 0;
    if (withMic) {
      const value = Buffer.alloc(4);
      value.writeUInt32LE((existingFlags | 0x2) >>> 0);
      pairs.push({ id: AV_ID.FLAGS, value });
    }
    if (opts.channelBindings) pairs.push({ id: AV_ID.CHANNEL_BINDINGS, value: opts.channelBindings });
    avPairs = encodeAvPairs(pairs);
  }
  const timestamp = opts.timestamp ?? challenge.timestamp ?? fileTimeNow();
  const responses = computeNtlmV2Response({
    responseKeyNT,
    serverChallenge: challenge.serverChallenge,
    clientChallenge,
    timestamp,
    avPairs,
  });
  // With MsvAvTimestamp present the client sends Z(24) instead of LMv2 (MS-NLMP 3.1.5.1.2).
  const lmChallengeResponse = challenge.timestamp ? Buffer.alloc(24) : responses.lmChallengeResponse;

  const keyExchangeKey = responses.sessionBaseKey;
  let exportedSessionKey: Buffer = keyExchangeKey;
  let encryptedRandomSessionKey: Buffer = Buffer.alloc(0);
  if (flags & NTLM_FLAGS.NEGOTIATE_KEY_EXCH) {
    exportedSessionKey = opts.exportedSessionKey ?? randomBytes(16);
    encryptedRandomSessionKey = new RC4(keyExchangeKey).update(exportedSessionKey);
  }

  const header = Buffer.alloc(88);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  header.writeUInt32LE(flags, 60);
  VERSION.copy(header, 64);
  const message = build(header, [
    { at: 28, data: utf16(domain) },
    { at: 36, data: utf16(opts.username) },
    { at: 44, data: utf16(opts.workstation ?? "") },
    { at: 12, data: lmChallengeResponse },
    { at: 20, data: responses.ntChallengeResponse },
    { at: 52, data: encryptedRandomSessionKey },
  ]);
  if (withMic) {
    hmacMd5(exportedSessionKey, opts.negotiateMessage as Buffer, challenge.raw as Buffer, message).copy(message, 72);
  }
  return { message, session: new NtlmSession({ exportedSessionKey, flags, side: "client" }) };
}

/** The fields of an AUTHENTICATE_MESSAGE. */
export interface ParsedAuthenticate {
  flags: number;
  user: string;
  domain: string;
  workstation: string;
  ntChallengeResponse: Buffer;
  lmChallengeResponse: Buffer;
  encryptedRandomSessionKey: Buffer;
  mic?: Buffer;
}

/** Parses an NTLM AUTHENTICATE_MESSAGE. */
export function parseAuthenticateMessage(message: Buffer): ParsedAuthenticate {
  checkHeader(message, 3, "AUTHENTICATE");
  if (message.length < 64) throw new Error("NTLM AUTHENTICATE message too short");
  const flags = message.readUInt32LE(60);
  const text = (b: Buffer) => (flags & NTLM_FLAGS.NEGOTIATE_UNICODE ? b.toString("utf16le") : b.toString("latin1"));
  const fieldsAt = [12, 20, 28, 36, 44, 52];
  // The MIC sits at offset 72 when the payload starts at 88 or later (MS-NLMP 2.2.1.3).
  const firstPayload = Math.min(
    ...fieldsAt.map((at) => (message.readUInt16LE(at) ? message.readUInt32LE(at + 4) : message.length)),
  );
  const mic = firstPayload >= 88 && message.length >= 88 ? Buffer.from(message.subarray(72, 88)) : undefined;
  return {
    flags,
    lmChallengeResponse: Buffer.from(readField(message, 12, "LmChallengeResponse")),
    ntChallengeResponse: Buffer.from(readField(message, 20, "NtChallengeResponse")),
    domain: text(readField(message, 28, "DomainName")),
    user: text(readField(message, 36, "UserName")),
    workstation: text(readField(message, 44, "Workstation")),
    encryptedRandomSessionKey: Buffer.from(readField(message, 52, "EncryptedRandomSessionKey")),
    ...(mic ? { mic } : {}),
  };
}

/** Verifies an AUTHENTICATE_MESSAGE as a server would (NTLMv2 only) and returns the established session. */
export function acceptAuthenticateMessage(opts: {
  negotiateMessage?: Buffer;
  challengeMessage: Buffer;
  authenticateMessage: Buffer;
  lookupPassword: (user: string, domain: string) => string | undefined;
  expectedChannelBindings?: Buffer;
}): { ok: true; user: string; domain: string; session: NtlmSession } | { ok: false; reason: string } {
  let auth: ParsedAuthenticate;
  let challenge: ParsedChallenge;
  try {
    auth = parseAuthenticateMessage(opts.authenticateMessage);
    challenge = parseChallengeMessage(opts.challengeMessage);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (auth.ntChallengeResponse.length < 16 + 28) {
    return { ok: false, reason: "NTLMv1 or anonymous responses are refused; only NTLMv2 is accepted" };
  }
  const password = opts.lookupPassword(auth.user, auth.domain);
  if (password === undefined) return { ok: false, reason: "unknown user" };
  const responseKeyNT = ntowfv2(password, auth.user, auth.domain);
  const ntProofStr = auth.ntChallengeResponse.subarray(0, 16);
  const blob = auth.ntChallengeResponse.subarray(16);
  const expected = hmacMd5(responseKeyNT, challenge.serverChallenge, blob);
  if (!timingSafeEqual(expected, ntProofStr)) return { ok: false, reason: "wrong password" };

  let pairs: { id: number; value: Buffer }[];
  try {
    pairs = parseAvPairs(blob.subarray(28));
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (opts.expectedChannelBindings) {
    const sent = pairs.find((p) => p.id === AV_ID.CHANNEL_BINDINGS)?.value;
    if (!sent || sent.every((b) => b === 0)) return { ok: false, reason: "channel binding token missing" };
    if (!sent.equals(opts.expectedChannelBindings)) return { ok: false, reason: "channel binding token mismatch" };
  }

  const sessionBaseKey = hmacMd5(responseKeyNT, ntProofStr);
  const exportedSessionKey =
    auth.flags & NTLM_FLAGS.NEGOTIATE_KEY_EXCH && auth.encryptedRandomSessionKey.length === 16
      ? new RC4(sessionBaseKey).update(auth.encryptedRandomSessionKey)
      : sessionBaseKey;

  const avFlags = pairs.find((p) => p.id === AV_ID.FLAGS)?.value.readUInt32LE(0) ?? 0;
  if (avFlags & 0x2 && opts.negotiateMessage) {
    if (!auth.mic) return { ok: false, reason: "MIC announced but missing" };
    const zeroed = Buffer.from(opts.authenticateMessage);
    zeroed.fill(0, 72, 88);
    const mic = hmacMd5(exportedSessionKey, opts.negotiateMessage, opts.challengeMessage, zeroed);
    if (!timingSafeEqual(mic, auth.mic)) return { ok: false, reason: "message integrity code (MIC) mismatch" };
  }
  let session: NtlmSession;
  try {
    session = new NtlmSession({ exportedSessionKey, flags: auth.flags, side: "server" });
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  return { ok: true, user: auth.user, domain: auth.domain, session };
}
