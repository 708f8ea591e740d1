// Reading targets: the list with its filters, one target, and the one view of a target row.
import { hostMatchesPolicy, targetWinRMSettings, type Db, type Prisma, type TargetOs, type WinRMAuth, type WinRMTransport } from "@opsconductor/db";
import type { SortOrder } from "../../lib/sort.ts";
import type { TARGET_SORT_KEYS, TargetListQuery } from "../../schemas/targets.ts";
import { invalidField, notFound } from "../errors.server.ts";
import { newestFirst, sortedPage } from "../pagination.server.ts";
import { toRunSummaryView } from "../runs/queries.server.ts";
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

/** An order of the targets list. */
export type TargetSort = SortOrder<(typeof TARGET_SORT_KEYS)[number]>;

const SORT_KINDS = { name: "text", hostname: "text", createdAt: "date" } as const;

/**
 * Lists targets filtered by tags (all must match), OS and a text query: newest first, or in
 * `sort`'s order (the targets page).
 */
export async function listTargets(db: Db, query: TargetListQuery, sort?: TargetSort) {
  const where: Prisma.TargetWhereInput = {
    ...(query.tag?.length ? { tags: { hasEvery: query.tag } } : {}),
    ...(query.os ? { os: query.os } : {}),
    ...containsAny(query.q, ["name", "hostname", "description"]),
  };
  if (sort) {
    const keyset = sortedPage(query, { column: sort.key, direction: sort.direction, kind: SORT_KINDS[sort.key] });
    const page = keyset.page(await db.target.findMany({ include: targetInclude, ...keyset.args(where) }));
    return { items: page.items.map(toTargetView), nextCursor: page.nextCursor };
  }
  const keyset = newestFirst(query, "createdAt");
  const page = keyset.page(await db.target.findMany({ include: targetInclude, ...keyset.args(where) }));
  return { items: page.items.map(toTargetView), nextCursor: page.nextCursor };
}

/** One target, or a 404. */
export async function getTarget(db: Db, id: string): Promise<TargetView> {
  const row = await db.target.findUnique({ where: { id }, include: targetInclude });
  if (!row) throw notFound("target");
  return toTargetView(row);
}

/** How many of a target's most recent runs its page shows. */
export const RECENT_RUNS = 10;

/**
 * One target for its page: the target, the targets that depend on it, and the newest runs that
 * had a step on it.
 */
export async function getTargetDetail(db: Db, id: string) {
  const row = await db.target.findUnique({
    where: { id },
    include: { ...targetInclude, dependents: { select: { target: { select: { id: true, name: true } } }, orderBy: { target: { name: "asc" } } } },
  });
  if (!row) throw notFound("target");
  const runs = await db.jobRun.findMany({
    where: { steps: { some: { targetId: id } } },
    include: { job: { select: { name: true } }, jobVersion: { select: { number: true } }, requestedBy: { select: { id: true, username: true } } },
    orderBy: [{ queuedAt: "desc" }, { id: "desc" }],
    take: RECENT_RUNS,
  });
  return { target: toTargetView(row), dependents: row.dependents.map((d) => d.target), recentRuns: runs.map(toRunSummaryView) };
}

/** Every target's id and name, by name: what the dependencies picker suggests. */
export function targetNames(db: Db) {
  return db.target.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" }, take: 1000 });
}

/** The tags targets already carry, most used first: what the tag input suggests. */
export async function knownTargetTags(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ tag: string }[]>`SELECT tag FROM targets, unnest(tags) AS tag GROUP BY tag ORDER BY count(*) DESC, tag LIMIT 200`;
  return rows.map((r) => r.tag);
}

/** The credential a target's OS signs in with. */
export const CREDENTIAL_TYPE_FOR: Record<TargetOs, string> = { windows: "winrm", linux: "ssh" };

/** What the credential picker offers for a host, and why the rest is missing. */
export interface CredentialChoices {
  /** The host and OS these choices are for. */
  hostname: string;
  os: TargetOs;
  /** Credentials of the right type whose usage policy includes the host. */
  allowed: { id: string; name: string }[];
  /**
   * Credentials of the right type whose policy does not include the host: an admin may still bind
   * them (approving exactly this connection); anyone else is refused.
   */
  outsidePolicy: { id: string; name: string }[];
  /** How many credentials are of another type than the OS needs. */
  otherType: number;
  /** The type the OS needs. */
  type: string;
}

/**
 * Which credentials may go to `hostname` for a target of `os`, by their usage policy. Names only:
 * the policies themselves stay with admins.
 */
export async function credentialChoices(db: Db, hostname: string, os: TargetOs): Promise<CredentialChoices> {
  const type = CREDENTIAL_TYPE_FOR[os];
  const rows = await db.credential.findMany({ select: { id: true, name: true, type: true, usagePolicy: true }, orderBy: { name: "asc" }, take: 1000 });
  const fitting = rows.filter((row) => row.type === type);
  const host = hostname.trim();
  const allowed = host ? fitting.filter((row) => hostMatchesPolicy(host, row.usagePolicy)) : [];
  return {
    hostname: host,
    os,
    allowed: allowed.map(({ id, name }) => ({ id, name })),
    outsidePolicy: fitting.filter((row) => !allowed.includes(row)).map(({ id, name }) => ({ id, name })),
    otherType: rows.length - fitting.length,
    type,
  };
}

/** The ids of targets named `names` (any case), in order; an unknown name is a 400 on body.dependsOn. */
export async function targetIdsByName(db: Db, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db.target.findMany({ where: { OR: names.map((name) => ({ name: { equals: name, mode: "insensitive" as const } })) }, select: { id: true, name: true } });
  const missing = names.filter((name) => !rows.some((row) => row.name.toLowerCase() === name.toLowerCase()));
  if (missing.length > 0) throw invalidField("body.dependsOn", `names no target called ${missing.join(", ")}`);
  return names.map((name) => rows.find((row) => row.name.toLowerCase() === name.toLowerCase())!.id);
}
