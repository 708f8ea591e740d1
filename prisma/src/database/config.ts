// Configuration formats that web, worker and `pnpm start` share.
import { createHash } from "node:crypto";
import { z } from "zod";

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

/** DATABASE_URL as every process validates it. */
export const databaseUrlSchema = z
  .string({ error: "DATABASE_URL is not set; point it at OpsConductor's PostgreSQL (postgresql://user:password@host:5432/db)" })
  .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgresql:// connection string");

/** OPSCONDUCTOR_MASTER_KEY as every process validates it, parsed into master keys. */
export const masterKeysSchema = (missing: string) =>
  z.string({ error: missing }).transform((value, ctx) => {
    try {
      return parseMasterKeys(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

/** Parses a process's environment with its schema, throwing one error that names every bad variable. */
export function parseEnv<T extends z.ZodType>(schema: T, source: Record<string, string | undefined>): z.infer<T> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`invalid configuration:\n${lines.join("\n")}`);
}
