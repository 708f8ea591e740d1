// The browser's view of a run's log: the lines it holds (pages fetched from the server around what is
// on screen, plus live output from the event stream), how many lines there are, the stretches each
// step wrote and the section markers. Holds a bounded number of pages, so a log of a million lines
// costs the tab only what was looked at recently.
import { applyChunk, parseMarker, type LineCursor, type LogChunk, type LogLine } from "./log-lines.ts";

/** Lines per page fetched from the server. */
export const PAGE_LINES = 200;
/** Pages kept; the least recently used beyond this are dropped (and fetched again when needed). */
const MAX_PAGES = 80;

export interface Segment {
  stepId: string | null;
  from: number;
  to: number;
}

export interface Marker {
  line: number;
  kind: "start" | "end";
  title?: string;
}

/** What the server says about the log: GET /api/runs/{id}/log and /log/sections. */
export interface LogSnapshot extends LineCursor {
  lastSequence: number | null;
  lines: LogLine[];
  segments: Segment[];
  markers: Marker[];
  /** The run's output reached its cap (the worker's notice is somewhere in the log). */
  truncated?: boolean;
}

interface LogAnswer extends LineCursor {
  lastSequence: number | null;
  lines: LogLine[];
}

export class LogStore {
  private readonly pages = new Map<number, Map<number, LogLine>>();
  private readonly loading = new Set<number>();
  private readonly failed = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private readonly cursor: LineCursor;
  private lastApplied: number;
  /** Bumped on every change, for React's useSyncExternalStore. */
  version = 0;
  segments: Segment[];
  markers: Marker[];
  /** True once a system line says the run's output reached its cap. */
  truncated = false;
  private readonly runId: string;
  private readonly fetchLines: (from: number, count: number) => Promise<LogAnswer>;

  constructor(runId: string, snapshot: LogSnapshot, fetchLines?: (from: number, count: number) => Promise<LogAnswer>) {
    this.runId = runId;
    this.cursor = { lineCount: snapshot.lineCount, tail: snapshot.tail };
    this.lastApplied = snapshot.lastSequence ?? Number.MIN_SAFE_INTEGER;
    this.segments = snapshot.segments.map((s) => ({ ...s }));
    this.markers = [...snapshot.markers];
    this.truncated = snapshot.truncated ?? false;
    this.fetchLines = fetchLines ?? ((from, count) => fetchLogLines(runId, from, count));
    this.merge(snapshot.lines, snapshot);
  }

  get lineCount(): number {
    return this.cursor.lineCount;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }

  private page(line: number): Map<number, LogLine> | undefined {
    const key = Math.floor((line - 1) / PAGE_LINES);
    const page = this.pages.get(key);
    if (page) {
      // Most recently used last, for eviction.
      this.pages.delete(key);
      this.pages.set(key, page);
    }
    return page;
  }

  /** Line `n` if this tab holds it. */
  get(n: number): LogLine | undefined {
    return this.page(n)?.get(n);
  }

  private put(line: LogLine): void {
    const key = Math.floor((line.line - 1) / PAGE_LINES);
    let page = this.pages.get(key);
    if (!page) {
      page = new Map();
      this.pages.set(key, page);
      this.evict();
    }
    page.set(line.line, line);
    if (line.stream === "system" && line.text.startsWith("[output truncated")) this.truncated = true;
  }

  private evict(): void {
    while (this.pages.size > MAX_PAGES) {
      const oldest = this.pages.keys().next().value!;
      this.pages.delete(oldest);
    }
  }

  // Lines from the server: the fresher copy of each line wins (live output may have gone further).
  private merge(lines: LogLine[], answer: LineCursor & { lastSequence: number | null }): number {
    let added = 0;
    for (const line of lines) {
      const held = this.get(line.line);
      // The server's last line may have been open when it was read: unless it is as fresh as what
      // the stream delivered, leave it to be read again rather than keep a line that misses text.
      const stale = line.line === answer.lineCount && answer.tail?.open && (answer.lastSequence ?? Number.MIN_SAFE_INTEGER) < this.lastApplied;
      if (held && held.seq >= line.seq) continue;
      if (stale && !held) continue;
      this.put(line);
      added++;
    }
    return added;
  }

  /** Makes sure lines from..to are held or on their way; resolves when what was missing arrived. */
  async ensure(from: number, to: number): Promise<void> {
    const first = Math.max(1, from);
    const last = Math.min(to, this.lineCount);
    const wanted: number[] = [];
    for (let key = Math.floor((first - 1) / PAGE_LINES); key <= Math.floor((last - 1) / PAGE_LINES); key++) {
      if (this.loading.has(key) || this.failed.has(key)) continue;
      const a = key * PAGE_LINES + 1;
      const b = Math.min(a + PAGE_LINES - 1, this.lineCount);
      const page = this.pages.get(key);
      if (page && page.size >= b - a + 1) continue;
      wanted.push(key);
    }
    await Promise.all(
      wanted.map(async (key) => {
        this.loading.add(key);
        try {
          const answer = await this.fetchLines(key * PAGE_LINES + 1, PAGE_LINES);
          // Nothing new (the server had not caught up yet): wait a moment before asking again.
          if (this.merge(answer.lines, answer) === 0) this.pause(key, 500);
          if (answer.lineCount > this.cursor.lineCount && answer.lastSequence !== null && answer.lastSequence > this.lastApplied) {
            // The server is ahead of the stream (which will deliver the same chunks): only the count moves.
            this.cursor.lineCount = answer.lineCount;
          }
        } catch {
          // Tried again on the next scroll after a pause, not in a tight loop.
          this.pause(key, 2_000);
        } finally {
          this.loading.delete(key);
          this.changed();
        }
      }),
    );
  }

  private pause(key: number, ms: number): void {
    this.failed.add(key);
    setTimeout(() => {
      this.failed.delete(key);
      this.changed();
    }, ms);
  }

  /** Applies live output from the event stream, in order; chunks already applied are skipped. */
  apply(chunks: LogChunk[]): void {
    let touched = false;
    for (const chunk of chunks) {
      if (chunk.sequence <= this.lastApplied) continue;
      this.lastApplied = chunk.sequence;
      touched = true;
      const at = typeof chunk.at === "string" ? chunk.at : chunk.at.toISOString();
      applyChunk(this.cursor, chunk, (n, text, starts) => {
        if (starts) {
          this.put({ line: n, stepId: chunk.stepId, stream: chunk.stream, at, text, seq: chunk.sequence });
          this.extendSegments(n, chunk.stepId);
        } else {
          const held = this.get(n);
          // A line whose start this tab does not hold is read from the server when it is shown.
          if (held && held.seq < chunk.sequence) this.put({ ...held, text: held.text + text, seq: chunk.sequence });
        }
        const line = this.get(n);
        if (line && line.text.startsWith("::")) this.updateMarker(n, line.text);
      });
    }
    if (touched) this.changed();
  }

  private extendSegments(line: number, stepId: string | null): void {
    const last = this.segments.at(-1);
    if (last && last.stepId === stepId) last.to = Math.max(last.to, line);
    else this.segments.push({ stepId, from: line, to: line });
  }

  private updateMarker(line: number, text: string): void {
    const marker = parseMarker(text);
    const index = this.markers.findIndex((m) => m.line === line);
    if (index >= 0) this.markers.splice(index, 1);
    if (marker) {
      this.markers.push({ line, ...marker });
      if (this.markers.length > 1 && this.markers.at(-2)!.line > line) this.markers.sort((a, b) => a.line - b.line);
    }
  }

  /** The segments with the last one reaching the current end of the log. */
  currentSegments(): Segment[] {
    const segments = this.segments.map((s) => ({ ...s }));
    if (segments.length > 0) segments.at(-1)!.to = this.lineCount;
    return segments;
  }

  get id(): string {
    return this.runId;
  }
}

/** GET /api/runs/{id}/log for a page of lines, signed in by the browser's cookies. */
export async function fetchLogLines(runId: string, from: number, count: number): Promise<LogAnswer> {
  const res = await fetch(`/api/runs/${runId}/log?from=${from}&count=${count}`, { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`the log could not be read (${res.status})`);
  return (await res.json()) as LogAnswer;
}
