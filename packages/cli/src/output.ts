// What read commands print: a table for people, or JSON for scripts (--output json).
import { UsageError } from "./errors.ts";

/** The output formats of read commands. */
export type OutputFormat = "table" | "json";

/** Parses --output. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "table" || value === "text") return "table";
  if (value === "json") return "json";
  throw new UsageError(`--output: "${value}" is not a format (table or json)`);
}

/** One column of a table: its heading and how to show a row's cell. */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length ? value.map(cell).join(",") : "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/\s+/g, " ");
}

/** Rows as a plain aligned table (no colours, so it pipes cleanly into grep and awk). */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join("\n") + "\n";
}

/** A record as `key: value` lines. */
export function fields(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join("\n") + "\n";
}

/** JSON as scripts read it: indented, one trailing newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
