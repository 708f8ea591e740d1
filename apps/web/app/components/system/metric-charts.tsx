import { Link } from "@remix-run/react";
import { useMemo, type ReactNode } from "react";
import { CARD, MUTED } from "../ui/styles.ts";
import { TimeChart, type TimeSeries } from "../ui/time-chart.tsx";
import { formatWhen } from "../ui/when.tsx";

/** One point of the metrics history (dates may arrive as strings from the loader). */
export interface MetricPointView {
  at: Date | string;
  runsStarted: number;
  runsSucceeded: number;
  runsFailed: number;
  queueDepth: number | null;
  schedulerLagMs: number | null;
  stepP95Ms: number | null;
}

export type ChartRange = "hour" | "day" | "week";
const RANGES: readonly [ChartRange, string][] = [
  ["hour", "Last hour"],
  ["day", "Last day"],
  ["week", "Last week"],
];

const max = (values: (number | null)[]) => values.reduce<number | null>((m, v) => (v === null ? m : m === null ? v : Math.max(m, v)), null);

/** Totals of a history: what the charts show, in words (also what a screen reader gets). */
export function summarize(points: readonly MetricPointView[]) {
  const started = points.reduce((n, p) => n + p.runsStarted, 0);
  const succeeded = points.reduce((n, p) => n + p.runsSucceeded, 0);
  const failed = points.reduce((n, p) => n + p.runsFailed, 0);
  return {
    started,
    succeeded,
    failed,
    successRate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
    maxQueueDepth: max(points.map((p) => p.queueDepth)),
    maxLagMs: max(points.map((p) => p.schedulerLagMs)),
    maxP95Ms: max(points.map((p) => p.stepP95Ms)),
  };
}

/** Links that switch the charts' window, keeping the rest of the address. */
export function RangeLinks({ range }: { range: ChartRange }) {
  return (
    <nav aria-label="Chart range" className="flex flex-wrap gap-2">
      {RANGES.map(([value, label]) => (
        <Link
          key={value}
          to={`?range=${value}`}
          preventScrollReset
          aria-current={value === range ? "page" : undefined}
          className={`rounded-md px-3 py-1.5 text-sm font-medium ${value === range ? "bg-slate-900 text-white dark:bg-sky-500 dark:text-slate-950" : "border border-slate-300 text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800"}`}
        >
          {label}
        </Link>
      ))}
    </nav>
  );
}

/** Times in UTC, as every page writes them, so the server and the browser render the same text. */
export const chartTime = (at: Date) => formatWhen(at);
/**
 * Holds one chart: the chart's visually hidden data table is a table, which ignores the 1 px width
 * sr-only gives it, so it is clipped here instead of widening a phone's page.
 */
export function ChartFrame({ children }: { children: ReactNode }) {
  return <div className="relative min-w-0 overflow-hidden p-0.5">{children}</div>;
}

const secondsOf = (ms: number | null) => (ms === null ? null : ms / 1000);
const inSeconds = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} s`;

/**
 * The points' times and a set of series built by `build`, kept while the history is the same: the
 * page reloads its data every few seconds and the chart redraws only when something changed.
 */
export function useSeries(points: readonly MetricPointView[], build: (points: readonly MetricPointView[]) => TimeSeries[]) {
  const key = JSON.stringify(points);
  // Keyed on the content, not on the identity of a fresh loader answer.
  return useMemo(() => ({ times: points.map((p) => p.at), series: build(points) }), [key]);
}

const seconds = (ms: number | null) => (ms === null ? "none" : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`);

/** The system page's charts of the metrics history (runs, queue depth, scheduler lag, p95 step duration). */
export function MetricCharts({ history, range }: { history: { bucketSec: number; points: readonly MetricPointView[] }; range: ChartRange }) {
  const total = summarize(history.points);
  return (
    <section aria-labelledby="history-title" className={CARD}>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <h2 id="history-title" className="text-lg font-semibold">
          Metrics history
        </h2>
        <RangeLinks range={range} />
      </div>
      <p className={`mt-1 text-sm ${MUTED}`}>Written by the workers once a minute into PostgreSQL; one point per {history.bucketSec / 60} minute{history.bucketSec === 60 ? "" : "s"}.</p>
      <div className="mt-4 grid grid-cols-1 gap-6 lg:grid-cols-3">
        <HistoryChart points={history.points} />
      </div>
      <dl className="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-4" data-testid="history-summary">
        <div>
          <dt className={`text-sm ${MUTED}`}>Runs started</dt>
          <dd className="text-xl font-semibold" data-testid="history-started">
            {total.started}
          </dd>
        </div>
        <div>
          <dt className={`text-sm ${MUTED}`}>Succeeded / failed</dt>
          <dd className="text-xl font-semibold" data-testid="history-outcomes">
            {total.succeeded} / {total.failed}
          </dd>
        </div>
        <div>
          <dt className={`text-sm ${MUTED}`}>Largest queue</dt>
          <dd className="text-xl font-semibold">{total.maxQueueDepth ?? "none"}</dd>
        </div>
        <div>
          <dt className={`text-sm ${MUTED}`}>Slowest p95 step / scheduler lag</dt>
          <dd className="text-xl font-semibold">
            {seconds(total.maxP95Ms)} / {seconds(total.maxLagMs)}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function HistoryChart({ points }: { points: readonly MetricPointView[] }) {
  const runs = useSeries(points, (p) => [
    { label: "Started", values: p.map((x) => x.runsStarted), color: "sky" },
    { label: "Succeeded", values: p.map((x) => x.runsSucceeded), color: "emerald" },
    { label: "Failed", values: p.map((x) => x.runsFailed), color: "rose" },
  ]);
  const queue = useSeries(points, (p) => [
    { label: "Queue depth", values: p.map((x) => x.queueDepth), color: "violet" },
    { label: "Scheduler lag", values: p.map((x) => secondsOf(x.schedulerLagMs)), color: "amber", scale: "s", format: inSeconds },
  ]);
  const steps = useSeries(points, (p) => [{ label: "p95 step duration", values: p.map((x) => secondsOf(x.stepP95Ms)), color: "slate", format: inSeconds }]);
  return (
    <>
      <ChartFrame>
        <TimeChart title="Runs" summary="Runs started, succeeded and failed per point." times={runs.times} series={runs.series} formatTime={chartTime} testId="chart-runs" />
      </ChartFrame>
      <ChartFrame>
        <TimeChart title="Queue and scheduler" summary="The largest queue depth and scheduler lag sampled per point." times={queue.times} series={queue.series} formatTime={chartTime} testId="chart-queue" />
      </ChartFrame>
      <ChartFrame>
        <TimeChart title="Step duration" summary="The 95th percentile duration of the steps that finished." times={steps.times} series={steps.series} formatTime={chartTime} testId="chart-steps" />
      </ChartFrame>
    </>
  );
}
