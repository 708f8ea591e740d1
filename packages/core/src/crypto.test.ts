import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  createKeyring,
  decryptSecret,
  encryptSecret,
  KeyringError,
  needsRewrap,
  rewrapSecret,
  SecretDecryptionError,
  type SealedSecret,
} from "./crypto.ts";

const key1 = randomBytes(32).toString("base64");
const key2 = randomBytes(32).toString("base64");
const keyring = createKeyring({ keys: { k1: key1 }, primary: "k1" });

function decryptionError(run: () => unknown): SecretDecryptionError {
  try {
    run();
  } catch (error) {
    if (error instanceof SecretDecryptionError) return error;
    throw error;
  }
  throw new Error("expected a SecretDecryptionError");
}

function flipBit(base64: string, bit: number): string {
  const bytes = Buffer.from(base64, "base64");
  bytes[Math.floor(bit / 8) % bytes.length]! ^= 1 << (bit % 8);
  return bytes.toString("base64");
}

describe("createKeyring", () => {
  test.each([
    ["not base64", "not-base64!", 'Master key "k1" is not valid base64'],
    ["16 bytes", randomBytes(16).toString("base64"), 'Master key "k1" is 16 bytes; it must be exactly 32 bytes'],
    ["empty", "", 'Master key "k1" is not valid base64'],
  ])("rejects a key that is %s, saying how to generate one", (_, encoded, message) => {
    const run = () => createKeyring({ keys: { k1: encoded }, primary: "k1" });
    expect(run).toThrow(KeyringError);
    expect(run).toThrow(message);
    expect(run).toThrow("openssl rand -base64 32");
  });

  test("rejects a primary key id that is not in the ring, and an empty ring", () => {
    expect(() => createKeyring({ keys: { k1: key1 }, primary: "k2" })).toThrow('The primary key "k2" is not one of the keyring\'s keys (k1)');
    expect(() => createKeyring({ keys: {}, primary: "k1" })).toThrow("A keyring needs at least one master key");
  });

  test("does not reveal key bytes when logged or serialised", () => {
    const ring = createKeyring({ keys: { k1: key1, k2: key2 }, primary: "k2" });
    expect(JSON.stringify(ring)).toBe('{"primaryKeyId":"k2","keyIds":["k1","k2"]}');
    expect(JSON.stringify(ring)).not.toContain(key1.slice(0, 10));
  });
});

describe("encryptSecret / decryptSecret", () => {
  test("round-trips text, including empty and non-ASCII text", () => {
    for (const plaintext of ["hunter2", "", "pässwörd 🔑 \u0000 end"]) {
      const sealed = encryptSecret(keyring, plaintext, { aad: "credential:42" });
      expect(decryptSecret(keyring, sealed, { aad: "credential:42" })).toBe(plaintext);
    }
  });

  test("records the key id and uses a fresh data key and iv for every secret", () => {
    const a = encryptSecret(keyring, "same");
    const b = encryptSecret(keyring, "same");
    expect(a).toMatchObject({ v: 1, alg: "AES-256-GCM", keyId: "k1" });
    expect(a.wrappedKey).not.toBe(b.wrappedKey);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(JSON.stringify(a)).not.toContain("same");
  });

  test("a secret bound to one row does not open for another row", () => {
    const sealed = encryptSecret(keyring, "hunter2", { aad: "credential:1" });
    const error = decryptionError(() => decryptSecret(keyring, sealed, { aad: "credential:2" }));
    expect(error.reason).toBe("authentication_failed");
    expect(error.message).toContain("belongs to another record");
    expect(() => decryptSecret(keyring, sealed)).toThrow(SecretDecryptionError);
  });

  test("swapping the sealed data of two rows fails", () => {
    const row1 = encryptSecret(keyring, "one", { aad: "credential:1" });
    const row2 = encryptSecret(keyring, "two", { aad: "credential:2" });
    expect(() => decryptSecret(keyring, row2, { aad: "credential:1" })).toThrow(SecretDecryptionError);
    expect(() => decryptSecret(keyring, { ...row1, ciphertext: row2.ciphertext }, { aad: "credential:1" })).toThrow(SecretDecryptionError);
  });

  test.each(["ciphertext", "iv", "authTag", "wrappedKey"] as const)("one flipped bit anywhere in %s fails with a clear error", (field) => {
    const sealed = encryptSecret(keyring, "a secret long enough to span blocks", { aad: "row" });
    const bits = Buffer.from(sealed[field], "base64").length * 8;
    for (let bit = 0; bit < bits; bit += field === "ciphertext" ? 1 : 3) {
      const tampered: SealedSecret = { ...sealed, [field]: flipBit(sealed[field], bit) };
      const error = decryptionError(() => decryptSecret(keyring, tampered, { aad: "row" }));
      expect(error.reason).toBe("authentication_failed");
      expect(error.message).toMatch(field === "wrappedKey" ? /data key does not authenticate under master key "k1"/ : /does not authenticate: its ciphertext, iv or auth tag was modified/);
    }
  });

  test("a relabelled key id or an unknown key fails clearly", () => {
    const ring = createKeyring({ keys: { k1: key1, k2: key1 }, primary: "k1" });
    const sealed = encryptSecret(ring, "x");
    // Both ids hold the same bytes, yet the key id is authenticated with the wrapped key.
    expect(decryptionError(() => decryptSecret(ring, { ...sealed, keyId: "k2" })).reason).toBe("authentication_failed");
    const unknown = decryptionError(() => decryptSecret(ring, { ...sealed, keyId: "old" }));
    expect(unknown.reason).toBe("unknown_key");
    expect(unknown.message).toBe('The secret was sealed with master key "old", which is not in the keyring (keys: k1, k2). Add that key to decrypt it.');
  });

  test("malformed sealed secrets are reported as such", () => {
    const sealed = encryptSecret(keyring, "x");
    expect(decryptionError(() => decryptSecret(keyring, { ...sealed, iv: "short" })).reason).toBe("malformed");
    expect(decryptionError(() => decryptSecret(keyring, { ...sealed, v: 2 } as unknown as SealedSecret)).message).toContain("malformed");
  });
});

describe("rewrapSecret", () => {
  test("moves a secret to the newest master key without touching its payload", () => {
    const old = createKeyring({ keys: { k1: key1 }, primary: "k1" });
    const sealed = encryptSecret(old, "hunter2", { aad: "credential:7" });
    const rotated = createKeyring({ keys: { k1: key1, k2: key2 }, primary: "k2" });
    expect(needsRewrap(rotated, sealed)).toBe(true);

    const rewrapped = rewrapSecret(rotated, sealed);
    expect(rewrapped.keyId).toBe("k2");
    expect(rewrapped.wrappedKey).not.toBe(sealed.wrappedKey);
    expect({ iv: rewrapped.iv, ciphertext: rewrapped.ciphertext, authTag: rewrapped.authTag }).toEqual({
      iv: sealed.iv,
      ciphertext: sealed.ciphertext,
      authTag: sealed.authTag,
    });
    expect(needsRewrap(rotated, rewrapped)).toBe(false);

    // Once rewrapped, the old master key can be retired.
    const retired = createKeyring({ keys: { k2: key2 }, primary: "k2" });
    expect(decryptSecret(retired, rewrapped, { aad: "credential:7" })).toBe("hunter2");
    expect(decryptionError(() => decryptSecret(retired, sealed, { aad: "credential:7" })).reason).toBe("unknown_key");
  });
});
