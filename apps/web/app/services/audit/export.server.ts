// The audit log as CSV (RFC 4180), streamed: rows are read a page at a time in keyset order and
// written as the client takes them, so an export of millions of entries holds one page in memory.
import type { Db } from "@opsconductor/db";
import { auditRowsAfter, auditWhere, toAuditEntryView, type AuditFilter } from "./queries.server.ts";

/** The columns of an audit export, in order. */
export const AUDIT_CSV_COLUMNS = ["id", "at", "actor_id", "actor_name", "action", "entity_type", "entity_id", "summary", "details", "ip", "user_agent"] as const;

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"):
// = + - @, and tab and carriage return, which some read past to the next character.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell: a value a spreadsheet would read as a formula gets a leading apostrophe, and a
 * value holding a comma, quote or line break is quoted with its quotes doubled.
 */
export function csvCell(value: string | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line (CRLF-terminated, as RFC 4180 has it) of `cells`. */
export function csvLine(cells: readonly (string | null | undefined)[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

const PAGE_ROWS = 500;
// Excel reads a CSV file without a byte order mark in the machine's legacy code page, which garbles
// every non-ASCII name; with one it reads UTF-8. Other CSV readers skip it.
const BOM = "\uFEFF";

/**
 * The audit entries matching `filter`, newest first, as a stream of CSV bytes: a header line, then
 * one line per entry, read from the database `pageRows` at a time as the reader pulls.
 * The filters are checked before the stream is made, so a bad one throws instead of a broken file.
 */
export function auditCsvStream(db: Db, filter: AuditFilter, options: { pageRows?: number } = {}): ReadableStream<Uint8Array> {
  const filters = auditWhere(filter);
  const take = options.pageRows ?? PAGE_ROWS;
  const encoder = new TextEncoder();
  let after: { at: Date; id: bigint } | undefined;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(BOM + csvLine(AUDIT_CSV_COLUMNS)));
          return;
        }
        const rows = await auditRowsAfter(db, filters, after, take);
        if (rows.length > 0) {
          const last = rows[rows.length - 1]!;
          after = { at: last.at, id: last.id };
          let chunk = "";
          for (const row of rows) {
            const entry = toAuditEntryView(row);
            chunk += csvLine([entry.id, entry.at.toISOString(), entry.actorId, entry.actorName, entry.action, entry.entityType, entry.entityId, entry.summary, JSON.stringify(entry.details), entry.ip, entry.userAgent]);
          }
          controller.enqueue(encoder.encode(chunk));
        }
        if (rows.length < take) controller.close();
      },
    },
    // One page waiting at most: the next is read only when the client has taken the last.
    { highWaterMark: 1 },
  );
}
