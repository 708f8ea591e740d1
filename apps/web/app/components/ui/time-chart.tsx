// A time-series chart drawn by uPlot on a canvas. uPlot touches `window` when it loads, so it is
// imported lazily in the browser only; the server renders the caption, the summary and the data
// table, which is also what a screen reader reads (the canvas itself is hidden from assistive tech).
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type uPlot from "uplot";
import { MUTED } from "./styles.ts";

/** The kit's series colours: Tailwind palette names, read from its CSS variables so light and dark match the rest of the page. */
export type ChartColor = "sky" | "emerald" | "rose" | "amber" | "violet" | "slate";

/** One line of a TimeChart. */
export interface TimeSeries {
  /** Shown in the hover readout and as the data table's column header. */
  label: string;
  /** One value per entry of the chart's `times`; null is a gap (no data in that bucket). */
  values: readonly (number | null)[];
  /** Line colour; series take sky, emerald, rose, amber, violet, slate in order when omitted. */
  color?: ChartColor;
  /** How a value is written in the readout and the table (default: the number as is). */
  format?: (value: number) => string;
  /** Series with the same scale share a y axis; the first two distinct scales get an axis each (left, right). Default "y". */
  scale?: string;
}

/** Props of TimeChart. */
export interface TimeChartProps {
  /** The chart's name: its visible caption and the accessible name of the figure. */
  title: string;
  /** The x values, oldest first: Dates, ISO strings or epoch milliseconds. */
  times: readonly (Date | string | number)[];
  /** The lines drawn over `times`. */
  series: readonly TimeSeries[];
  /** A sentence that says what the chart shows in words (read by screen readers, shown under the caption). */
  summary?: string;
  /** Canvas height in CSS pixels (default 200); the width follows the container. */
  height?: number;
  /** Fixed y ranges per scale, e.g. { y: { min: 0, max: 100 } } for a percentage. */
  scales?: Record<string, { min?: number; max?: number }>;
  /** How a time is written in the readout and the table (default: the browser's short date and time). */
  formatTime?: (at: Date) => string;
  /** Shown instead of the canvas when there are no points (default "No data yet."). */
  emptyText?: string;
  /** data-testid of the figure, so a page's tests can find one chart among several. */
  testId?: string;
}

const ORDER: readonly ChartColor[] = ["sky", "emerald", "rose", "amber", "violet", "slate"];
// Fallbacks when the Tailwind variable is not emitted (Tailwind drops unused theme variables).
const FALLBACK: Record<ChartColor, { light: string; dark: string }> = {
  sky: { light: "#0284c7", dark: "#38bdf8" },
  emerald: { light: "#059669", dark: "#34d399" },
  rose: { light: "#e11d48", dark: "#fb7185" },
  amber: { light: "#d97706", dark: "#fbbf24" },
  violet: { light: "#7c3aed", dark: "#a78bfa" },
  slate: { light: "#475569", dark: "#94a3b8" },
};

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function palette(dark: boolean) {
  const shade = dark ? 400 : 600;
  return {
    line: (color: ChartColor) => cssColor(`--color-${color}-${shade}`, FALLBACK[color][dark ? "dark" : "light"]),
    axis: cssColor(dark ? "--color-slate-400" : "--color-slate-600", dark ? "#94a3b8" : "#475569"),
    grid: cssColor(dark ? "--color-slate-800" : "--color-slate-200", dark ? "#1e293b" : "#e2e8f0"),
  };
}

const toDate = (at: Date | string | number) => (at instanceof Date ? at : new Date(at));
const defaultTime = (at: Date) => at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
const show = (series: TimeSeries, value: number | null | undefined) => (value === null || value === undefined ? "no data" : series.format ? series.format(value) : String(value));

function usePrefersDark(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const query = window.matchMedia("(prefers-color-scheme: dark)");
    setDark(query.matches);
    const change = () => setDark(query.matches);
    query.addEventListener("change", change);
    return () => query.removeEventListener("change", change);
  }, []);
  return dark;
}

/** A responsive, accessible time-series chart (uPlot): hover or arrow keys show the values at a time; a visually hidden table carries the same data. */
export function TimeChart({ title, times, series, summary, height = 200, scales, formatTime = defaultTime, emptyText = "No data yet.", testId }: TimeChartProps) {
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const dark = usePrefersDark();
  const dates = useMemo(() => times.map(toDate), [times]);
  const empty = dates.length === 0;

  useEffect(() => {
    const target = box.current;
    if (!target || empty) return;
    let disposed = false;
    let observer: ResizeObserver | undefined;
    void Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([{ default: UPlot }]) => {
      if (disposed) return;
      const colors = palette(dark);
      const scaleKeys = [...new Set(series.map((s) => s.scale ?? "y"))];
      const axis = (scale: string, side: 1 | 3): uPlot.Axis => ({
        scale,
        side,
        stroke: colors.axis,
        grid: { show: side === 3, stroke: colors.grid, width: 1 },
        ticks: { stroke: colors.grid, width: 1 },
        values: (_u, splits) => {
          const s = series.find((one) => (one.scale ?? "y") === scale);
          return splits.map((v) => (s?.format ? s.format(v) : String(v)));
        },
        size: 56,
      });
      const options: uPlot.Options = {
        width: Math.max(target.clientWidth, 120),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 8 } },
        scales: {
          x: { time: true },
          ...Object.fromEntries(scaleKeys.map((key) => {
            const fixed = scales?.[key];
            return [key, fixed ? { range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [fixed.min ?? min, fixed.max ?? max] } : {}];
          })),
        },
        axes: [
          { stroke: colors.axis, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } },
          ...scaleKeys.slice(0, 2).map((key, i) => axis(key, i === 0 ? 3 : 1)),
        ],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            scale: s.scale ?? "y",
            stroke: colors.line(s.color ?? ORDER[i % ORDER.length]!),
            width: 2,
            spanGaps: false,
            points: { show: dates.length <= 60, size: 5 },
          })),
        ],
        hooks: { setCursor: [(u) => setHover(u.cursor.idx ?? null)] },
      };
      const data: uPlot.AlignedData = [dates.map((d) => d.getTime() / 1000), ...series.map((s) => s.values.map((v) => v ?? null))];
      plot.current = new UPlot(options, data, target);
      observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(target.clientWidth, 120), height }));
      observer.observe(target);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
      setHover(null);
    };
  }, [dates, series, height, scales, dark, empty]);

  // Arrow keys walk the points, so the readout is reachable without a mouse.
  function onKey(event: KeyboardEvent<HTMLDivElement>) {
    const u = plot.current;
    if (!u || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    const last = dates.length - 1;
    const current = hover ?? (event.key === "ArrowLeft" ? last + 1 : -1);
    const next = event.key === "Home" ? 0 : event.key === "End" ? last : Math.min(last, Math.max(0, current + (event.key === "ArrowLeft" ? -1 : 1)));
    const left = u.valToPos(dates[next]!.getTime() / 1000, "x");
    const firstValue = series.map((s) => s.values[next]).find((v) => v !== null && v !== undefined);
    const top = firstValue === undefined || firstValue === null ? u.bbox.height / devicePixelRatio / 2 : u.valToPos(firstValue, series.find((s) => s.values[next] === firstValue)?.scale ?? "y");
    u.setCursor({ left, top });
  }

  const readout =
    hover === null || !dates[hover]
      ? "Hover over the chart or focus it and use the arrow keys to read the values."
      : `${formatTime(dates[hover])}: ${series.map((s) => `${s.label} ${show(s, s.values[hover])}`).join(", ")}`;

  return (
    <figure aria-labelledby={`${id}-title`} className="min-w-0" data-testid={testId}>
      <figcaption>
        <span id={`${id}-title`} className="font-medium">
          {title}
        </span>
        {summary && <span className={`block text-sm ${MUTED}`}>{summary}</span>}
      </figcaption>
      {empty ? (
        <p className={`mt-3 text-sm ${MUTED}`}>{emptyText}</p>
      ) : (
        <>
          <ul aria-hidden="true" className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-sm">
            {series.map((s, i) => (
              <li key={s.label} className="flex items-center gap-1.5">
                <span className={`inline-block h-0.5 w-4 ${SWATCH[s.color ?? ORDER[i % ORDER.length]!]}`} />
                {s.label}
              </li>
            ))}
          </ul>
          <div
            ref={box}
            role="group"
            aria-label={`${title}: chart (arrow keys move between points)`}
            aria-describedby={`${id}-readout`}
            tabIndex={0}
            onKeyDown={onKey}
            className="mt-2 w-full min-w-0 overflow-hidden rounded-md"
            style={{ minHeight: height }}
          />
          <p id={`${id}-readout`} className={`mt-1 min-h-10 text-sm tabular-nums ${MUTED}`} data-testid="chart-readout" aria-live="polite">
            {readout}
          </p>
          <table className="sr-only">
            <caption>{title}: data</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                {series.map((s) => (
                  <th key={s.label} scope="col">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {dates.map((at, i) => (
                <tr key={at.getTime()}>
                  <th scope="row">{formatTime(at)}</th>
                  {series.map((s) => (
                    <td key={s.label}>{show(s, s.values[i])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </figure>
  );
}

const SWATCH: Record<ChartColor, string> = {
  sky: "bg-sky-600 dark:bg-sky-400",
  emerald: "bg-emerald-600 dark:bg-emerald-400",
  rose: "bg-rose-600 dark:bg-rose-400",
  amber: "bg-amber-600 dark:bg-amber-400",
  violet: "bg-violet-600 dark:bg-violet-400",
  slate: "bg-slate-600 dark:bg-slate-400",
};
