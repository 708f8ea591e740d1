// Reading targets: the list with its filters, one target, and the one view of a target row.
import { targetWinRMSettings, type Db, type Prisma, type TargetOs, type WinRMAuth, type WinRMTransport } from "@opsconductor/db";
import type { TargetListQuery } from "../../schemas/targets.ts";
import { notFound } from "../errors.server.ts";
import { newestFirst } from "../pagination.server.ts";
import { containsAny } from "../text-search.server.ts";

export const targetInclude = {
  credential: { select: { id: true, name: true, type: true } },
  dependsOn: { select: { dependsOn: { select: { id: true, name: true } } }, orderBy: { dependsOn: { name: "asc" } } },
} satisfies Prisma.TargetInclude;
export type TargetRow = Prisma.TargetGetPayload<{ include: typeof targetInclude }>;

/** A target as the API shows it. */
export interface TargetView {
  id: string;
  name: string;
  hostname: string;
  port: number;
  os: TargetOs;
  winrm: { transport: WinRMTransport; auth: WinRMAuth; allowUnencrypted: boolean; caCertificate: string | null; rejectUnauthorized: boolean };
  credential: { id: string; name: string } | null;
  tags: string[];
  description: string | null;
  dependsOn: { id: string; name: string }[];
  lastTest: { at: Date; ok: boolean; latencyMs: number | null; message: string | null } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A target row as the API shows it. */
export function toTargetView(row: TargetRow): TargetView {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    port: row.port,
    os: row.os,
    winrm: targetWinRMSettings(row),
    credential: row.credential ? { id: row.credential.id, name: row.credential.name } : null,
    tags: row.tags,
    description: row.description,
    dependsOn: row.dependsOn.map((d) => d.dependsOn),
    lastTest: row.lastTestAt ? { at: row.lastTestAt, ok: row.lastTestOk ?? false, latencyMs: row.lastTestLatencyMs, message: row.lastTestMessage } : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Lists targets newest first, filtered by tags (all must match), OS and a text query. */
export async function listTargets(db: Db, query: TargetListQuery) {
  const keyset = newestFirst(query, "createdAt");
  const where: Prisma.TargetWhereInput = {
    ...(query.tag?.length ? { tags: { hasEvery: query.tag } } : {}),
    ...(query.os ? { os: query.os } : {}),
    ...containsAny(query.q, ["name", "hostname", "description"]),
  };
  const rows = await db.target.findMany({
    include: targetInclude,
    ...keyset.args(where),
  });
  const page = keyset.page(rows);
  return { items: page.items.map(toTargetView), nextCursor: page.nextCursor };
}

/** One target, or a 404. */
export async function getTarget(db: Db, id: string): Promise<TargetView> {
  const row = await db.target.findUnique({ where: { id }, include: targetInclude });
  if (!row) throw notFound("target");
  return toTargetView(row);
}
