import { createHash, createHmac, createSecretKey, timingSafeEqual } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { NTLM_FLAGS } from "./flags.ts";
import { RC4 } from "./rc4.ts";

// MS-NLMP 3.4.5.2 / 3.4.5.3: the magic constants include the trailing NUL.
const CLIENT_SIGN = "session key to client-to-server signing key magic constant\0";
const SERVER_SIGN = "session key to server-to-client signing key magic constant\0";
const CLIENT_SEAL = "session key to client-to-server sealing key magic constant\0";
const SERVER_SEAL = "session key to server-to-client sealing key magic constant\0";

function md5(...parts: Uint8Array[]): Buffer {
  const hash = createHash("md5");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Derives a signing key (MS-NLMP 3.4.5.2, SIGNKEY) for one direction. */
export function signKey(exportedSessionKey: Buffer, mode: "client" | "server"): Buffer {
  return md5(exportedSessionKey, Buffer.from(mode === "client" ? CLIENT_SIGN : SERVER_SIGN, "latin1"));
}

/** Derives a sealing key (MS-NLMP 3.4.5.3, SEALKEY, extended session security) for one direction. */
export function sealKey(exportedSessionKey: Buffer, flags: number, mode: "client" | "server"): Buffer {
  let key = exportedSessionKey;
  if (!(flags & NTLM_FLAGS.NEGOTIATE_128)) key = key.subarray(0, flags & NTLM_FLAGS.NEGOTIATE_56 ? 7 : 5);
  return md5(key, Buffer.from(mode === "client" ? CLIENT_SEAL : SERVER_SEAL, "latin1"));
}

interface Direction {
  // A KeyObject: createHmac converts a Buffer key anew on every message, which costs more than an envelope's HMAC.
  signKey: KeyObject;
  rc4: RC4;
  seq: number;
}

/** NTLM session security with extended session security (MS-NLMP 3.4): seals outgoing and unseals incoming messages. */
export class NtlmSession {
  readonly flags: number;
  readonly exportedSessionKey: Buffer;
  #out: Direction;
  #in: Direction;

  constructor(opts: { exportedSessionKey: Buffer; flags: number; side: "client" | "server" }) {
    if (!(opts.flags & NTLM_FLAGS.NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
      throw new Error("NTLM session security without extended session security (NTLMv1 style) is not supported");
    }
    this.flags = opts.flags;
    this.exportedSessionKey = opts.exportedSessionKey;
    const me = opts.side;
    const peer = me === "client" ? "server" : "client";
    this.#out = { signKey: createSecretKey(signKey(opts.exportedSessionKey, me)), rc4: new RC4(sealKey(opts.exportedSessionKey, opts.flags, me)), seq: 0 };
    this.#in = { signKey: createSecretKey(signKey(opts.exportedSessionKey, peer)), rc4: new RC4(sealKey(opts.exportedSessionKey, opts.flags, peer)), seq: 0 };
  }

  // MS-NLMP 3.4.4.2: HMAC_MD5(SigningKey, SeqNum || Message)[0..8], RC4'd with the sealing handle
  // under key exchange (after the message itself, whose bytes come first in the keystream), then
  // Version(1) || Checksum || SeqNum.
  #checksum(dir: Direction, plain: Uint8Array, seq: number): { checksum: Buffer; seqBytes: Buffer } {
    const seqBytes = Buffer.alloc(4);
    seqBytes.writeUInt32LE(seq >>> 0);
    return { checksum: createHmac("md5", dir.signKey).update(seqBytes).update(plain).digest().subarray(0, 8), seqBytes };
  }

  #signature(dir: Direction, { checksum, seqBytes }: { checksum: Buffer; seqBytes: Buffer }): Buffer {
    if (this.flags & NTLM_FLAGS.NEGOTIATE_KEY_EXCH) dir.rc4.updateInPlace(checksum);
    const sig = Buffer.alloc(16);
    sig.writeUInt32LE(1, 0);
    checksum.copy(sig, 4);
    seqBytes.copy(sig, 12);
    return sig;
  }

  /** Encrypts `message` and returns it with its 16-byte signature, advancing the outgoing sequence number. */
  seal(message: Buffer): { sealed: Buffer; signature: Buffer } {
    const sealed = Buffer.from(message);
    return { sealed, signature: this.sealInPlace(sealed) };
  }

  /** Encrypts `message` where it is (no copy) and returns its 16-byte signature, advancing the outgoing sequence number. */
  sealInPlace(message: Uint8Array): Buffer {
    const sum = this.#checksum(this.#out, message, this.#out.seq);
    this.#out.rc4.updateInPlace(message);
    const signature = this.#signature(this.#out, sum);
    this.#out.seq++;
    return signature;
  }

  /** Decrypts a sealed message from the peer and verifies its signature, throwing when it does not match. */
  unseal(sealed: Buffer, signature: Buffer): Buffer {
    const plain = Buffer.from(sealed);
    this.unsealInPlace(plain, signature);
    return plain;
  }

  /** As unseal, decrypting `sealed` where it is; on a bad signature the bytes are garbage and an Error is thrown. */
  unsealInPlace(sealed: Uint8Array, signature: Uint8Array): void {
    if (signature.length !== 16) throw new Error(`NTLM signature must be 16 bytes, got ${signature.length}`);
    this.#in.rc4.updateInPlace(sealed);
    const expected = this.#signature(this.#in, this.#checksum(this.#in, sealed, this.#in.seq));
    this.#in.seq++;
    if (!timingSafeEqual(expected, signature)) {
      throw new Error("NTLM message signature does not match: the message was altered or the session keys differ");
    }
  }
}
