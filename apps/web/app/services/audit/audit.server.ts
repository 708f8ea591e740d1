// Audit entries: who did what to which entity, with secrets redacted before anything is stored.
import type { Db, Prisma } from "@opsconductor/db";

export interface AuditActor {
  id: string | null;
  name: string | null;
}

export interface AuditEntry {
  actor: AuditActor | null;
  action: string;
  entityType?: string | null;
  entityId?: string | null;
  summary: string;
  details?: Record<string, unknown>;
  ip?: string | null;
  userAgent?: string | null;
}

/** An entry as a service hands it over: the request's actor, address and user agent are added for it. */
export type AuditInput = Omit<AuditEntry, "actor" | "ip" | "userAgent"> & { actor?: AuditActor | null };

/**
 * How services audit their changes: writes one entry for the caller (the route builder makes it
 * for the request's principal); pass `tx` to write it in the transaction of the change.
 */
export type Audit = (entry: AuditInput, tx?: Db) => Promise<void>;

const SECRET_KEY = /secret|password|passphrase|token|private|apikey|api_key|^key$/i;
export const REDACTED = "[redacted]";

/** Deep copy of `value` with every secret-looking field replaced by "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1)]));
  }
  return value;
}

/** An Audit writing entries for `actor` (unless an entry names its own) with the client's address and user agent. */
export function auditFor(db: Db, actor: AuditActor | null, client: { ip: string | null; userAgent: string | null }): Audit {
  return (entry, tx) => recordAudit(tx ?? db, { ...entry, actor: entry.actor ?? actor, ip: client.ip, userAgent: client.userAgent });
}

/** Writes one audit row; call it in the same transaction as the change it records. */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      actorId: entry.actor?.id ?? null,
      actorName: entry.actor?.name ?? null,
      action: entry.action,
      entityType: entry.entityType ?? null,
      entityId: entry.entityId ?? null,
      summary: entry.summary.slice(0, 500),
      details: (redact(entry.details ?? {}) ?? {}) as Prisma.InputJsonValue,
      ip: entry.ip ?? null,
      userAgent: entry.userAgent?.slice(0, 500) ?? null,
    },
  });
}
