// Password hashing for local sign-in: argon2id from node:crypto (Node >= 24.7), stored as a PHC string.
import { argon2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const argon2Async = promisify(argon2);
// OWASP's argon2id minimum: m=19 MiB, t=2, p=1.
const PARAMS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;

/** Hashes a password with argon2id and a random salt, as a PHC string. */
export async function hashPassword(password: string): Promise<string> {
  const nonce = randomBytes(16);
  const tag = await argon2Async("argon2id", { message: password, nonce, ...PARAMS });
  return `$argon2id$v=19$m=${PARAMS.memory},t=${PARAMS.passes},p=${PARAMS.parallelism}$${nonce.toString("base64url")}$${tag.toString("base64url")}`;
}

/** True when `password` matches a hash made by hashPassword; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(hash);
  if (!match) return false;
  const [, memory, passes, parallelism, nonce, tag] = match as unknown as [string, string, string, string, string, string];
  const expected = Buffer.from(tag, "base64url");
  const actual = await argon2Async("argon2id", {
    message: password,
    nonce: Buffer.from(nonce, "base64url"),
    memory: Number(memory),
    passes: Number(passes),
    parallelism: Number(parallelism),
    tagLength: expected.length,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A random password of 24 URL-safe characters, for the first admin. */
export function randomPassword(): string {
  return randomBytes(18).toString("base64url");
}
