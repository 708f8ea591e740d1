import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RC4Js } from "./rc4.ts";
import {
  NTLM_FLAGS,
  NtlmSession,
  RC4,
  acceptAuthenticateMessage,
  certificateHashAlgorithm,
  channelBindingsHash,
  computeNtlmV2Response,
  createAuthenticateMessage,
  createChallengeMessage,
  createNegotiateMessage,
  decryptWinRMBody,
  encryptWinRMBody,
  md4,
  ntowfv2,
  parseAuthenticateMessage,
  parseChallengeMessage,
  parseNegotiateMessage,
  sealKey,
  signKey,
} from "./index.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("MD4 (RFC 1320 appendix A.5)", () => {
  const vectors: [string, string][] = [
    ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
    ["a", "bde52cb31de33e46245e05fbdbd6fb24"],
    ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
    ["message digest", "d9130a8164549fe818874806e1c7014b"],
    ["abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"],
    ["1234567890".repeat(8), "e33b4ddc9c38f2199c3e7b164fcc0536"],
  ];
  it.each(vectors)("md4(%j)", (input, digest) => {
    expect(md4(Buffer.from(input)).toString("hex")).toBe(digest);
  });
  it("handles inputs around the 55/56/64-byte padding boundaries", () => {
    // NT hash of "Password" (MS-NLMP 4.2.1) exercises UTF-16 input; lengths 55..65 must all pad correctly.
    expect(md4(Buffer.from("Password", "utf16le")).toString("hex")).toBe("a4f49c406510bdcab6824ee7c30fd852");
    for (let n = 54; n <= 66; n++) expect(md4(Buffer.alloc(n, 0x61))).toHaveLength(16);
  });
});

describe("RC4", () => {
  it.each([
    ["Key", "Plaintext", "bbf316e8d940af0ad3"],
    ["Wiki", "pedia", "1021bf0420"],
    ["Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5"],
  ])("key %j encrypts %j", (key, plain, cipher) => {
    expect(new RC4(Buffer.from(key)).update(Buffer.from(plain)).toString("hex")).toBe(cipher);
  });
  it("keeps its keystream across update calls", () => {
    const rc4 = new RC4(Buffer.from("Secret"));
    const out = Buffer.concat([rc4.update(Buffer.from("Attack")), rc4.update(Buffer.from(" at dawn"))]);
    expect(out.toString("hex")).toBe("45a01f645fc35b383552544b9bf5");
  });
  it("produces RFC 6229's keystream for the 40-bit key 0102030405", () => {
    expect(new RC4(Buffer.from("0102030405", "hex")).update(Buffer.alloc(32)).toString("hex")).toBe(
      "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919",
    );
  });
  it("agrees with the JavaScript fallback over messages of every size, large ones included", () => {
    const key = randomBytes(16);
    const [fast, reference] = [new RC4(key), new RC4Js(key)];
    for (const size of [0, 1, 7, 255, 256, 513, 65_536, 300_000, 3, 1_200_000, 17]) {
      const data = randomBytes(size);
      expect(fast.update(data).equals(reference.update(data)), `${size} bytes`).toBe(true);
    }
  });
  it("encrypts in place exactly as update does, also across the module's 256 KiB slices", () => {
    const key = randomBytes(16);
    const [inPlace, reference] = [new RC4(key), new RC4Js(key)];
    for (const size of [5, 262_000, 600_001, 0, 40]) {
      const data = randomBytes(size);
      const expected = reference.update(data);
      inPlace.updateInPlace(data);
      expect(data.equals(expected), `${size} bytes`).toBe(true);
    }
  });
});

// MS-NLMP 4.2.1 common values and 4.2.4 NTLMv2 authentication.
const USER = "User";
const DOMAIN = "Domain";
const PASSWORD = "Password";
const RANDOM_SESSION_KEY = Buffer.alloc(16, 0x55);
const CLIENT_CHALLENGE = Buffer.alloc(8, 0xaa);
const TIME = Buffer.alloc(8);
const SERVER_CHALLENGE = hex("0123456789abcdef");
const SPEC_CHALLENGE = hex(
  "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000" +
    "060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000",
);
const AV_PAIRS = hex("02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000");
const SPEC_FLAGS = 0xe28a8233;

describe("MS-NLMP 4.2.4 NTLMv2 vectors", () => {
  it("NTOWFv2 (4.2.4.1.1)", () => {
    expect(ntowfv2(PASSWORD, USER, DOMAIN).toString("hex")).toBe("0c868a403bfd7a93a3001ef22ef02e3f");
  });

  it("LMv2 response, NTProofStr and session base key (4.2.4.1.2, 4.2.4.1.3, 4.2.4.2)", () => {
    const r = computeNtlmV2Response({
      responseKeyNT: ntowfv2(PASSWORD, USER, DOMAIN),
      serverChallenge: SERVER_CHALLENGE,
      clientChallenge: CLIENT_CHALLENGE,
      timestamp: TIME,
      avPairs: AV_PAIRS,
    });
    expect(r.lmChallengeResponse.toString("hex")).toBe("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
    expect(r.ntProofStr.toString("hex")).toBe("68cd0ab851e51c96aabc927bebef6a1c");
    expect(r.sessionBaseKey.toString("hex")).toBe("8de40ccadbc14a82f15cb0ad0de95ca3");
  });

  it("parses the specification's CHALLENGE_MESSAGE (4.2.4.3)", () => {
    const c = parseChallengeMessage(SPEC_CHALLENGE);
    expect(c.flags >>> 0).toBe(SPEC_FLAGS);
    expect(c.serverChallenge).toEqual(SERVER_CHALLENGE);
    expect(c.targetName).toBe("Server");
    expect(c.targetInfo).toEqual(AV_PAIRS);
    expect(c.timestamp).toBeUndefined();
  });

  it("builds the AUTHENTICATE_MESSAGE responses and key exchange of 4.2.4.3", () => {
    const { message } = createAuthenticateMessage({
      challenge: parseChallengeMessage(SPEC_CHALLENGE),
      username: USER,
      password: PASSWORD,
      domain: DOMAIN,
      workstation: "COMPUTER",
      clientChallenge: CLIENT_CHALLENGE,
      timestamp: TIME,
      exportedSessionKey: RANDOM_SESSION_KEY,
    });
    const auth = parseAuthenticateMessage(message);
    expect(auth.user).toBe(USER);
    expect(auth.domain).toBe(DOMAIN);
    expect(auth.workstation).toBe("COMPUTER");
    expect(auth.lmChallengeResponse.toString("hex")).toBe("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
    expect(auth.ntChallengeResponse.toString("hex")).toBe(
      "68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000" +
        "02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000",
    );
    expect(auth.encryptedRandomSessionKey.toString("hex")).toBe("c5dad2544fc9799094ce1ce90bc9d03e");
    expect(auth.flags & NTLM_FLAGS.NEGOTIATE_KEY_EXCH).toBeTruthy();
  });

  it("derives the sign and seal keys (4.2.4.2.3 / 3.4.5)", () => {
    expect(signKey(RANDOM_SESSION_KEY, "client").toString("hex")).toBe("4788dc861b4782f35d43fd98fe1a2d39");
    expect(signKey(RANDOM_SESSION_KEY, "server").toString("hex")).toBe("d04d6f10741041d1d246d64188d7a8ad");
    expect(sealKey(RANDOM_SESSION_KEY, SPEC_FLAGS, "client").toString("hex")).toBe("59f600973cc4960a25480a7c196e4c58");
    expect(sealKey(RANDOM_SESSION_KEY, SPEC_FLAGS, "server").toString("hex")).toBe("9355f3a957c1583d25c4c2f11e40390e");
  });

  it("seals 'Plaintext' into the specification's data and signature (4.2.4.4 GSS_WrapEx)", () => {
    const session = new NtlmSession({ exportedSessionKey: RANDOM_SESSION_KEY, flags: SPEC_FLAGS, side: "client" });
    const { sealed, signature } = session.seal(Buffer.from("Plaintext", "utf16le"));
    expect(sealed.toString("hex")).toBe("54e50165bf1936dc996020c1811b0f06fb5f");
    expect(signature.toString("hex")).toBe("010000007fb38ec5c55d497600000000");
    const server = new NtlmSession({ exportedSessionKey: RANDOM_SESSION_KEY, flags: SPEC_FLAGS, side: "server" });
    expect(server.unseal(sealed, signature).toString("utf16le")).toBe("Plaintext");
  });
});

function handshake(opts: { password?: string; clientBindings?: Buffer; serverBindings?: Buffer } = {}) {
  const negotiate = createNegotiateMessage();
  const { flags } = parseNegotiateMessage(negotiate);
  const challengeMessage = createChallengeMessage({
    flags: flags & ~NTLM_FLAGS.NEGOTIATE_VERSION,
    targetName: "WIN-TEST",
    targetInfo: { nbDomain: "WIN-TEST", nbComputer: "WIN-TEST", dnsComputer: "win-test.local", timestamp: Buffer.from("0011223344556677", "hex") },
  });
  const client = createAuthenticateMessage({
    challenge: parseChallengeMessage(challengeMessage),
    username: "operator",
    password: opts.password ?? "S3cret!pässword",
    domain: "WIN-TEST",
    negotiateMessage: negotiate,
    ...(opts.clientBindings ? { channelBindings: opts.clientBindings } : {}),
  });
  const server = acceptAuthenticateMessage({
    negotiateMessage: negotiate,
    challengeMessage,
    authenticateMessage: client.message,
    lookupPassword: (user) => (user.toLowerCase() === "operator" ? "S3cret!pässword" : undefined),
    ...(opts.serverBindings ? { expectedChannelBindings: opts.serverBindings } : {}),
  });
  return { client, server, message: client.message };
}

describe("NTLM round trip between our client and server halves", () => {
  it("agrees on the session and seals in both directions over many messages", () => {
    const { client, server, message } = handshake();
    expect(server.ok).toBe(true);
    if (!server.ok) return;
    expect(server.user).toBe("operator");
    const auth = parseAuthenticateMessage(message);
    expect(auth.mic).toHaveLength(16);
    expect(auth.lmChallengeResponse).toEqual(Buffer.alloc(24));
    for (let i = 0; i < 5; i++) {
      const up = client.session.seal(Buffer.from(`request ${i} ✓`));
      expect(server.session.unseal(up.sealed, up.signature).toString()).toBe(`request ${i} ✓`);
      const down = server.session.seal(Buffer.from(`response ${i}`));
      expect(client.session.unseal(down.sealed, down.signature).toString()).toBe(`response ${i}`);
    }
  });

  it("refuses a wrong password", () => {
    const { server } = handshake({ password: "wrong" });
    expect(server).toEqual({ ok: false, reason: "wrong password" });
  });

  it("refuses a tampered message through the MIC", () => {
    const negotiate = createNegotiateMessage();
    const challengeMessage = createChallengeMessage({ flags: parseNegotiateMessage(negotiate).flags, targetName: "X", targetInfo: { nbComputer: "X", timestamp: Buffer.alloc(8, 1) } });
    const { message } = createAuthenticateMessage({ challenge: parseChallengeMessage(challengeMessage), username: "operator", password: "pw", negotiateMessage: negotiate });
    const tampered = Buffer.from(message);
    tampered.writeUInt32LE((tampered.readUInt32LE(60) & ~NTLM_FLAGS.NEGOTIATE_SEAL) >>> 0, 60);
    const result = acceptAuthenticateMessage({ negotiateMessage: negotiate, challengeMessage, authenticateMessage: tampered, lookupPassword: () => "pw" });
    expect(result).toEqual({ ok: false, reason: "message integrity code (MIC) mismatch" });
  });

  it("accepts matching channel bindings and refuses missing or mismatched ones", () => {
    const good = channelBindingsHash(Buffer.from("certificate one"));
    const other = channelBindingsHash(Buffer.from("certificate two"));
    expect(handshake({ clientBindings: good, serverBindings: good }).server.ok).toBe(true);
    expect(handshake({ clientBindings: other, serverBindings: good }).server).toEqual({ ok: false, reason: "channel binding token mismatch" });
    expect(handshake({ serverBindings: good }).server).toEqual({ ok: false, reason: "channel binding token missing" });
  });

  it("rejects a sealed message whose signature or bytes were altered", () => {
    const { client, server } = handshake();
    if (!server.ok) throw new Error("handshake failed");
    const { sealed, signature } = client.session.seal(Buffer.from("hello"));
    sealed[0] = (sealed[0] as number) ^ 1;
    expect(() => server.session.unseal(sealed, signature)).toThrow(/signature does not match/);
  });
});

describe("channel bindings (RFC 5929 tls-server-end-point)", () => {
  it("hashes a gss_channel_bindings_struct with zero addresses around the certificate hash", () => {
    const cert = Buffer.from("not really a certificate");
    const appData = Buffer.concat([Buffer.from("tls-server-end-point:"), createHash("sha256").update(cert).digest()]);
    const struct = Buffer.alloc(20 + appData.length);
    struct.writeUInt32LE(appData.length, 16);
    appData.copy(struct, 20);
    expect(channelBindingsHash(cert)).toEqual(createHash("md5").update(struct).digest());
    expect(certificateHashAlgorithm(cert)).toBe("sha256");
  });
});

describe("WinRM message encryption framing (MS-WSMV 2.2.9.1.1.2.2)", () => {
  const pair = () => ({
    client: new NtlmSession({ exportedSessionKey: RANDOM_SESSION_KEY, flags: SPEC_FLAGS, side: "client" }),
    server: new NtlmSession({ exportedSessionKey: RANDOM_SESSION_KEY, flags: SPEC_FLAGS, side: "server" }),
  });

  it("frames a body the way Windows expects and round-trips it", () => {
    const { client, server } = pair();
    const soap = Buffer.from("<s:Envelope>héllo</s:Envelope>");
    const { body, contentType } = encryptWinRMBody(client, soap);
    expect(contentType).toBe('multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"');
    const text = body.toString("latin1");
    expect(text.startsWith("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n")).toBe(true);
    expect(text).toContain(`\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${soap.length}\r\n`);
    expect(text.endsWith("--Encrypted Boundary--\r\n")).toBe(true);
    expect(decryptWinRMBody(server, body, contentType)).toEqual(soap);
  });

  it("seals and unseals in place the same bytes as seal and unseal, leaving seal's input as it was", () => {
    const [copying, inPlace] = [pair(), pair()];
    for (const size of [300_000, 12, 1]) {
      const text = randomBytes(size);
      const original = Buffer.from(text);
      const { sealed, signature } = copying.client.seal(text);
      expect(text.equals(original)).toBe(true);
      const buffer = Buffer.from(text);
      expect(inPlace.client.sealInPlace(buffer).equals(signature)).toBe(true);
      expect(buffer.equals(sealed)).toBe(true);
      inPlace.server.unsealInPlace(buffer, signature);
      expect(buffer.equals(original)).toBe(true);
      expect(copying.server.unseal(sealed, signature).equals(original)).toBe(true);
    }
    const tampered = inPlace.client.seal(Buffer.from("next"));
    tampered.sealed[1] = (tampered.sealed[1] as number) ^ 4;
    expect(() => inPlace.server.unsealInPlace(tampered.sealed, tampered.signature)).toThrow(/signature does not match/);
  });

  it("throws clear errors on malformed framing", () => {
    const { client, server } = pair();
    const { body, contentType } = encryptWinRMBody(client, Buffer.from("<x/>"));
    expect(() => decryptWinRMBody(server, Buffer.from("garbage"), contentType)).toThrow(/no opening boundary/);
    expect(() => decryptWinRMBody(server, body, "application/soap+xml")).toThrow(/expected an encrypted WinRM body/);
    const cut = body.subarray(0, body.length - 30);
    expect(() => decryptWinRMBody(server, cut, contentType)).toThrow(/malformed encrypted WinRM body/);
  });
});
