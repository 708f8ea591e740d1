import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT_VERSION = 1;
const GENERATE_HINT =
  "Generate one with: openssl rand -base64 32  (or: node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\")";

/**
 * An encrypted secret as a plain, JSON-serialisable object: every binary field is base64, so it
 * maps onto database columns (key id, wrapped data key, iv, ciphertext, auth tag).
 */
export interface SealedSecret {
  /** Format version. */
  v: 1;
  alg: "AES-256-GCM";
  /** Id of the master key that wrapped the data key. */
  keyId: string;
  /** The data key encrypted under the master key: base64 of iv (12) ‖ ciphertext (32) ‖ tag (16). */
  wrappedKey: string;
  /** The payload's 12-byte GCM nonce, base64. */
  iv: string;
  /** The encrypted secret, base64. */
  ciphertext: string;
  /** The payload's 16-byte GCM authentication tag, base64. */
  authTag: string;
}

/** A set of master keys with one primary key for new secrets; the key bytes are not enumerable. */
export interface Keyring {
  readonly primaryKeyId: string;
  readonly keyIds: readonly string[];
  has(keyId: string): boolean;
}

/** Options for `createKeyring`. */
export interface KeyringOptions {
  /** Master keys by id, each 32 random bytes in base64. */
  keys: Readonly<Record<string, string>>;
  /** The id of the key that wraps new secrets. */
  primary: string;
}

/** Thrown for an unusable master key or keyring configuration; the message says how to fix it. */
export class KeyringError extends Error {
  override readonly name = "KeyringError";
}

/** Why a secret could not be decrypted. */
export type SecretDecryptionFailure = "unknown_key" | "malformed" | "authentication_failed";

/** Thrown when a sealed secret cannot be opened; it never contains key material or plaintext. */
export class SecretDecryptionError extends Error {
  override readonly name = "SecretDecryptionError";
  readonly reason: SecretDecryptionFailure;
  constructor(reason: SecretDecryptionFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

// Key bytes live here rather than on the keyring object, so logging or serialising a keyring
// cannot reveal them.
const keyMaterial = new WeakMap<Keyring, ReadonlyMap<string, Buffer>>();

function decodeStrictBase64(text: string): Buffer | undefined {
  const compact = text.trim();
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, "base64");
  return bytes.toString("base64") === compact ? bytes : undefined;
}

/** Creates a keyring from base64 master keys; throws `KeyringError` naming any key that is not 32 bytes of base64. */
export function createKeyring(options: KeyringOptions): Keyring {
  const entries = Object.entries(options?.keys ?? {});
  if (entries.length === 0) throw new KeyringError(`A keyring needs at least one master key. ${GENERATE_HINT}`);
  const material = new Map<string, Buffer>();
  for (const [keyId, encoded] of entries) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(keyId)) {
      throw new KeyringError(`Master key id "${keyId}" is invalid: use 1 to 64 letters, digits, '.', '_' or '-'.`);
    }
    const bytes = typeof encoded === "string" ? decodeStrictBase64(encoded) : undefined;
    if (!bytes) throw new KeyringError(`Master key "${keyId}" is not valid base64. It must be 32 random bytes, base64-encoded. ${GENERATE_HINT}`);
    if (bytes.length !== KEY_BYTES) {
      throw new KeyringError(`Master key "${keyId}" is ${bytes.length} bytes; it must be exactly ${KEY_BYTES} bytes, base64-encoded. ${GENERATE_HINT}`);
    }
    material.set(keyId, bytes);
  }
  if (!material.has(options.primary)) {
    throw new KeyringError(`The primary key "${options.primary}" is not one of the keyring's keys (${[...material.keys()].join(", ")}).`);
  }
  const keyIds = Object.freeze([...material.keys()]);
  const keyring: Keyring = Object.freeze({
    primaryKeyId: options.primary,
    keyIds,
    has: (keyId: string) => material.has(keyId),
  });
  keyMaterial.set(keyring, material);
  return keyring;
}

function keyFor(keyring: Keyring, keyId: string): Buffer {
  const material = keyMaterial.get(keyring);
  if (!material) throw new TypeError("Expected a keyring made by createKeyring().");
  const key = material.get(keyId);
  if (!key) {
    throw new SecretDecryptionError(
      "unknown_key",
      `The secret was sealed with master key "${keyId}", which is not in the keyring (keys: ${keyring.keyIds.join(", ")}). Add that key to decrypt it.`,
    );
  }
  return key;
}

// The key id is authenticated together with the wrapped data key, so relabelling a secret with
// another key id fails even if both master keys were the same bytes.
function wrapAad(keyId: string): Buffer {
  return Buffer.from(`opsconductor:data-key:v${FORMAT_VERSION}:${keyId}`, "utf8");
}

function payloadAad(aad: string | Uint8Array | undefined): Buffer {
  const prefix = Buffer.from(`opsconductor:secret:v${FORMAT_VERSION}:`, "utf8");
  if (aad === undefined) return prefix;
  return Buffer.concat([prefix, typeof aad === "string" ? Buffer.from(aad, "utf8") : Buffer.from(aad)]);
}

function wrapDataKey(keyring: Keyring, dataKey: Buffer): { keyId: string; wrappedKey: string } {
  const keyId = keyring.primaryKeyId;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", keyFor(keyring, keyId), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(wrapAad(keyId));
  const wrapped = Buffer.concat([iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { keyId, wrappedKey: wrapped.toString("base64") };
}

function field(sealed: SealedSecret, name: "wrappedKey" | "iv" | "ciphertext" | "authTag", length?: number): Buffer {
  const value = sealed[name];
  const bytes = typeof value === "string" ? (value === "" && name === "ciphertext" ? Buffer.alloc(0) : decodeStrictBase64(value)) : undefined;
  if (!bytes || (length !== undefined && bytes.length !== length)) {
    throw new SecretDecryptionError("malformed", `The sealed secret is malformed: "${name}" is not ${length ?? "valid"}${length ? " bytes of" : ""} base64.`);
  }
  return bytes;
}

function checkShape(sealed: SealedSecret): void {
  if (typeof sealed !== "object" || sealed === null || sealed.v !== FORMAT_VERSION || sealed.alg !== "AES-256-GCM" || typeof sealed.keyId !== "string") {
    throw new SecretDecryptionError("malformed", `The sealed secret is malformed: expected { v: 1, alg: "AES-256-GCM", keyId, wrappedKey, iv, ciphertext, authTag }.`);
  }
}

function unwrapDataKey(keyring: Keyring, sealed: SealedSecret): Buffer {
  checkShape(sealed);
  const master = keyFor(keyring, sealed.keyId);
  const wrapped = field(sealed, "wrappedKey", IV_BYTES + KEY_BYTES + TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", master, wrapped.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(wrapAad(sealed.keyId));
  decipher.setAuthTag(wrapped.subarray(IV_BYTES + KEY_BYTES));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES, IV_BYTES + KEY_BYTES)), decipher.final()]);
  } catch {
    throw new SecretDecryptionError(
      "authentication_failed",
      `The secret's data key does not authenticate under master key "${sealed.keyId}": the wrapped key or key id was modified, or the master key is not the one it was sealed with.`,
    );
  }
}

/** Options for `encryptSecret` and `decryptSecret`. */
export interface SecretAadOptions {
  /** Additional authenticated data, e.g. the credential's id: decryption succeeds only with the same value. */
  aad?: string | Uint8Array;
}

/** Encrypts a secret with AES-256-GCM under a fresh random data key, wrapped by the keyring's primary key. */
export function encryptSecret(keyring: Keyring, plaintext: string, options: SecretAadOptions = {}): SealedSecret {
  if (typeof plaintext !== "string") throw new TypeError("encryptSecret(): the plaintext must be a string.");
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(payloadAad(options.aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const { keyId, wrappedKey } = wrapDataKey(keyring, dataKey);
    return {
      v: FORMAT_VERSION,
      alg: "AES-256-GCM",
      keyId,
      wrappedKey,
      iv: iv.toString("base64"),
      ciphertext: ciphertext.toString("base64"),
      authTag: cipher.getAuthTag().toString("base64"),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts a sealed secret; throws `SecretDecryptionError` if anything was changed or the AAD differs. */
export function decryptSecret(keyring: Keyring, sealed: SealedSecret, options: SecretAadOptions = {}): string {
  const dataKey = unwrapDataKey(keyring, sealed);
  try {
    const decipher = createDecipheriv("aes-256-gcm", dataKey, field(sealed, "iv", IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(payloadAad(options.aad));
    decipher.setAuthTag(field(sealed, "authTag", TAG_BYTES));
    const ciphertext = field(sealed, "ciphertext");
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretDecryptionError(
        "authentication_failed",
        "The secret does not authenticate: its ciphertext, iv or auth tag was modified, or it belongs to another record (the additional authenticated data does not match).",
      );
    }
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps a secret's data key under the keyring's primary key; the iv, ciphertext and auth tag stay as they are. */
export function rewrapSecret(keyring: Keyring, sealed: SealedSecret): SealedSecret {
  const dataKey = unwrapDataKey(keyring, sealed);
  try {
    return { ...sealed, ...wrapDataKey(keyring, dataKey) };
  } finally {
    dataKey.fill(0);
  }
}

/** Whether a sealed secret is wrapped by a key other than the keyring's primary one (so `rewrapSecret` would move it). */
export function needsRewrap(keyring: Keyring, sealed: SealedSecret): boolean {
  return sealed.keyId !== keyring.primaryKeyId;
}
