// Two versions of a job compared: their definitions as pretty-printed JSON, line by line, with
// unchanged stretches folded down to a few lines of context around each change.
import { diffLines } from "diff";
import type { Db } from "@opsconductor/db";
import { getVersion } from "./queries.server.ts";

/** One line of a diff: added, removed or unchanged (with its line numbers), or a fold of unchanged lines. */
export type DiffLine = { kind: "added" | "removed" | "same"; text: string; oldLine: number | null; newLine: number | null } | { kind: "fold"; count: number };

const CONTEXT = 3;

/** The line-by-line difference of two JSON texts, unchanged runs longer than the context folded. */
export function diffTexts(before: string, after: string): { lines: DiffLine[]; added: number; removed: number } {
  const all: Exclude<DiffLine, { kind: "fold" }>[] = [];
  let oldLine = 1;
  let newLine = 1;
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, "").split("\n");
    for (const text of lines) {
      if (part.added) {
        all.push({ kind: "added", text, oldLine: null, newLine: newLine++ });
        added++;
      } else if (part.removed) {
        all.push({ kind: "removed", text, oldLine: oldLine++, newLine: null });
        removed++;
      } else all.push({ kind: "same", text, oldLine: oldLine++, newLine: newLine++ });
    }
  }
  const near = all.map((_, i) => all.slice(Math.max(0, i - CONTEXT), i + CONTEXT + 1).some((line) => line.kind !== "same"));
  const lines: DiffLine[] = [];
  for (let i = 0; i < all.length; i++) {
    if (near[i]) {
      lines.push(all[i]!);
      continue;
    }
    let count = 0;
    while (i < all.length && !near[i]) {
      count++;
      i++;
    }
    i--;
    lines.push({ kind: "fold", count });
  }
  return { lines, added, removed };
}

/** Versions `from` and `to` of a job compared (404 when either does not exist). */
export async function diffVersions(db: Db, jobId: string, from: number, to: number) {
  const [before, after] = await Promise.all([getVersion(db, jobId, from), getVersion(db, jobId, to)]);
  return { from, to, ...diffTexts(JSON.stringify(before.definition, null, 2), JSON.stringify(after.definition, null, 2)) };
}
