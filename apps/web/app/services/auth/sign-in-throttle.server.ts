// Sign-in throttling kept in PostgreSQL (table login_throttle), so every web process counts the same
// attempts. An attempt is counted BEFORE the password is checked, under row locks, so parallel
// guesses cannot all slip through between a check and a later count.
//
// - An account gets a growing delay instead of a lockout: after LOGIN_FREE_FAILURES_PER_ACCOUNT
//   failures in a row, each further attempt waits 1 s, 2 s, 4 s ... up to LOGIN_MAX_DELAY_SEC, so
//   a guesser is slowed to a crawl while the real user waits at most that long.
// - An address may fail LOGIN_MAX_FAILURES_PER_IP times per LOGIN_THROTTLE_WINDOW_SEC, across all
//   accounts.
// - Refusals are audited once per key and window, as one row whose count grows.
import type { Db, PrismaClient } from "@opsconductor/db";
import { env } from "../../env.server.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.server.ts";
import { ApiError } from "../errors.server.ts";

/** The keys one sign-in attempt is counted under. */
export interface AttemptKeys {
  /** Growing delay: an account, or a user's password change. */
  account: string;
  /** Fixed window: the client address; null when the attempt has none of its own. */
  address?: string | null;
}

export const accountKey = (username: string) => `account:${username.toLowerCase()}`;
export const addressKey = (ip: string | null) => `ip:${ip ?? "unknown"}`;

function rules() {
  const config = env();
  return { free: config.LOGIN_FREE_FAILURES_PER_ACCOUNT, maxDelaySec: config.LOGIN_MAX_DELAY_SEC, perAddress: config.LOGIN_MAX_FAILURES_PER_IP, windowMs: config.LOGIN_THROTTLE_WINDOW_SEC * 1000 };
}

/** Seconds an account waits before its next attempt after `failures` in a row. */
export function accountDelaySec(failures: number, free: number, maxDelaySec: number): number {
  if (failures < free) return 0;
  return Math.min(maxDelaySec, 2 ** Math.min(failures - free, 30));
}

async function ensureRows(db: Db, keys: string[], now: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO login_throttle (key, failures, window_start, not_before, updated_at)
    SELECT k, 0, ${now}, ${now}, ${now} FROM unnest(${keys}::text[]) AS k
    ON CONFLICT (key) DO NOTHING`;
}

export type AttemptOutcome = { allowed: true } | { allowed: false; waitSec: number; blockedKey: string };

const secondsUntil = (at: Date, now: Date) => Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));

// Each step is one UPDATE whose WHERE decides and whose SET counts: PostgreSQL re-checks the WHERE
// against the newest row after waiting for its lock, so concurrent attempts queue on the row and
// each sees the counts of those before it. No transaction spans the steps, so a burst of attempts
// holds no connection while it waits.

/**
 * Counts one attempt for the account and the address, or refuses it (counting nothing) when
 * either must wait. A counted attempt stays a failure unless `attemptSucceeded` takes it back.
 */
export async function countAttempt(prisma: PrismaClient, keys: AttemptKeys, now = new Date()): Promise<AttemptOutcome> {
  const { free, maxDelaySec, perAddress, windowMs } = rules();
  const windowStart = new Date(now.getTime() - windowMs);
  await ensureRows(prisma, [keys.account, ...(keys.address ? [keys.address] : [])], now);
  if (keys.address) {
    const counted = await prisma.$queryRaw<{ key: string }[]>`
      UPDATE login_throttle SET
        failures = CASE WHEN window_start <= ${windowStart} THEN 1 ELSE failures + 1 END,
        window_start = CASE WHEN window_start <= ${windowStart} THEN ${now} ELSE window_start END,
        updated_at = ${now}
      WHERE key = ${keys.address} AND (window_start <= ${windowStart} OR failures < ${perAddress})
      RETURNING key`;
    if (counted.length === 0) {
      const [row] = await prisma.$queryRaw<{ window_start: Date }[]>`SELECT window_start FROM login_throttle WHERE key = ${keys.address}`;
      return { allowed: false, waitSec: secondsUntil(new Date((row?.window_start ?? now).getTime() + windowMs), now), blockedKey: keys.address };
    }
  }
  // An account's failures are forgotten after a quiet window; the delay grows with each one counted.
  const counted = await prisma.$queryRaw<{ key: string }[]>`
    UPDATE login_throttle SET
      failures = CASE WHEN updated_at <= ${windowStart} THEN 1 ELSE failures + 1 END,
      not_before = ${now}::timestamptz + make_interval(secs => LEAST(${maxDelaySec}::int,
        CASE WHEN (CASE WHEN updated_at <= ${windowStart} THEN 1 ELSE failures + 1 END) < ${free}::int THEN 0
             ELSE power(2, LEAST((CASE WHEN updated_at <= ${windowStart} THEN 1 ELSE failures + 1 END) - ${free}::int, 30)) END)),
      updated_at = ${now}
    WHERE key = ${keys.account} AND (failures = 0 OR updated_at <= ${windowStart} OR not_before <= ${now})
    RETURNING key`;
  if (counted.length === 0) {
    if (keys.address) await prisma.$executeRaw`UPDATE login_throttle SET failures = GREATEST(failures - 1, 0) WHERE key = ${keys.address}`;
    const [row] = await prisma.$queryRaw<{ not_before: Date }[]>`SELECT not_before FROM login_throttle WHERE key = ${keys.account}`;
    return { allowed: false, waitSec: secondsUntil(row?.not_before ?? now, now), blockedKey: keys.account };
  }
  if (Math.random() < 0.01) await forgetStale(prisma, now);
  return { allowed: true };
}

/** The counted attempt was right after all: the account starts afresh, the address gets its attempt back. */
export async function attemptSucceeded(prisma: PrismaClient, keys: AttemptKeys): Promise<void> {
  await prisma.$executeRaw`UPDATE login_throttle SET failures = 0, not_before = updated_at WHERE key = ${keys.account}`;
  if (keys.address) await prisma.$executeRaw`UPDATE login_throttle SET failures = GREATEST(failures - 1, 0) WHERE key = ${keys.address}`;
}

// Rows whose counts and audit window have run out carry nothing; unknown user names would pile up.
async function forgetStale(prisma: PrismaClient, now: Date): Promise<void> {
  const { maxDelaySec, windowMs } = rules();
  const before = new Date(now.getTime() - windowMs - maxDelaySec * 1000);
  await prisma.$executeRaw`DELETE FROM login_throttle WHERE updated_at < ${before} AND (audited_at IS NULL OR audited_at < ${before})`;
}

/**
 * Audits an event that may repeat without bound (a refused sign-in, a failing SSO callback) at most
 * once per `key` and window: the first occurrence writes the row, later ones raise its
 * `details.count` and the count in its summary.
 */
export async function recordRepeatedAudit(prisma: PrismaClient, key: string, entry: AuditEntry, now = new Date()): Promise<void> {
  const { windowMs } = rules();
  const windowStart = new Date(now.getTime() - windowMs);
  await ensureRows(prisma, [key], now);
  for (let attempt = 0; attempt < 3; attempt++) {
    const [current] = await prisma.$queryRaw<{ audit_id: bigint }[]>`
      UPDATE login_throttle SET updated_at = GREATEST(updated_at, ${now}) WHERE key = ${key} AND audit_id IS NOT NULL AND audited_at > ${windowStart} RETURNING audit_id`;
    if (current) {
      const counted = await prisma.$executeRaw`
        UPDATE audit_log SET
          details = jsonb_set(details, '{count}', to_jsonb(COALESCE((details->>'count')::int, 1) + 1)),
          summary = left(${entry.summary.slice(0, 400)} || ' (' || (COALESCE((details->>'count')::int, 1) + 1) || ' times since ' || to_char(at AT TIME ZONE 'UTC', 'HH24:MI') || ' UTC)', 500)
        WHERE id = ${current.audit_id}`;
      if (counted > 0) return;
    }
    // No row for this window yet: claim the key (its lock makes the others wait for our row) and write it.
    const written = await prisma.$transaction(
      async (tx) => {
        const claimed = await tx.$queryRaw<{ key: string }[]>`
          UPDATE login_throttle SET audited_at = ${now}, audit_id = NULL, updated_at = GREATEST(updated_at, ${now})
          WHERE key = ${key} AND (audit_id IS NULL OR audited_at IS NULL OR audited_at <= ${windowStart} OR NOT EXISTS (SELECT 1 FROM audit_log WHERE id = login_throttle.audit_id))
          RETURNING key`;
        if (claimed.length === 0) return false;
        await recordAudit(tx, { ...entry, details: { ...entry.details, count: 1 } });
        // This transaction's connection drew the id just now; currval is per session, so it is ours.
        await tx.$executeRaw`UPDATE login_throttle SET audit_id = currval(pg_get_serial_sequence('audit_log', 'id')) WHERE key = ${key}`;
        return true;
      },
      { maxWait: 10_000, timeout: 10_000 },
    );
    if (written) return;
  }
}

/** The 429 of a refused attempt, with Retry-After. */
export function tooManyAttempts(waitSec: number, what = "failed sign-ins"): ApiError {
  return new ApiError(429, "too_many_attempts", `too many ${what}; try again in ${waitSec} s`, { headers: { "Retry-After": String(waitSec) } });
}
