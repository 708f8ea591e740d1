// The master-key ring for credential secrets, built once from OPSCONDUCTOR_MASTER_KEY, and the one
// place that seals and opens credential rows.
import { createKeyring, decryptSecret, encryptSecret, type Keyring, type SealedSecret } from "@opsconductor/core";
import { env } from "../../env.server.ts";
import type { CredentialSecret } from "../../schemas/credentials.ts";

let ring: Keyring | undefined;

/** This process's keyring: every configured master key, the first one primary. */
export function keyring(): Keyring {
  ring ??= createKeyring(env().OPSCONDUCTOR_MASTER_KEY);
  return ring;
}

/** The envelope columns of a credentials row. */
export interface SealedColumns {
  ciphertext: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  wrappedKey: Uint8Array<ArrayBuffer>;
  keyId: string;
}

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"));
const base64 = (value: Uint8Array) => Buffer.from(value).toString("base64");

/** Seals a credential's secret bound to its row id, so the envelope cannot be moved to another row. */
export function sealCredentialSecret(credentialId: string, secret: CredentialSecret): SealedColumns {
  const sealed = encryptSecret(keyring(), JSON.stringify(secret), { aad: credentialId });
  return { ciphertext: bytes(sealed.ciphertext), iv: bytes(sealed.iv), authTag: bytes(sealed.authTag), wrappedKey: bytes(sealed.wrappedKey), keyId: sealed.keyId };
}

/** Opens a credentials row's secret; throws core's SecretDecryptionError when it does not authenticate. */
export function decryptCredentialSecret(row: { id: string; ciphertext: Uint8Array; iv: Uint8Array; authTag: Uint8Array; wrappedKey: Uint8Array; keyId: string }): CredentialSecret {
  const sealed: SealedSecret = { v: 1, alg: "AES-256-GCM", keyId: row.keyId, wrappedKey: base64(row.wrappedKey), iv: base64(row.iv), ciphertext: base64(row.ciphertext), authTag: base64(row.authTag) };
  return JSON.parse(decryptSecret(keyring(), sealed, { aad: row.id })) as CredentialSecret;
}
