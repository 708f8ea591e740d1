// Configuration formats that web, worker and `pnpm start` share.
import { createHash } from "node:crypto";

/** Master keys as core's createKeyring takes them: key id → base64 key, and the primary key's id. */
export interface MasterKeys {
  keys: Record<string, string>;
  primary: string;
}

const HOW_TO_GENERATE = `generate one with: node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))"`;

/** The id a key listed without one gets: derived from the key, so it survives reordering the list. */
export function defaultKeyId(base64Key: string): string {
  return `k-${createHash("sha256").update(Buffer.from(base64Key, "base64")).digest("hex").slice(0, 12)}`;
}

/**
 * Parses OPSCONDUCTOR_MASTER_KEY: comma-separated `[keyId:]base64Key` entries, the first being the
 * primary (used for new secrets); older keys stay listed until every secret is re-wrapped.
 */
export function parseMasterKeys(value: string, variable = "OPSCONDUCTOR_MASTER_KEY"): MasterKeys {
  const entries = value.split(",").map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error(`${variable} is empty; ${HOW_TO_GENERATE}`);
  const keys: Record<string, string> = {};
  entries.forEach((entry) => {
    const colon = entry.indexOf(":");
    const id = colon === -1 ? defaultKeyId(entry) : entry.slice(0, colon);
    const key = colon === -1 ? entry : entry.slice(colon + 1);
    if (!/^[\w.-]{1,64}$/.test(id)) throw new Error(`${variable}: key id "${id}" may hold only letters, digits, "_", "." and "-" (at most 64)`);
    if (keys[id]) throw new Error(`${variable}: key id "${id}" is listed twice`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, "base64").length !== 32) {
      throw new Error(`${variable}: key "${id}" must be 32 random bytes in base64 (44 characters); ${HOW_TO_GENERATE}`);
    }
    keys[id] = key;
  });
  return { keys, primary: Object.keys(keys)[0]! };
}
