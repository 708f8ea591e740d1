// The run log's line model, shared by the server (ranges, search, sections) and the browser (live
// output from the event stream), so both number, split and match lines the same way. Browser-safe.
//
// A run's output is stored as ordered chunks of text, each of one step and one stream (stdout,
// stderr, system). Lines are numbered from 1 across the whole run. A chunk's text continues the
// previous chunk's last line when that chunk has the same step and stream and did not end with a
// newline; any other chunk starts a new line. So a line never mixes streams or steps, and a number,
// once given, always names the same line while the run streams and after it ends.
import Anser from "anser";

/** The streams a chunk of output belongs to. */
export type LogStream = "stdout" | "stderr" | "system";

/** One line of a run's log. */
export interface LogLine {
  /** Its number, from 1. */
  line: number;
  stepId: string | null;
  stream: LogStream;
  /** When the chunk that began the line was written (ISO 8601). */
  at: string;
  /** The raw text, ANSI codes included, without the newline (and without a trailing carriage return). */
  text: string;
  /** Sequence of the last chunk that added to the line: a chunk at or below it is already in it. */
  seq: number;
  /** True when the line was longer than the server sends and was cut (the download has all of it). */
  clipped?: boolean;
}

/** A chunk of output as the event stream and the store carry it. */
export interface LogChunk {
  stepId: string | null;
  stream: LogStream;
  sequence: number;
  text: string;
  at: string | Date;
}

/** Where the line numbering stands after the last chunk applied. */
export interface LineCursor {
  /** Lines so far (the last one may be open). */
  lineCount: number;
  /** Step and stream of the last chunk, and whether it ended without a newline (its last line is open). */
  tail: { stepId: string | null; stream: LogStream; open: boolean } | null;
}

/** The longest line text the server sends; longer lines are cut and marked `clipped`. */
export const MAX_LINE_CHARS = 16 * 1024;

/** True when `chunk` continues the open last line of `cursor`. */
export function continuesLine(cursor: LineCursor, chunk: Pick<LogChunk, "stepId" | "stream">): boolean {
  return cursor.tail !== null && cursor.tail.open && cursor.tail.stepId === chunk.stepId && cursor.tail.stream === chunk.stream;
}

/**
 * Applies one chunk to `cursor`: calls `onText(line, text, starts)` for each piece of text, in order
 * (`starts` when the piece begins line `line`, false when it continues it), and moves the cursor on.
 */
export function applyChunk(cursor: LineCursor, chunk: LogChunk, onText: (line: number, text: string, starts: boolean) => void): void {
  const parts = chunk.text.split("\n");
  const closed = chunk.text.endsWith("\n");
  if (closed) parts.pop();
  let line = cursor.lineCount;
  parts.forEach((part, i) => {
    const continuing = i === 0 && continuesLine(cursor, chunk);
    if (!continuing) line++;
    onText(line, part, !continuing);
  });
  cursor.lineCount = line;
  cursor.tail = { stepId: chunk.stepId, stream: chunk.stream, open: !closed };
}

/** A line's text as stored, without the carriage return Windows programs end lines with. */
export function withoutCarriageReturn(text: string): string {
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}

// Operating-system commands (window titles, hyperlinks) carry no visible text: dropped before parsing.
// eslint-disable-next-line no-control-regex -- escape sequences are exactly what it matches
const OSC = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
// Control characters other than tab, left after the colour codes are parsed out.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it removes
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** A piece of a line with its colours and decorations (anser's class names). */
export interface LineSpan {
  text: string;
  fg: string | null;
  bg: string | null;
  decorations: string[];
}

/** A line's visible pieces: ANSI colour codes parsed (never as HTML), other control codes removed. */
export function lineSpans(text: string): LineSpan[] {
  const cleaned = text.replace(OSC, "");
  if (!cleaned.includes("\u001b")) return [{ text: cleaned.replace(CONTROL, ""), fg: null, bg: null, decorations: [] }];
  return Anser.ansiToJson(cleaned, { use_classes: true, remove_empty: true }).map((part) => ({
    text: part.content.replace(CONTROL, ""),
    fg: part.fg || null,
    bg: part.bg || null,
    decorations: part.decorations ?? [],
  }));
}

/** A line's text with its ANSI codes left out: what search matches against. */
export function visibleText(text: string): string {
  const cleaned = text.replace(OSC, "");
  return cleaned.includes("\u001b") ? Anser.ansiToText(cleaned) : cleaned;
}

/** Lower-cases ASCII letters only, so the browser and PostgreSQL (COLLATE "C") fold alike. */
export function foldCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * Whether a line matches a search: the query appears in its visible text, ASCII letters compared
 * without regard to case. `folded` is foldCase(query).
 */
export function lineMatches(text: string, folded: string): boolean {
  return folded !== "" && foldCase(visibleText(text)).includes(folded);
}

/** A section marker a script prints on a line of its own. */
export type Marker = { kind: "start"; title: string } | { kind: "end" };

/** Opens a nested section of the log; the rest of the line is its title. */
export const GROUP_START = "::group::";
/** Closes the innermost open section. */
export const GROUP_END = "::endgroup::";

/** The marker on `text` (a raw line), if it is one: `::group::<title>` or `::endgroup::` at the line's start. */
export function parseMarker(text: string): Marker | null {
  const line = withoutCarriageReturn(text);
  if (line.startsWith(GROUP_START)) return { kind: "start", title: visibleText(line.slice(GROUP_START.length)).trim() || "Section" };
  if (line.trimEnd() === GROUP_END) return { kind: "end" };
  return null;
}

/** Lines from..to of a permalink hash: `#L12` or `#L12-L40` (either order); null for any other hash. */
export function parseLineHash(hash: string): { from: number; to: number } | null {
  const match = /^#L(\d{1,9})(?:-L?(\d{1,9}))?$/.exec(hash);
  if (!match) return null;
  const a = Number(match[1]);
  const b = match[2] ? Number(match[2]) : a;
  if (a < 1 || b < 1) return null;
  return { from: Math.min(a, b), to: Math.max(a, b) };
}

/** The hash of a permalink to lines from..to. */
export function lineHash(from: number, to = from): string {
  return from === to ? `#L${from}` : `#L${from}-L${to}`;
}
