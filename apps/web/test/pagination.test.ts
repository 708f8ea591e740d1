// Keyset pagination in either order on a real PostgreSQL: every row exactly once across pages, the
// order the user asked for, ties broken by id, and a cursor from another order refused.
import { createTestDatabase } from "@opsconductor/testing";
import { expect, test } from "vitest";
import { sortedPage, type SortedBy } from "../app/services/pagination.server.ts";

const { prisma } = await createTestDatabase();
// Names with ties (two "beta"s), so the id tie-break is exercised; created a millisecond apart, plus one shared instant.
const names = ["delta", "alpha", "beta", "beta", "gamma", "epsilon", "zeta"];
const base = Date.parse("2026-01-01T00:00:00Z");
for (const [i, name] of names.entries()) {
  await prisma.user.create({ data: { username: `${name}-${i}`, displayName: name, role: "viewer", createdAt: new Date(base + (i === 6 ? 5 : i) * 1000) } });
}

async function walk(sort: SortedBy<"displayName" | "createdAt">, limit: number) {
  const seen: { username: string; displayName: string; createdAt: Date }[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const keyset = sortedPage({ limit, cursor }, sort);
    const rows = await prisma.user.findMany({ select: { id: true, username: true, displayName: true, createdAt: true }, ...keyset.args({ displayName: { not: null } }) });
    const page = keyset.page(rows.map((r) => ({ ...r, displayName: r.displayName! })));
    seen.push(...page.items);
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error("pagination did not end");
}

test("text columns page in ascending and descending order, each row once, ties in id order", async () => {
  for (const limit of [1, 2, 3, 50]) {
    const up = await walk({ column: "displayName", direction: "asc", kind: "text" }, limit);
    expect(up.map((r) => r.displayName)).toEqual([...names].sort());
    const down = await walk({ column: "displayName", direction: "desc", kind: "text" }, limit);
    expect(down.map((r) => r.displayName)).toEqual([...names].sort().reverse());
    expect(new Set(down.map((r) => r.username)).size).toBe(names.length);
  }
});

test("time columns page both ways, rows sharing an instant included once", async () => {
  for (const limit of [1, 2, 4]) {
    const up = await walk({ column: "createdAt", direction: "asc", kind: "date" }, limit);
    expect(up.map((r) => r.createdAt.getTime())).toEqual([...up.map((r) => r.createdAt.getTime())].sort((a, b) => a - b));
    expect(new Set(up.map((r) => r.username)).size).toBe(names.length);
    const down = await walk({ column: "createdAt", direction: "desc", kind: "date" }, limit);
    expect(down.map((r) => r.username)).toEqual([...up.map((r) => r.username)].reverse());
  }
});

test("a cursor made under one order is refused under another, naming the query field", async () => {
  const first = sortedPage({ limit: 2 }, { column: "displayName", direction: "asc", kind: "text" });
  const rows = await prisma.user.findMany({ select: { id: true, displayName: true }, ...first.args({}) });
  const { nextCursor } = first.page(rows.map((r) => ({ ...r, displayName: r.displayName ?? "" })));
  expect(nextCursor).not.toBeNull();
  expect(() => sortedPage({ limit: 2, cursor: nextCursor! }, { column: "displayName", direction: "desc", kind: "text" })).toThrow(/query.cursor belongs to another sort order/);
  expect(() => sortedPage({ limit: 2, cursor: "not-a-cursor" }, { column: "displayName", direction: "asc", kind: "text" })).toThrow(/query.cursor is not a cursor/);
});
