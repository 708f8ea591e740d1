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

function actionFilter(action: string): Prisma.AuditLogWhereInput {
  if (action.endsWith(".*")) return { action: { startsWith: action.slice(0, -1) } };
  if (action.endsWith(".")) return { action: { startsWith: action } };
  return { action };
}

/** Audit entries matching the filters, newest first; ids are strings because they are 64-bit. */
export async function listAudit(db: Db, query: AuditQuery) {
  if (query.entityId && !query.entityType) throw invalidField("query.entityId", "needs query.entityType as well");
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from > to) throw invalidField("query.to", "must not be before query.from");
  const after = decodeCursor(query.cursor, auditCursor);
  const filters: Prisma.AuditLogWhereInput[] = [];
  if (query.actor) {
    filters.push(uuid.safeParse(query.actor).success ? { actorId: query.actor } : { actorName: { equals: query.actor, mode: "insensitive" } });
  }
  if (query.action) filters.push(actionFilter(query.action));
  if (query.entityType) filters.push({ entityType: query.entityType, ...(query.entityId ? { entityId: query.entityId } : {}) });
  if (from || to) filters.push({ at: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } });
  if (after) filters.push(olderThan("at", new Date(after.at), BigInt(after.id)));
  const rows = await db.auditLog.findMany({ where: { AND: filters }, orderBy: [{ at: "desc" }, { id: "desc" }], take: query.limit + 1 });
  const page = toPage(rows, query.limit, (row) => ({ at: row.at.toISOString(), id: row.id.toString() }));
  return { items: page.items.map(toAuditEntryView), nextCursor: page.nextCursor };
}
