// Registering targets from a CSV file: every row is checked the way POST /api/targets checks a
// body (the same schema, the credential's type and usage policy, unique names), and only a file
// with no bad row is saved, all of it in one transaction.
import { credentialPolicyMessage, hostMatchesPolicy, type PrismaClient } from "@opsconductor/db";
import type { z } from "zod";
import { createTargetBody, IMPORT_COLUMNS, IMPORT_MAX_ROWS, type CreateTarget } from "../../schemas/targets.ts";
import type { Audit } from "../audit/audit.server.ts";
import { ApiError, isUniqueViolation } from "../errors.server.ts";
import { checkWinrm, insertTarget } from "./commands.server.ts";
import { PolicyRefusal, refused, type BindingAccess } from "./credential-policy.server.ts";
import { CREDENTIAL_TYPE_FOR } from "./queries.server.ts";

export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** One data row of an import file as the preview shows it: its cells, and what is wrong with it. */
export interface ImportRow {
  /** The line of the file the row starts on (the header is line 1). */
  line: number;
  cells: Record<ImportColumn, string>;
  errors: string[];
}

/** What a file would import: its rows, and problems of the file as a whole (header, size). */
export interface ImportPreview {
  rows: ImportRow[];
  fileErrors: string[];
  /** True when every row is good and there is at least one. */
  ready: boolean;
}

/**
 * Splits CSV text (RFC 4180: commas, double quotes around fields, "" for a quote inside one,
 * CRLF or LF line ends) into records, each with the line it starts on; blank lines are skipped.
 */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  let touched = false;
  const endRecord = () => {
    cells.push(cell);
    if (touched || cells.length > 1 || cell !== "") records.push({ line: start, cells });
    cells = [];
    cell = "";
    touched = false;
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (quoted) {
      if (char === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else {
        if (char === "\n") line++;
        cell += char;
      }
    } else if (char === '"') {
      quoted = true;
      touched = true;
    } else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && source[i + 1] === "\n") i++;
      endRecord();
      line++;
      start = line;
    } else cell += char;
  }
  if (cell !== "" || cells.length > 0 || touched) endRecord();
  return records;
}

// Header spellings: "Credential name", "credential_name" and "credential" name the same column.
function columnOf(header: string): ImportColumn | undefined {
  const key = header.trim().toLowerCase().replace(/[\s_-]+/g, "");
  if (key === "credentialname") return "credential";
  return IMPORT_COLUMNS.find((column) => column === key);
}

// A schema issue as the preview shows it: the column it concerns, then the rule.
function issueText(issue: z.core.$ZodIssue): string {
  const [first, second] = issue.path.map(String);
  const column = first === "winrm" ? second : first === "credentialId" ? "credential" : first;
  let message = issue.message;
  if (issue.code === "too_small" && issue.origin === "string") message = Number(issue.minimum) === 1 ? "is required" : `must be at least ${issue.minimum} characters`;
  else if (issue.code === "too_big" && issue.origin === "string") message = `must be at most ${issue.maximum} characters`;
  else if (issue.code === "too_big" && issue.origin === "array") message = `may list at most ${issue.maximum} tags`;
  return `${column}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
}

const blankToUndefined = (value: string) => (value.trim() === "" ? undefined : value.trim());

interface Checked {
  preview: ImportPreview;
  bodies: CreateTarget[];
}

async function check(prisma: PrismaClient, csv: string, access: BindingAccess): Promise<Checked> {
  const records = parseCsv(csv);
  const fileErrors: string[] = [];
  const [header, ...data] = records;
  if (!header) return { preview: { rows: [], fileErrors: ["The file is empty: its first line names the columns (name,hostname,port,os,transport,auth,tags,credential)."], ready: false }, bodies: [] };
  const columns = header.cells.map(columnOf);
  const unknown = header.cells.filter((_, i) => columns[i] === undefined);
  if (unknown.length > 0) fileErrors.push(`Line 1 names columns this import does not know: ${unknown.map((c) => `"${c.trim()}"`).join(", ")}. Known columns: ${IMPORT_COLUMNS.join(", ")}.`);
  const twice = IMPORT_COLUMNS.filter((column) => columns.filter((c) => c === column).length > 1);
  if (twice.length > 0) fileErrors.push(`Line 1 names ${twice.join(", ")} more than once.`);
  for (const required of ["name", "hostname"] as const) if (!columns.includes(required)) fileErrors.push(`Line 1 has no ${required} column; every target needs one.`);
  if (data.length === 0) fileErrors.push("The file has no rows below its header line.");
  if (data.length > IMPORT_MAX_ROWS) fileErrors.push(`The file has ${data.length} rows; one import takes at most ${IMPORT_MAX_ROWS}. Split it.`);
  if (fileErrors.length > 0) {
    const rows = data.slice(0, IMPORT_MAX_ROWS).map((record) => ({ line: record.line, cells: cellsOf(record.cells, columns), errors: [] }));
    return { preview: { rows, fileErrors, ready: false }, bodies: [] };
  }

  const credentialNames = [...new Set(data.map((r) => cellsOf(r.cells, columns).credential.trim()).filter(Boolean))];
  const credentials = credentialNames.length
    ? await prisma.credential.findMany({ where: { OR: credentialNames.map((name) => ({ name: { equals: name, mode: "insensitive" as const } })) }, select: { id: true, name: true, type: true, usagePolicy: true } })
    : [];
  const names = data.map((r) => cellsOf(r.cells, columns).name.trim()).filter(Boolean);
  const taken = names.length ? await prisma.target.findMany({ where: { OR: names.map((name) => ({ name: { equals: name, mode: "insensitive" as const } })) }, select: { name: true } }) : [];
  const takenNames = new Set(taken.map((t) => t.name.toLowerCase()));
  const firstLine = new Map<string, number>();

  const rows: ImportRow[] = [];
  const bodies: CreateTarget[] = [];
  for (const record of data) {
    const cells = cellsOf(record.cells, columns);
    const errors: string[] = [];
    if (record.cells.length !== header.cells.length) errors.push(`has ${record.cells.length} ${record.cells.length === 1 ? "cell" : "cells"}; the header line has ${header.cells.length}`);
    const portText = blankToUndefined(cells.port);
    const candidate = {
      name: cells.name,
      hostname: cells.hostname,
      port: portText === undefined ? undefined : /^\d+$/.test(portText) ? Number(portText) : portText,
      os: blankToUndefined(cells.os)?.toLowerCase(),
      winrm: { transport: blankToUndefined(cells.transport)?.toLowerCase(), auth: blankToUndefined(cells.auth)?.toLowerCase() },
      tags: cells.tags.split(/[\s;]+/).filter(Boolean),
    };
    const parsed = createTargetBody.safeParse(candidate);
    if (!parsed.success) errors.push(...parsed.error.issues.map(issueText));
    const body: CreateTarget | undefined = parsed.success ? { ...parsed.data } : undefined;

    const key = cells.name.trim().toLowerCase();
    if (key) {
      const earlier = firstLine.get(key);
      if (earlier !== undefined) errors.push(`name: line ${earlier} already has a target named ${cells.name.trim()}`);
      else firstLine.set(key, record.line);
      if (takenNames.has(key)) errors.push(`name: a target named ${cells.name.trim()} already exists`);
    }
    if (body) {
      const transport = body.winrm?.transport ?? "http";
      try {
        checkWinrm({ transport, auth: body.winrm?.auth ?? "ntlm", allowUnencrypted: false });
      } catch {
        errors.push("auth: basic over http sends the password readably; use ntlm or https (an import never allows unencrypted traffic)");
      }
    }
    const credentialName = cells.credential.trim();
    if (credentialName) {
      const credential = credentials.find((c) => c.name.toLowerCase() === credentialName.toLowerCase());
      const os = body?.os ?? "windows";
      if (!credential) errors.push(`credential: there is no credential named ${credentialName}`);
      else if (credential.type !== CREDENTIAL_TYPE_FOR[os]) errors.push(`credential: ${credential.name} is a ${credential.type} credential; a ${os} target needs a ${CREDENTIAL_TYPE_FOR[os]} credential`);
      else if (!access.bindAnywhere && !hostMatchesPolicy(cells.hostname.trim(), credential.usagePolicy)) {
        errors.push(`credential: ${credentialPolicyMessage(credential.name, cells.hostname.trim(), credential.usagePolicy.length === 0)}`);
      } else if (body) body.credentialId = credential.id;
    }
    rows.push({ line: record.line, cells, errors });
    if (body && errors.length === 0) bodies.push(body);
  }
  const ready = rows.every((row) => row.errors.length === 0);
  return { preview: { rows, fileErrors, ready }, bodies: ready ? bodies : [] };
}

function cellsOf(values: string[], columns: (ImportColumn | undefined)[]): Record<ImportColumn, string> {
  const cells = Object.fromEntries(IMPORT_COLUMNS.map((column) => [column, ""])) as Record<ImportColumn, string>;
  columns.forEach((column, i) => {
    if (column) cells[column] = values[i] ?? "";
  });
  return cells;
}

/** Checks every row of an import file without saving anything. */
export async function previewImport(prisma: PrismaClient, csv: string, access: BindingAccess): Promise<ImportPreview> {
  return (await check(prisma, csv, access)).preview;
}

/**
 * Imports a file whose every row is good, in one transaction; otherwise saves nothing and answers
 * the preview with the rows' errors. Each target is audited as POST /api/targets audits it.
 */
export async function importTargets(prisma: PrismaClient, csv: string, audit: Audit, access: BindingAccess): Promise<{ imported: number; preview: ImportPreview }> {
  const { preview, bodies } = await check(prisma, csv, access);
  if (!preview.ready) return { imported: 0, preview };
  try {
    await prisma.$transaction(
      async (tx) => {
        for (const body of bodies) await insertTarget(tx, body, audit, access);
        await audit({ action: "target.import", entityType: "target", summary: `imported ${bodies.length} targets from CSV`, details: { names: bodies.map((b) => b.name) } }, tx);
      },
      { timeout: 60_000 },
    );
  } catch (error) {
    if (error instanceof PolicyRefusal) await refused(error, "target.import", audit, prisma);
    // Someone registered one of these names (or removed a credential) since the check.
    if (error instanceof ApiError) throw new ApiError(409, "import_conflict", `nothing was imported: ${error.message}; preview the file again`);
    if (isUniqueViolation(error)) throw new ApiError(409, "import_conflict", "nothing was imported: a target with one of these names was registered meanwhile; preview the file again");
    throw error;
  }
  return { imported: bodies.length, preview };
}
