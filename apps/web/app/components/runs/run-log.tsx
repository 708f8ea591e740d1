// The run log viewer: a virtualized list (only the rows on screen are in the DOM, rows of a fixed
// height, so a million lines scroll like a hundred), steps as collapsible sections with nested
// ::group:: sections, a per-step filter, follow-the-tail, timestamps, search answered by the server,
// permalinks to a line or a range (#L12, #L12-L40), and the raw download.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type FormEvent, type MouseEvent } from "react";
import { Button, buttonClass } from "../ui/button.tsx";
import { CONTROL, MUTED } from "../ui/styles.ts";
import { foldCase, lineHash, lineMatches, lineSpans, parseLineHash, withoutCarriageReturn, type LineSpan, type LogLine } from "./log-lines.ts";
import type { LogStore, Marker, Segment } from "./log-store.ts";
import { formatDuration } from "./run-format.ts";

/** Height of one row, in CSS pixels (rows never wrap). */
export const ROW_HEIGHT = 20;
const OVERSCAN = 10;
// Browsers cap an element's height (about 17 million px in Firefox): past this the scroll range is scaled.
const MAX_SCROLL_PX = 8_000_000;

export interface LogStep {
  id: string;
  index: number;
  name: string;
  status: string;
  exitCode: number | null;
  targetName: string | null;
  startedAt: string | Date | null;
  finishedAt: string | Date | null;
}

type Row = { kind: "step"; segment: number; stepId: string } | { kind: "line"; line: number };
type Block = { kind: "step"; segment: number; stepId: string; start: number } | { kind: "lines"; from: number; to: number; start: number };

interface Group {
  start: number;
  end: number;
  title: string;
  depth: number;
}

// Nested sections from the marker lines: a start opens one, an end closes the innermost, the end of its step closes the rest.
function groupsOf(segments: Segment[], markers: Marker[]): Group[] {
  const groups: Group[] = [];
  let m = 0;
  for (const segment of segments) {
    const open: Group[] = [];
    while (m < markers.length && markers[m]!.line < segment.from) m++;
    while (m < markers.length && markers[m]!.line <= segment.to) {
      const marker = markers[m++]!;
      if (marker.kind === "start") {
        const group = { start: marker.line, end: segment.to, title: marker.title ?? "Section", depth: open.length };
        groups.push(group);
        open.push(group);
      } else {
        const group = open.pop();
        if (group) group.end = marker.line;
      }
    }
  }
  return groups;
}

function buildBlocks(segments: Segment[], groups: Group[], collapsed: ReadonlySet<string>, stepFilter: string): { blocks: Block[]; rows: number } {
  const blocks: Block[] = [];
  let rows = 0;
  const pushLines = (from: number, to: number) => {
    if (to < from) return;
    blocks.push({ kind: "lines", from, to, start: rows });
    rows += to - from + 1;
  };
  segments.forEach((segment, index) => {
    if (stepFilter !== "" && segment.stepId !== stepFilter) return;
    if (segment.to < segment.from) return;
    if (segment.stepId !== null) {
      blocks.push({ kind: "step", segment: index, stepId: segment.stepId, start: rows });
      rows++;
      if (collapsed.has(`s${index}`)) return;
    }
    // Collapsed groups hide the lines after their first (the marker line, shown as the group's header).
    let from = segment.from;
    for (const group of groups) {
      if (group.start < from || group.start > segment.to || !collapsed.has(`g${group.start}`)) continue;
      pushLines(from, group.start);
      from = Math.min(group.end, segment.to) + 1;
    }
    pushLines(from, segment.to);
  });
  return { blocks, rows };
}

function rowAt(blocks: Block[], index: number): Row | null {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid]!.start <= index) lo = mid + 1;
    else hi = mid - 1;
  }
  const block = blocks[hi];
  if (!block) return null;
  if (block.kind === "step") return index === block.start ? { kind: "step", segment: block.segment, stepId: block.stepId } : null;
  const line = block.from + (index - block.start);
  return line <= block.to ? { kind: "line", line } : null;
}

function rowOfLine(blocks: Block[], line: number): number | null {
  for (const block of blocks) if (block.kind === "lines" && line >= block.from && line <= block.to) return block.start + (line - block.from);
  return null;
}

// anser's colour names → classes that read well on both themes.
const COLOURS: Record<string, string> = {
  "ansi-black": "text-slate-900 dark:text-slate-300",
  "ansi-red": "text-rose-700 dark:text-rose-400",
  "ansi-green": "text-emerald-700 dark:text-emerald-400",
  "ansi-yellow": "text-amber-700 dark:text-amber-300",
  "ansi-blue": "text-sky-700 dark:text-sky-400",
  "ansi-magenta": "text-fuchsia-700 dark:text-fuchsia-400",
  "ansi-cyan": "text-cyan-700 dark:text-cyan-300",
  "ansi-white": "text-slate-500 dark:text-slate-100",
  "ansi-bright-black": "text-slate-500 dark:text-slate-400",
  "ansi-bright-red": "text-rose-600 dark:text-rose-300",
  "ansi-bright-green": "text-emerald-600 dark:text-emerald-300",
  "ansi-bright-yellow": "text-amber-600 dark:text-amber-200",
  "ansi-bright-blue": "text-sky-600 dark:text-sky-300",
  "ansi-bright-magenta": "text-fuchsia-600 dark:text-fuchsia-300",
  "ansi-bright-cyan": "text-cyan-600 dark:text-cyan-200",
  "ansi-bright-white": "text-slate-400 dark:text-white",
};
const DECORATIONS: Record<string, string> = { bold: "font-bold", dim: "opacity-70", italic: "italic", underline: "underline", strikethrough: "line-through", hidden: "invisible" };

function Spans({ spans }: { spans: LineSpan[] }) {
  return (
    <>
      {spans.map((span, i) => {
        const classes = [span.fg ? COLOURS[span.fg] : "", ...span.decorations.map((d) => DECORATIONS[d] ?? "")].filter(Boolean).join(" ");
        return classes ? (
          <span key={i} className={classes}>
            {span.text}
          </span>
        ) : (
          span.text
        );
      })}
    </>
  );
}

function timeOf(at: string): string {
  const date = new Date(at);
  return `${date.toLocaleTimeString(undefined, { hour12: false })}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

interface SearchState {
  query: string;
  folded: string;
  total: number;
  /** Matching line numbers held, and the position of the first in the whole list. */
  matches: number[];
  base: number;
  more: boolean;
  /** Index of the current match in the whole list. */
  current: number;
  /** Lines the server searched; later lines are matched here as they arrive. */
  through: number;
  pending: boolean;
  error: string | null;
}

async function fetchSearch(runId: string, q: string, extra = ""): Promise<{ total: number; matches: number[]; more: boolean; lineCount: number }> {
  const res = await fetch(`/api/runs/${runId}/log/search?q=${encodeURIComponent(q)}${extra}`, { headers: { accept: "application/json" } });
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `search failed (${res.status})`);
  return body;
}

interface RunLogProps {
  store: LogStore;
  steps: LogStep[];
  /** The run is still going: live output arrives and the view follows the tail. */
  live: boolean;
  /** Clock for durations of running steps (null before the page is hydrated). */
  now: number | null;
}

/** The log of one run. */
export function RunLog({ store, steps, live, now }: RunLogProps) {
  useSyncExternalStore(store.subscribe, () => store.version, () => store.version);
  const frame = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(ROW_HEIGHT * 30);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [stepFilter, setStepFilter] = useState("");
  const [timestamps, setTimestamps] = useState(false);
  const [follow, setFollow] = useState(live);
  const [selection, setSelection] = useState<{ from: number; to: number } | null>(null);
  const [search, setSearch] = useState<SearchState | null>(null);
  const [queryText, setQueryText] = useState("");
  const programmatic = useRef(false);
  const stepsById = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);

  const segments = store.currentSegments();
  const groups = useMemo(() => groupsOf(segments, store.markers), [store.version]);
  const groupAt = useMemo(() => new Map(groups.map((g) => [g.start, g])), [groups]);
  const { blocks, rows } = useMemo(() => buildBlocks(segments, groups, collapsed, stepFilter), [store.version, groups, collapsed, stepFilter]);

  const totalPx = rows * ROW_HEIGHT;
  const virtualPx = Math.min(totalPx, MAX_SCROLL_PX);
  // Scroll position → position in the full list, scaled when the list is taller than the cap.
  const scale = virtualPx > height && totalPx > height ? (totalPx - height) / (virtualPx - height) : 1;
  const realTop = scrollTop * scale;
  const first = Math.max(0, Math.floor(realTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows - 1, Math.ceil((realTop + height) / ROW_HEIGHT) + OVERSCAN);

  const visible: { index: number; row: Row }[] = [];
  for (let i = first; i <= last; i++) {
    const row = rowAt(blocks, i);
    if (row) visible.push({ index: i, row });
  }
  const visibleLines = visible.filter((v) => v.row.kind === "line").map((v) => (v.row as { line: number }).line);
  const lowLine = visibleLines[0];
  const highLine = visibleLines.at(-1);

  useEffect(() => {
    if (lowLine !== undefined && highLine !== undefined) void store.ensure(lowLine, highLine);
  }, [store, lowLine, highLine, store.version]);

  useLayoutEffect(() => {
    const element = frame.current;
    if (!element) return;
    const measure = () => setHeight(element.clientHeight || ROW_HEIGHT * 30);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const scrollToRow = useCallback(
    (row: number, align: "center" | "end" = "center") => {
      const element = frame.current;
      if (!element) return;
      const target = align === "end" ? row * ROW_HEIGHT : row * ROW_HEIGHT - height / 2 + ROW_HEIGHT / 2;
      programmatic.current = true;
      element.scrollTop = Math.max(0, target / scale);
      setScrollTop(element.scrollTop);
    },
    [height, scale],
  );

  // Follow the tail: after every change, stay at the bottom.
  useLayoutEffect(() => {
    const element = frame.current;
    if (!follow || !element) return;
    programmatic.current = true;
    element.scrollTop = element.scrollHeight;
    setScrollTop(element.scrollTop);
  }, [follow, store.version, rows]);

  const onScroll = () => {
    const element = frame.current;
    if (!element) return;
    setScrollTop(element.scrollTop);
    if (programmatic.current) {
      programmatic.current = false;
      return;
    }
    const atBottom = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT;
    if (follow && !atBottom) setFollow(false);
  };

  // Makes a line visible: its step shown, its sections opened, then scrolled to.
  const reveal = useCallback(
    (line: number) => {
      const segment = segments.findIndex((s) => line >= s.from && line <= s.to);
      const owner = segments[segment];
      if (stepFilter !== "" && owner && owner.stepId !== stepFilter) setStepFilter("");
      setCollapsed((current) => {
        const next = new Set(current);
        next.delete(`s${segment}`);
        for (const g of groups) if (g.start < line && g.end >= line) next.delete(`g${g.start}`);
        return next.size === current.size ? current : next;
      });
      setFollow(false);
      pendingReveal.current = line;
    },
    [segments, groups, stepFilter],
  );
  const pendingReveal = useRef<number | null>(null);
  useLayoutEffect(() => {
    const line = pendingReveal.current;
    if (line === null) return;
    const row = rowOfLine(blocks, line);
    if (row === null) return;
    pendingReveal.current = null;
    scrollToRow(row);
  });

  // Permalinks: the address's #L12 / #L12-L40 selects and shows those lines, now and on every change.
  useEffect(() => {
    const fromHash = () => {
      const range = parseLineHash(window.location.hash);
      if (range) {
        setSelection(range);
        reveal(range.from);
        return;
      }
      const step = /^#step-(\d+)$/.exec(window.location.hash);
      if (step) {
        const target = steps.find((s) => s.index === Number(step[1]) - 1);
        const segment = target ? segments.findIndex((s) => s.stepId === target.id) : -1;
        if (segment >= 0) reveal(segments[segment]!.from);
      }
    };
    fromHash();
    window.addEventListener("hashchange", fromHash);
    return () => window.removeEventListener("hashchange", fromHash);
    // Only on mount: later changes come through hashchange.
  }, []);

  const selectLine = (event: MouseEvent<HTMLAnchorElement>, line: number) => {
    event.preventDefault();
    const range = event.shiftKey && selection ? { from: Math.min(selection.from, line), to: Math.max(selection.to, line) } : { from: line, to: line };
    setSelection(range);
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${window.location.search}${lineHash(range.from, range.to)}`);
  };

  const toggle = (key: string) =>
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  // Search: the server answers for the whole log; lines that arrive afterwards are matched here.
  const runSearch = async (event: FormEvent) => {
    event.preventDefault();
    const q = queryText.trim();
    if (q === "") return setSearch(null);
    setSearch((s) => ({ ...(s ?? { total: 0, matches: [], base: 0, more: false, current: -1, through: 0 }), query: q, folded: foldCase(q), pending: true, error: null }));
    try {
      const answer = await fetchSearch(store.id, q);
      setSearch({ query: q, folded: foldCase(q), total: answer.total, matches: answer.matches, base: 0, more: answer.more, current: answer.matches.length > 0 ? 0 : -1, through: answer.lineCount, pending: false, error: null });
      if (answer.matches[0] !== undefined) reveal(answer.matches[0]);
    } catch (error) {
      setSearch({ query: q, folded: foldCase(q), total: 0, matches: [], base: 0, more: false, current: -1, through: 0, pending: false, error: (error as Error).message });
    }
  };

  // New lines of a live run, matched against the search in force.
  useEffect(() => {
    if (!search || search.pending || search.more || store.lineCount <= search.through) return;
    const found: number[] = [];
    let through = search.through;
    for (let n = search.through + 1; n < store.lineCount; n++) {
      const line = store.get(n);
      if (!line) break;
      if (lineMatches(line.text, search.folded)) found.push(n);
      through = n;
    }
    if (through !== search.through) setSearch({ ...search, matches: [...search.matches, ...found], total: search.total + found.length, through });
  }, [store.version, search, store]);

  const go = async (step: 1 | -1) => {
    if (!search || search.total === 0) return;
    const target = (search.current + step + search.total) % search.total;
    let { matches, base, more } = search;
    const held = target - base;
    if (held < 0 || held >= matches.length) {
      // Beyond what is held: the server answers the page of matches around it.
      if (step === -1 && target === search.total - 1) {
        const answer = await fetchSearch(store.id, search.query, `&before=${2_147_483_647}`);
        matches = answer.matches;
        base = search.total - matches.length;
        more = false;
      } else if (step === 1 && target === 0) {
        const answer = await fetchSearch(store.id, search.query);
        matches = answer.matches;
        base = 0;
        more = answer.more;
      } else if (held < 0) {
        const answer = await fetchSearch(store.id, search.query, `&before=${matches[0]}`);
        base -= answer.matches.length;
        matches = [...answer.matches, ...matches];
      } else {
        const answer = await fetchSearch(store.id, search.query, `&after=${matches.at(-1) ?? 0}`);
        matches = [...matches, ...answer.matches];
        more = answer.more;
      }
    }
    const line = matches[target - base];
    setSearch({ ...search, matches, base, more, current: target });
    if (line !== undefined) reveal(line);
  };

  const currentMatch = search && search.current >= 0 ? search.matches[search.current - search.base] : undefined;
  const matchSet = useMemo(() => new Set(search?.matches ?? []), [search?.matches]);

  const stepLabel = (step: LogStep | undefined) => (step ? `Step ${step.index + 1}: ${step.name}` : "Step");
  // Where the first rendered row sits in the scroll area: on screen where the full list would put it.
  const offset = scrollTop + first * ROW_HEIGHT - realTop;

  return (
    <section aria-labelledby="log-title" className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="log-title" className="text-lg font-semibold">
          Log
        </h2>
        <p className={`text-sm ${MUTED}`} aria-live="polite" data-testid="log-line-count">
          {store.lineCount.toLocaleString("en-US")} lines{live ? ", live" : ""}
        </p>
      </div>

      {store.truncated && (
        <p role="note" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950/60 dark:text-amber-100">
          This run&apos;s output reached the server&apos;s output cap (RUN_OUTPUT_MAX_BYTES): its beginning and the last part of each step were kept, and an “output truncated” line in the log says how many lines were dropped where. The steps ran on, and their outcome is what they really did.
        </p>
      )}

      <div className="flex flex-wrap items-end gap-3">
        <form role="search" aria-label="Log search" onSubmit={runSearch} className="flex min-w-0 flex-1 basis-64 items-end gap-2">
          <div className="min-w-0 flex-1">
            <label htmlFor="log-search" className="block text-sm font-medium text-slate-800 dark:text-slate-200">
              Search the log
            </label>
            <input id="log-search" type="search" value={queryText} onChange={(e) => setQueryText(e.target.value)} maxLength={200} className={`mt-1 ${CONTROL}`} />
          </div>
          <Button type="submit" variant="secondary" disabled={search?.pending}>
            {search?.pending ? "Searching…" : "Search"}
          </Button>
        </form>
        <div className="min-w-0 basis-48">
          <label htmlFor="log-step" className="block text-sm font-medium text-slate-800 dark:text-slate-200">
            Show
          </label>
          <select id="log-step" value={stepFilter} onChange={(e) => setStepFilter(e.target.value)} className={`mt-1 ${CONTROL}`}>
            <option value="">All steps</option>
            {steps.map((step) => (
              <option key={step.id} value={step.id}>
                {stepLabel(step)}
              </option>
            ))}
          </select>
        </div>
      </div>

      {search && (
        <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="log-search-result">
          <span aria-live="polite" role="status">
            {search.error
              ? search.error
              : search.pending
                ? "Searching the whole log…"
                : search.total === 0
                  ? `No line matches “${search.query}”.`
                  : `Match ${(search.current + 1).toLocaleString("en-US")} of ${search.total.toLocaleString("en-US")}${currentMatch !== undefined ? ` (line ${currentMatch})` : ""}`}
          </span>
          <Button variant="secondary" onClick={() => void go(-1)} disabled={!search || search.total === 0 || search.pending}>
            Previous match
          </Button>
          <Button variant="secondary" onClick={() => void go(1)} disabled={!search || search.total === 0 || search.pending}>
            Next match
          </Button>
        </div>
      )}

      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 text-sm">
        <label className="inline-flex items-center gap-2">
          <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} className="size-4" />
          Timestamps
        </label>
        <Button
          variant="secondary"
          aria-pressed={follow}
          onClick={() => {
            setFollow(!follow);
            if (!follow && frame.current) scrollToRow(rows, "end");
          }}
        >
          {follow ? "Following the tail" : "Follow the tail"}
        </Button>
        <Button variant="secondary" onClick={() => { setFollow(false); scrollToRow(0, "end"); }}>
          Top
        </Button>
        <a href={`/api/runs/${store.id}/log.txt`} download className={buttonClass("secondary")}>
          Download log
        </a>
      </div>

      <div
        ref={frame}
        role="region"
        aria-label="Run log lines"
        tabIndex={0}
        onScroll={onScroll}
        data-testid="log-frame"
        className="relative h-[min(70vh,36rem)] overflow-auto rounded-xl border border-slate-200 bg-slate-50 font-mono text-[13px] leading-5 text-slate-900 focus-visible:outline-2 focus-visible:outline-sky-500 dark:border-slate-800 dark:bg-slate-950 dark:text-slate-100"
      >
        {rows === 0 ? (
          <p className={`p-4 font-sans ${MUTED}`}>{live ? "No output yet." : "This run wrote no output."}</p>
        ) : (
          <div style={{ height: virtualPx }} className="relative min-w-full">
            <div style={{ transform: `translateY(${offset}px)` }} className="absolute top-0 left-0 min-w-full">
              {visible.map(({ index, row }) => {
                if (row.kind === "step") {
                  const step = stepsById.get(row.stepId);
                  const open = !collapsed.has(`s${row.segment}`);
                  const duration = step?.startedAt ? formatDuration(step.startedAt, step.finishedAt, now) : null;
                  return (
                    <div key={`s${index}`} style={{ height: ROW_HEIGHT }} className="sticky left-0 flex items-center bg-slate-200/70 font-sans dark:bg-slate-800/70" data-step-row={step ? step.index + 1 : undefined}>
                      <button type="button" aria-expanded={open} onClick={() => toggle(`s${row.segment}`)} className="inline-flex h-5 items-center gap-2 px-2 text-xs font-semibold whitespace-nowrap focus-visible:outline-2 focus-visible:outline-sky-500">
                        <span aria-hidden="true">{open ? "▾" : "▸"}</span>
                        {stepLabel(step)}
                        <span className="font-normal">
                          {step ? ` · ${step.status.replace("_", " ")}${step.exitCode !== null ? ` · exit ${step.exitCode}` : ""}${duration ? ` · ${duration}` : ""}${step.targetName ? ` · on ${step.targetName}` : ""}` : ""}
                        </span>
                      </button>
                    </div>
                  );
                }
                const n = row.line;
                const line: LogLine | undefined = store.get(n);
                const group = groupAt.get(n);
                const selected = selection !== null && n >= selection.from && n <= selection.to;
                const tone =
                  n === currentMatch
                    ? "bg-amber-200 dark:bg-amber-700/70"
                    : selected
                      ? "bg-sky-100 dark:bg-sky-900/60"
                      : matchSet.has(n)
                        ? "bg-amber-100 dark:bg-amber-900/40"
                        : "";
                const stream = line?.stream === "stderr" ? "border-l-2 border-rose-500 text-rose-800 dark:text-rose-300" : line?.stream === "system" ? `italic ${MUTED} border-l-2 border-transparent` : "border-l-2 border-transparent";
                return (
                  <div key={n} id={`L${n}`} data-line={n} style={{ height: ROW_HEIGHT }} className={`flex whitespace-pre ${tone}`}>
                    <a href={lineHash(n)} onClick={(e) => selectLine(e, n)} aria-label={`Line ${n}`} className="sticky left-0 w-16 shrink-0 bg-inherit pr-2 text-right text-slate-500 select-none hover:underline dark:text-slate-400">
                      {n}
                    </a>
                    {timestamps && <span className={`shrink-0 pr-2 ${MUTED}`}>{line ? timeOf(line.at) : ""}</span>}
                    <span className={`pl-2 pr-4 ${stream}`}>
                      {line?.stream === "stderr" && <span className="sr-only">stderr: </span>}
                      {group && (
                        <button type="button" aria-expanded={!collapsed.has(`g${n}`)} aria-label={`${collapsed.has(`g${n}`) ? "Expand" : "Collapse"} section ${group.title}`} onClick={() => toggle(`g${n}`)} className="mr-1 font-sans" style={{ marginLeft: group.depth * 12 }}>
                          {collapsed.has(`g${n}`) ? "▸" : "▾"}
                        </button>
                      )}
                      {line ? group ? <span className="font-semibold">{group.title}</span> : <Spans spans={lineSpans(withoutCarriageReturn(line.text))} /> : <span className={MUTED}>…</span>}
                      {line?.clipped && <span className={`${MUTED} font-sans`}> [line cut here; the download has all of it]</span>}
                    </span>
                  </div>
                );
              })}
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
