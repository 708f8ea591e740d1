import { Link } from "@remix-run/react";
import { CARD, MUTED } from "../ui/styles.ts";

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
