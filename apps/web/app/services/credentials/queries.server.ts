// Reading credentials: metadata for admins, references (id, name, type) for operators, never a secret.
import type { Db, Prisma } from "@opsconductor/db";
import type { CredentialListQuery, CredentialType } from "../../schemas/credentials.ts";
import { notFound } from "../errors.server.ts";
import { sortedPage } from "../pagination.server.ts";
import { containsAny } from "../text-search.server.ts";

export const detailSelect = {
  id: true,
  name: true,
  type: true,
  username: true,
  domain: true,
  description: true,
  usagePolicy: true,
  keyId: true,
  createdAt: true,
  updatedAt: true,
  rotatedAt: true,
  _count: { select: { targets: true } },
} satisfies Prisma.CredentialSelect;
export type DetailRow = Prisma.CredentialGetPayload<{ select: typeof detailSelect }>;

/** What an admin sees of a credential: metadata, never the secret. */
export interface CredentialView {
  id: string;
  name: string;
  type: CredentialType;
  username: string | null;
  domain: string | null;
  description: string | null;
  /** Hosts the credential may be used against: names, `*.` wildcards, IP addresses, CIDR ranges. */
  usagePolicy: string[];
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
  rotatedAt: Date | null;
  usedByTargets: number;
}

/** What an operator sees: enough to pick one for a target. */
export interface CredentialReference {
  id: string;
  name: string;
  type: CredentialType;
}

/** A credential row as an admin sees it. */
export function toCredentialView(row: DetailRow): CredentialView {
  const { _count, ...rest } = row;
  return { ...rest, type: row.type as CredentialType, usedByTargets: _count.targets };
}

/** A credential row as an operator sees it: enough to pick one for a target. */
export function toCredentialReference(row: { id: string; name: string; type: string }): CredentialReference {
  return { id: row.id, name: row.name, type: row.type as CredentialType };
}

/**
 * Lists credentials in `query.sort` order (newest first by default); `detail` false gives references
 * only (id, name, type), and then `q` searches names only: matching the hidden fields would reveal
 * them a substring at a time.
 */
export async function listCredentials(db: Db, query: CredentialListQuery, detail: boolean) {
  const keyset = sortedPage(query, { column: query.sort.key, direction: query.sort.direction, kind: query.sort.key === "name" ? "text" : "date" });
  const where: Prisma.CredentialWhereInput = {
    ...(query.type ? { type: query.type } : {}),
    ...containsAny(query.q, detail ? ["name", "username", "description"] : ["name"]),
  };
  const rows = await db.credential.findMany({ select: detailSelect, ...keyset.args(where) });
  const page = keyset.page(rows);
  return {
    items: page.items.map((row): CredentialView | CredentialReference => (detail ? toCredentialView(row) : toCredentialReference(row))),
    nextCursor: page.nextCursor,
  };
}

/** One credential's metadata, or a 404. */
export async function getCredential(db: Db, id: string): Promise<CredentialView> {
  const row = await db.credential.findUnique({ where: { id }, select: detailSelect });
  if (!row) throw notFound("credential");
  return toCredentialView(row);
}

/** The targets that use a credential (at most `limit`, by name): what a refused delete points at. */
export function credentialUsers(db: Db, id: string, limit = 50): Promise<{ id: string; name: string; hostname: string }[]> {
  return db.target.findMany({ where: { credentialId: id }, select: { id: true, name: true, hostname: true }, orderBy: { name: "asc" }, take: limit });
}
