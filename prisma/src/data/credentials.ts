// Credential rows hold core's SealedSecret in binary columns; these convert between the two forms.
import { needsRewrap, rewrapSecret, type Keyring, type SealedSecret } from "@opsconductor/core";
import type { Db } from "../database/client.ts";

/** The sealed-secret columns of a credentials row. */
export interface SealedColumns {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  authTag: Uint8Array;
  wrappedKey: Uint8Array;
  keyId: string;
}

/** Columns to store for a secret sealed by core's encryptSecret. */
export function sealedSecretColumns(sealed: SealedSecret): { ciphertext: Uint8Array<ArrayBuffer>; iv: Uint8Array<ArrayBuffer>; authTag: Uint8Array<ArrayBuffer>; wrappedKey: Uint8Array<ArrayBuffer>; keyId: string } {
  const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
  return { ciphertext: bytes(sealed.ciphertext), iv: bytes(sealed.iv), authTag: bytes(sealed.authTag), wrappedKey: bytes(sealed.wrappedKey), keyId: sealed.keyId };
}

/** The SealedSecret stored in a credentials row, for core's decryptSecret (AAD: the row id). */
export function sealedSecretFromColumns(row: SealedColumns): SealedSecret {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  return { v: 1, alg: "AES-256-GCM", keyId: row.keyId, wrappedKey: b64(row.wrappedKey), iv: b64(row.iv), ciphertext: b64(row.ciphertext), authTag: b64(row.authTag) };
}

/** Counts of a re-wrap pass. */
export interface RewrapResult {
  rewrapped: number;
  alreadyCurrent: number;
}

/**
 * Moves every credential secret to the keyring's primary master key (core's rewrapSecret: the data
 * key is re-wrapped, the payload and its AAD binding stay as they are). Safe to run repeatedly.
 */
export async function rewrapCredentialSecrets(db: Db, keyring: Keyring): Promise<RewrapResult> {
  const rows = await db.credential.findMany({ select: { id: true, ciphertext: true, iv: true, authTag: true, wrappedKey: true, keyId: true } });
  let rewrapped = 0;
  for (const row of rows) {
    const sealed = sealedSecretFromColumns(row);
    if (!needsRewrap(keyring, sealed)) continue;
    const columns = sealedSecretColumns(rewrapSecret(keyring, sealed));
    // Only if nobody rotated the secret meanwhile.
    const updated = await db.credential.updateMany({ where: { id: row.id, keyId: row.keyId, wrappedKey: row.wrappedKey }, data: { wrappedKey: columns.wrappedKey, keyId: columns.keyId } });
    rewrapped += updated.count;
  }
  return { rewrapped, alreadyCurrent: rows.length - rewrapped };
}
