// Reading the audit log: filters by actor, action (exact or prefix), entity and time, newest first.
import type { Db, Prisma } from "@opsconductor/db";
import { z } from "zod";
import type { AuditQuery } from "../../schemas/audit.ts";
import { invalidField } from "../errors.server.ts";
import { decodeCursor, olderThan, toPage } from "../pagination.server.ts";

// Audit ids are bigint: 18 digits always fit.
const auditCursor = z.object({ at: z.iso.datetime(), id: z.string().regex(/^\d{1,18}$/) });
const uuid = z.uuid();

/** An audit row as the API shows it; the id is a string because it is 64-bit. */
export function toAuditEntryView(row: Prisma.AuditLogGetPayload<object>) {
  return {
    id: row.id.toString(),
    at: row.at,
    actorId: row.actorId,
    actorName: row.actorName,
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    summary: row.summary,
    details: row.details,
    ip: row.ip,
    userAgent: row.userAgent,
  };
}

/** An audit entry as the API and the Audit log page show it. */
export type AuditEntryView = ReturnType<typeof toAuditEntryView>;

function actionFilter(action: string): Prisma.AuditLogWhereInput {
  if (action.endsWith(".*")) return { action: { startsWith: action.slice(0, -1) } };
  if (action.endsWith(".")) return { action: { startsWith: action } };
  return { action };
}

/** The filters of an audit query, without its page: what the list and the CSV export share. */
export type AuditFilter = Omit<AuditQuery, "limit" | "cursor">;

/** The conditions `filter` puts on audit rows; a bad combination is a 400 naming the query field. */
export function auditWhere(filter: AuditFilter): Prisma.AuditLogWhereInput[] {
  if (filter.entityId && !filter.entityType) throw invalidField("query.entityId", "needs query.entityType as well");
  const from = filter.from ? new Date(filter.from) : undefined;
  const to = filter.to ? new Date(filter.to) : undefined;
  if (from && to && from > to) throw invalidField("query.to", "must not be before query.from");
  const filters: Prisma.AuditLogWhereInput[] = [];
  if (filter.actor) {
    filters.push(uuid.safeParse(filter.actor).success ? { actorId: filter.actor } : { actorName: { equals: filter.actor, mode: "insensitive" } });
  }
  if (filter.action) filters.push(actionFilter(filter.action));
  if (filter.entityType) filters.push({ entityType: filter.entityType, ...(filter.entityId ? { entityId: filter.entityId } : {}) });
  if (from || to) filters.push({ at: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } });
  return filters;
}

/** Audit rows matching `filters`, newest first, after `after` (the last row of the previous page), at most `take`. */
export function auditRowsAfter(db: Db, filters: Prisma.AuditLogWhereInput[], after: { at: Date; id: bigint } | undefined, take: number) {
  const where = after ? [...filters, olderThan("at", after.at, after.id)] : filters;
  return db.auditLog.findMany({ where: { AND: where }, orderBy: [{ at: "desc" }, { id: "desc" }], take });
}

/** Audit entries matching the filters, newest first; ids are strings because they are 64-bit. */
export async function listAudit(db: Db, query: AuditQuery) {
  const filters = auditWhere(query);
  const after = decodeCursor(query.cursor, auditCursor);
  const rows = await auditRowsAfter(db, filters, after ? { at: new Date(after.at), id: BigInt(after.id) } : undefined, query.limit + 1);
  const page = toPage(rows, query.limit, (row) => ({ at: row.at.toISOString(), id: row.id.toString() }));
  return { items: page.items.map(toAuditEntryView), nextCursor: page.nextCursor };
}

/**
 * The distinct actions and entity types in the log, for the filter pickers. Each is a loose index
 * scan (one index probe per distinct value), so it stays cheap on a log of millions of rows.
 */
export async function auditVocabulary(db: Db): Promise<{ actions: string[]; entityTypes: string[] }> {
  const [actions, entityTypes] = await Promise.all([
    db.$queryRaw<{ value: string | null }[]>`
      WITH RECURSIVE seen(value) AS (
        (SELECT action FROM audit_log ORDER BY action LIMIT 1)
        UNION ALL
        SELECT (SELECT action FROM audit_log WHERE action > seen.value ORDER BY action LIMIT 1) FROM seen WHERE seen.value IS NOT NULL
      )
      SELECT value FROM seen WHERE value IS NOT NULL`,
    db.$queryRaw<{ value: string | null }[]>`
      WITH RECURSIVE seen(value) AS (
        (SELECT entity_type FROM audit_log WHERE entity_type IS NOT NULL ORDER BY entity_type LIMIT 1)
        UNION ALL
        SELECT (SELECT entity_type FROM audit_log WHERE entity_type > seen.value ORDER BY entity_type LIMIT 1) FROM seen WHERE seen.value IS NOT NULL
      )
      SELECT value FROM seen WHERE value IS NOT NULL`,
  ]);
  const values = (rows: { value: string | null }[]) => rows.map((r) => r.value).filter((v): v is string => v !== null);
  return { actions: values(actions), entityTypes: values(entityTypes) };
}
