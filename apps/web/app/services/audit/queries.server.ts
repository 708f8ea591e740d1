// Reading the audit log: filters by actor, action (exact or prefix), entity and time, newest first.
import type { Db, Prisma } from "@opsconductor/db";
import { z } from "zod";
import { decodeCursor, pageQuery, toPage } from "./api.server.ts";
import { ApiError } from "./errors.server.ts";

const isoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-26T10:00:00Z" });

/** Query of GET /api/audit. */
export const auditQuery = pageQuery.extend({
  /** A user id, or a username (matched case-insensitively, also for deleted users). */
  actor: z.string().trim().min(1).max(200).optional(),
  /** An exact action ("job.create"), or a prefix ending in "." or ".*" ("auth."). */
  action: z.string().trim().min(1).max(200).optional(),
  entityType: z.string().trim().min(1).max(100).optional(),
  entityId: z.string().trim().min(1).max(200).optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
});
export type AuditQuery = z.infer<typeof auditQuery>;

// Audit ids are bigint: 18 digits always fit.
const auditCursor = z.object({ at: z.iso.datetime(), id: z.string().regex(/^\d{1,18}$/) });
const uuid = z.uuid();

function badQuery(path: string, message: string): ApiError {
  return new ApiError(400, "validation_failed", `${path} ${message}`, { details: [{ path, message: `${path} ${message}` }] });
}

function actionFilter(action: string): Prisma.AuditLogWhereInput {
  if (action.endsWith(".*")) return { action: { startsWith: action.slice(0, -1) } };
  if (action.endsWith(".")) return { action: { startsWith: action } };
  return { action };
}

/** Audit entries matching the filters, newest first; ids are strings because they are 64-bit. */
export async function listAudit(db: Db, query: AuditQuery) {
  if (query.entityId && !query.entityType) throw badQuery("query.entityId", "needs query.entityType as well");
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from > to) throw badQuery("query.to", "must not be before query.from");
  const after = decodeCursor(query.cursor, auditCursor);
  const filters: Prisma.AuditLogWhereInput[] = [];
  if (query.actor) {
    filters.push(uuid.safeParse(query.actor).success ? { actorId: query.actor } : { actorName: { equals: query.actor, mode: "insensitive" } });
  }
  if (query.action) filters.push(actionFilter(query.action));
  if (query.entityType) filters.push({ entityType: query.entityType, ...(query.entityId ? { entityId: query.entityId } : {}) });
  if (from || to) filters.push({ at: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } });
  if (after) {
    const at = new Date(after.at);
    filters.push({ OR: [{ at: { lt: at } }, { at, id: { lt: BigInt(after.id) } }] });
  }
  const rows = await db.auditLog.findMany({ where: { AND: filters }, orderBy: [{ at: "desc" }, { id: "desc" }], take: query.limit + 1 });
  const page = toPage(rows, query.limit, (row) => ({ at: row.at.toISOString(), id: row.id.toString() }));
  return {
    items: page.items.map((row) => ({
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
    })),
    nextCursor: page.nextCursor,
  };
}
