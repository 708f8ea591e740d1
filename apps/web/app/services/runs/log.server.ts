// A run's log by lines: the line index (run_output_lines, one row per output chunk saying which
// lines it touches), ranges of lines, search over the whole log, its sections, and the raw text for
// download. The index is filled from the chunks by whoever reads the log first, in PostgreSQL, and
// extended as a live run writes more; the numbering rule is components/runs/log-lines.ts's.
import type { Db } from "@opsconductor/db";
import {
  applyChunk,
  foldCase,
  lineMatches,
  MAX_LINE_CHARS,
  parseMarker,
  withoutCarriageReturn,
  type LineCursor,
  type LogLine,
  type LogStream,
} from "../../components/runs/log-lines.ts";
import { MAX_LOG_LINES, type RunLogSearchQuery } from "../../schemas/runs.ts";
import { notFound } from "../errors.server.ts";
import { TERMINAL_STATUSES } from "./queries.server.ts";

/** Chunks indexed by one statement; a long log takes several. */
const INDEX_BATCH = 50_000;
/** Chunks read per query when lines are assembled or the log is downloaded. */
const READ_BATCH = 500;
/** The longest line search looks into (longer lines are searched in their first part). */
const SEARCH_LINE_CHARS = 1024 * 1024;
/** Section markers listed at most. */
const MAX_MARKERS = 10_000;

const ESC = "\u001b";
/** Below every int4 sequence, for "after nothing yet". */
const BEFORE_ANY_SEQUENCE = -2_147_483_649;

/**
 * Extends the run's line index over every chunk stored after the last one indexed. Idempotent and
 * safe to run concurrently: the numbering is a function of the chunks, so two writers insert the same rows.
 */
export async function indexRunLog(db: Db, runId: string): Promise<void> {
  for (;;) {
    const inserted = await db.$executeRaw`
      WITH prev AS (
        SELECT i.sequence, i.last_line, c.step_id, c.stream::text AS stream, c.text LIKE E'%\\n' AS closed
          FROM run_output_lines i JOIN run_output_chunks c ON c.run_id = i.run_id AND c.sequence = i.sequence
         WHERE i.run_id = ${runId}::uuid
         ORDER BY i.sequence DESC LIMIT 1
      ), fresh AS (
        -- Byte-wise functions only (length() and right() count characters: several times slower), on
        -- the text decompressed once per chunk (each function on the column would decompress it again).
        SELECT c.sequence, c.step_id, c.stream::text AS stream,
               octet_length(x.t) - octet_length(replace(x.t, E'\\n', '')) AS newlines,
               -- Its last byte read directly (a LIKE pattern starting with % walks the whole text: 3-4 times slower).
               CASE WHEN octet_length(x.t) = 0 THEN false ELSE get_byte(convert_to(x.t, 'UTF8'), octet_length(x.t) - 1) = 10 END AS closed,
               strpos(x.t, 'group::') > 0 AS has_marker,
               strpos(left(x.t, 12), ':') > 0 AS colon_near_start
          FROM run_output_chunks c CROSS JOIN LATERAL (SELECT c.text || '' AS t OFFSET 0) x
         WHERE c.run_id = ${runId}::uuid AND c.sequence > coalesce((SELECT sequence FROM prev)::bigint, ${BEFORE_ANY_SEQUENCE}::bigint)
         ORDER BY c.sequence LIMIT ${INDEX_BATCH}
      ), joined AS (
        SELECT sequence, step_id, stream, 0 AS newlines, closed, false AS has_marker, false AS colon_near_start, true AS seed FROM prev
        UNION ALL
        SELECT sequence, step_id, stream, newlines, closed, has_marker, colon_near_start, false FROM fresh
      ), linked AS (
        SELECT j.*, lag(j.sequence) OVER w IS NOT NULL AS has_prev, lag(j.closed) OVER w AS prev_closed,
               lag(j.step_id) OVER w AS prev_step, lag(j.stream) OVER w AS prev_stream
          FROM joined j WINDOW w AS (ORDER BY j.sequence)
      ), flagged AS (
        SELECT l.*,
               (l.has_prev AND NOT l.prev_closed AND l.prev_step IS NOT DISTINCT FROM l.step_id AND l.prev_stream = l.stream) AS continues,
               (NOT l.has_prev OR l.prev_step IS DISTINCT FROM l.step_id) AS step_start,
               l.newlines + CASE WHEN l.closed THEN 0 ELSE 1 END AS touched
          FROM linked l
      ), numbered AS (
        SELECT f.*, coalesce((SELECT last_line FROM prev), 0)
                    + sum(f.touched - CASE WHEN f.continues THEN 1 ELSE 0 END) OVER (ORDER BY f.sequence) AS last_line
          FROM flagged f WHERE NOT f.seed
      )
      INSERT INTO run_output_lines (run_id, sequence, step_id, first_line, last_line, continues, step_start, marker)
      SELECT ${runId}::uuid, n.sequence, n.step_id, n.last_line - n.touched + 1, n.last_line, n.continues, n.step_start,
             n.has_marker OR (n.continues AND n.colon_near_start)
        FROM numbered n
      ON CONFLICT (run_id, sequence) DO NOTHING`;
    if (inserted < INDEX_BATCH) return;
  }
}

/** Where a run's log stands: its lines so far and the last chunk they cover. */
export interface LogState extends LineCursor {
  /** Sequence of the last chunk indexed (null: no output yet); live output resumes after it. */
  lastSequence: number | null;
}

async function logState(db: Db, runId: string): Promise<LogState> {
  const [row] = await db.$queryRaw<{ sequence: number; last_line: number; step_id: string | null; stream: LogStream; closed: boolean }[]>`
    SELECT i.sequence, i.last_line, c.step_id, c.stream::text AS stream, c.text LIKE E'%\\n' AS closed
      FROM run_output_lines i JOIN run_output_chunks c ON c.run_id = i.run_id AND c.sequence = i.sequence
     WHERE i.run_id = ${runId}::uuid
     ORDER BY i.sequence DESC LIMIT 1`;
  if (!row) return { lineCount: 0, lastSequence: null, tail: null };
  return { lineCount: row.last_line, lastSequence: row.sequence, tail: { stepId: row.step_id, stream: row.stream, open: !row.closed } };
}

/** The run's status and its log's state, the index brought up to date first. */
export async function runLogState(db: Db, runId: string) {
  const run = await db.jobRun.findUnique({ where: { id: runId }, select: { id: true, status: true } });
  if (!run) throw notFound("run");
  // The run is read before the chunks: a run that had finished then has all its output indexed below.
  await indexRunLog(db, runId);
  const state = await logState(db, runId);
  return { runId, status: run.status, complete: TERMINAL_STATUSES.has(run.status), ...state };
}

interface ChunkRow {
  sequence: number;
  step_id: string | null;
  stream: LogStream;
  text: string;
  at: Date;
  first_line: number;
  continues: boolean;
}

/** Lines from..to (inclusive) of an indexed log, each cut at `maxChars`. */
async function assembleLines(db: Db, runId: string, from: number, to: number, maxChars: number): Promise<LogLine[]> {
  const lines = new Map<number, LogLine>();
  let after: number | null = null;
  let cursor: LineCursor | null = null;
  for (;;) {
    const rows: ChunkRow[] = await db.$queryRaw<ChunkRow[]>`
      SELECT i.sequence, c.step_id, c.stream::text AS stream, c.at, i.first_line, i.continues,
             -- A chunk that only goes on with one long line is read no further than the cut (its newline kept).
             CASE WHEN i.continues AND i.first_line = i.last_line AND length(c.text) > ${maxChars + 1}
                  THEN left(c.text, ${maxChars + 1}) || CASE WHEN right(c.text, 1) = E'\n' THEN E'\n' ELSE '' END
                  ELSE c.text END AS text
        FROM run_output_lines i JOIN run_output_chunks c ON c.run_id = i.run_id AND c.sequence = i.sequence
       WHERE i.run_id = ${runId}::uuid
         AND i.sequence >= (SELECT sequence FROM run_output_lines WHERE run_id = ${runId}::uuid AND last_line >= ${from} ORDER BY last_line, sequence LIMIT 1)
         AND i.sequence <= (SELECT sequence FROM run_output_lines WHERE run_id = ${runId}::uuid AND first_line <= ${to} ORDER BY first_line DESC, sequence DESC LIMIT 1)
         AND i.sequence > ${after ?? BEFORE_ANY_SEQUENCE}::bigint
       ORDER BY i.sequence LIMIT ${READ_BATCH}`;
    for (const row of rows) {
      // The first chunk read starts a line: the cursor begins just before it.
      cursor ??= { lineCount: row.first_line - 1, tail: null };
      if (row.continues && cursor.tail === null) cursor = { lineCount: row.first_line, tail: { stepId: row.step_id, stream: row.stream, open: true } };
      applyChunk(cursor, { stepId: row.step_id, stream: row.stream, sequence: row.sequence, text: row.text, at: row.at }, (line, text, starts) => {
        if (line < from || line > to) return;
        const existing = lines.get(line);
        if (starts || !existing) {
          lines.set(line, { line, stepId: row.step_id, stream: row.stream, at: row.at.toISOString(), seq: row.sequence, text: text.slice(0, maxChars), ...(text.length > maxChars ? { clipped: true } : {}) });
          return;
        }
        existing.seq = row.sequence;
        if (existing.clipped) return;
        const joined = existing.text + text;
        existing.text = joined.slice(0, maxChars);
        if (joined.length > maxChars) existing.clipped = true;
      });
      after = row.sequence;
    }
    if (rows.length < READ_BATCH) break;
  }
  return [...lines.values()].map((l) => ({ ...l, text: withoutCarriageReturn(l.text) }));
}

/** Lines `from` to `from + count - 1` of a run's log (fewer at its end), with the log's state. */
export async function readRunLog(db: Db, runId: string, from: number, count: number) {
  const state = await runLogState(db, runId);
  const to = Math.min(from + Math.min(count, MAX_LOG_LINES) - 1, state.lineCount);
  const lines = from <= to ? await assembleLines(db, runId, from, to, MAX_LINE_CHARS) : [];
  return { ...state, from, lines };
}

/** Bytes of a chunk's end read for a match across its boundary: enough for `chars` characters of UTF-8 and a cut one. */
const tailBytes = (chars: number) => 4 * chars + 4;

/** Lower-cases exactly A-Z to a-z in the database's default collation (pg_trgm folds with it), per client. */
const defaultFoldsAscii = new WeakMap<Db, Promise<boolean>>();
function foldsAscii(db: Db): Promise<boolean> {
  let known = defaultFoldsAscii.get(db);
  if (!known) {
    known = db.$queryRaw<{ ok: boolean }[]>`SELECT lower('ABCDEFGHIJKLMNOPQRSTUVWXYZ') = 'abcdefghijklmnopqrstuvwxyz' AS ok`.then(([row]) => row?.ok === true);
    known.catch(() => defaultFoldsAscii.delete(db));
    defaultFoldsAscii.set(db, known);
  }
  return known;
}

/** `text` as a LIKE pattern that matches it literally anywhere. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The chunks (as line ranges) that may hold a matching line, read through the search indexes of
 * migration 20261204000300: those whose text contains the query in the trigram index's terms (a
 * superset of an ASCII-case-insensitive match: the query is ASCII), those holding escape codes, and
 * those whose last line goes on in the next chunk when the match may straddle the boundary (the
 * chunk's last bytes and the next one's start hold the query, or the next chunk is too short to tell).
 */
async function indexedCandidates(db: Db, runId: string, folded: string) {
  const overlap = folded.length - 1;
  const tail = tailBytes(overlap);
  return db.$queryRaw<{ first_line: number; last_line: number }[]>`
    WITH idx AS (
      SELECT i.sequence, i.first_line, i.last_line, lead(i.sequence) OVER w AS next_sequence, lead(i.continues) OVER w AS next_continues
        FROM run_output_lines i WHERE i.run_id = ${runId}::uuid
      WINDOW w AS (ORDER BY i.sequence)
    ), hits AS (
      SELECT c.sequence FROM run_output_chunks c WHERE c.run_id = ${runId}::uuid AND c.text ILIKE ${containsPattern(folded)}
      UNION
      SELECT c.sequence FROM run_output_chunks c WHERE c.run_id = ${runId}::uuid AND strpos(c.text, E'\\x1b') > 0
      UNION
      SELECT p.sequence
        FROM idx p
        JOIN run_output_chunks a ON a.run_id = ${runId}::uuid AND a.sequence = p.sequence
        JOIN run_output_chunks b ON b.run_id = ${runId}::uuid AND b.sequence = p.next_sequence
        -- The chunk's last bytes, and how many of them continue a character cut off (skipped: they are no text).
        CROSS JOIN LATERAL (SELECT substring(convert_to(a.text, 'UTF8') FROM greatest(1, octet_length(a.text) - ${tail} + 1)) AS bytes OFFSET 0) e
        CROSS JOIN LATERAL (SELECT CASE WHEN octet_length(a.text) <= ${tail} THEN 0 WHEN get_byte(e.bytes, 0) & 192 <> 128 THEN 0
                                        WHEN get_byte(e.bytes, 1) & 192 <> 128 THEN 1 WHEN get_byte(e.bytes, 2) & 192 <> 128 THEN 2 ELSE 3 END AS cut) k
       WHERE p.next_continues
         AND (octet_length(b.text) < ${4 * overlap}
              OR strpos(lower((convert_from(substring(e.bytes FROM 1 + k.cut), 'UTF8') || left(b.text, ${overlap})) COLLATE "C"), ${folded}) > 0)
    )
    SELECT i.first_line, i.last_line FROM idx i JOIN hits h ON h.sequence = i.sequence ORDER BY i.sequence`;
}

/** The same candidates read from every chunk's text: for queries the trigram index cannot narrow. */
async function scannedCandidates(db: Db, runId: string, folded: string) {
  const overlap = folded.length - 1;
  // A chunk may hold a match when its text, followed by the start of the next chunk when that one
  // goes on with its last line, contains the query (ASCII case folded); when it holds ANSI codes
  // (they may sit between the letters); or when the next chunk is too short for a match across it
  // to show in its start.
  return db.$queryRaw<{ first_line: number; last_line: number }[]>`
    WITH neighbours AS (
      SELECT i.sequence, i.first_line, i.last_line,
             lead(i.continues) OVER w AS next_continues,
             lead(left(c.text, ${overlap})) OVER w AS next_head,
             lead(octet_length(c.text)) OVER w AS next_bytes
        FROM run_output_lines i JOIN run_output_chunks c ON c.run_id = i.run_id AND c.sequence = i.sequence
       WHERE i.run_id = ${runId}::uuid
      WINDOW w AS (ORDER BY i.sequence)
    )
    SELECT n.first_line, n.last_line
      FROM neighbours n
      JOIN run_output_chunks c ON c.run_id = ${runId}::uuid AND c.sequence = n.sequence
      CROSS JOIN LATERAL (SELECT c.text || CASE WHEN n.next_continues THEN coalesce(n.next_head, '') ELSE '' END AS t OFFSET 0) x
     WHERE strpos(lower(x.t COLLATE "C"), ${folded}) > 0
        OR strpos(x.t, ${ESC}) > 0
        OR (n.next_continues AND n.next_bytes < ${4 * overlap})
     ORDER BY n.sequence`;
}

/**
 * Searches the whole log: the numbers of the lines whose visible text contains the query (ASCII
 * letters without regard to case), in order. PostgreSQL finds the chunks that may hold a match (for
 * an ASCII query with three letters or digits in a row, through a trigram index, so the rest of the
 * text is never read), and only their lines are assembled and checked.
 */
export async function searchRunLog(db: Db, runId: string, query: RunLogSearchQuery) {
  const state = await runLogState(db, runId);
  const folded = foldCase(query.q);
  // pg_trgm finds only words' trigrams (runs of letters and digits), folded in the database's collation:
  // the index narrows an ASCII query holding three in a row, when that collation folds A-Z as foldCase does.
  const indexable = /^[\x20-\x7e\t]*$/.test(folded) && /[a-z0-9]{3}/.test(folded) && (await foldsAscii(db));
  const candidates = indexable ? await indexedCandidates(db, runId, folded) : await scannedCandidates(db, runId, folded);
  // Candidate chunks as ranges of lines, neighbours merged, then checked a slice at a time.
  const ranges: [number, number][] = [];
  for (const { first_line: a, last_line: b } of candidates) {
    const last = ranges.at(-1);
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else ranges.push([a, b]);
  }
  const matches: number[] = [];
  for (const [a, b] of ranges) {
    for (let from = a; from <= b; from += MAX_LOG_LINES) {
      const lines = await assembleLines(db, runId, from, Math.min(b, from + MAX_LOG_LINES - 1), SEARCH_LINE_CHARS);
      for (const line of lines) if (lineMatches(line.text, folded)) matches.push(line.line);
    }
  }
  let listed: number[];
  if (query.before !== undefined) {
    const earlier = matches.filter((n) => n < query.before!);
    listed = earlier.slice(Math.max(0, earlier.length - query.limit));
  } else {
    const after = query.after ?? 0;
    listed = matches.filter((n) => n > after).slice(0, query.limit);
  }
  const remaining = query.before !== undefined ? matches.filter((n) => n < query.before!).length : matches.filter((n) => n > (query.after ?? 0)).length;
  return { runId, status: state.status, complete: state.complete, lineCount: state.lineCount, lastSequence: state.lastSequence, query: query.q, total: matches.length, matches: listed, more: remaining > listed.length };
}

/** A stretch of the log written by one step (stepId null: by the run itself, e.g. the worker's notes). */
export interface LogSegment {
  stepId: string | null;
  from: number;
  to: number;
}

/** A section marker line: where a nested section opens (with its title) or closes. */
export interface LogMarker {
  line: number;
  kind: "start" | "end";
  title?: string;
}

/** The log's structure: the stretches each step wrote, and the section marker lines. */
export async function runLogSections(db: Db, runId: string) {
  const state = await runLogState(db, runId);
  const rows = await db.$queryRaw<{ step_id: string | null; first_line: number; last_line: number; step_start: boolean; marker: boolean }[]>`
    SELECT step_id, first_line, last_line, step_start, marker FROM run_output_lines
     WHERE run_id = ${runId}::uuid AND (step_start OR marker) ORDER BY sequence`;
  const segments: LogSegment[] = [];
  for (const row of rows) {
    if (!row.step_start) continue;
    const previous = segments.at(-1);
    if (previous) previous.to = row.first_line - 1;
    segments.push({ stepId: row.step_id, from: row.first_line, to: state.lineCount });
  }
  const markers: LogMarker[] = [];
  let checkedThrough = 0;
  for (const row of rows) {
    if (!row.marker || markers.length >= MAX_MARKERS) continue;
    const from = Math.max(row.first_line, checkedThrough + 1);
    for (let a = from; a <= row.last_line; a += MAX_LOG_LINES) {
      for (const line of await assembleLines(db, runId, a, Math.min(row.last_line, a + MAX_LOG_LINES - 1), MAX_LINE_CHARS)) {
        const marker = parseMarker(line.text);
        if (marker && markers.length < MAX_MARKERS) markers.push({ line: line.line, ...marker });
      }
    }
    checkedThrough = Math.max(checkedThrough, row.last_line);
  }
  return { ...state, runId, status: state.status, complete: state.complete, segments, markers, markersTruncated: markers.length >= MAX_MARKERS };
}

/** The run's whole output as it was written (every stream, in order), read a batch at a time as the client takes it. */
export async function runLogDownload(db: Db, runId: string, signal: AbortSignal): Promise<Response> {
  const run = await db.jobRun.findUnique({ where: { id: runId }, select: { id: true, job: { select: { name: true } } } });
  if (!run) throw notFound("run");
  const encoder = new TextEncoder();
  let after: number | null = null;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (signal.aborted) return controller.close();
      const rows = await db.runOutputChunk.findMany({
        where: { runId, ...(after !== null ? { sequence: { gt: after } } : {}) },
        select: { sequence: true, text: true },
        orderBy: { sequence: "asc" },
        take: READ_BATCH,
      });
      if (rows.length > 0) {
        after = rows.at(-1)!.sequence;
        controller.enqueue(encoder.encode(rows.map((r) => r.text).join("")));
      }
      if (rows.length < READ_BATCH) controller.close();
    },
  });
  const slug = run.job.name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "run";
  return new Response(body, {
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": `attachment; filename="${slug}-${runId}.log"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
