import { Link } from "@remix-run/react";
import { TimeChart } from "../ui/time-chart.tsx";
import { CARD, MUTED } from "../ui/styles.ts";

/** One bucket of a job's finished runs as the loader sends it (dates may arrive as strings). */
export interface JobRunStatsView {
  at: Date | string;
  succeeded: number;
  failed: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

const RANGES = [
  ["month", "30 days"],
  ["twoDays", "48 hours"],
] as const;

const percent = (v: number) => `${Math.round(v)}%`;
const seconds = (v: number) => (v < 10 ? `${v.toFixed(2)} s` : v < 100 ? `${v.toFixed(1)} s` : `${Math.round(v)} s`);

/** The job page's charts: success rate and run duration (p50/p95) per day or hour. */
export function JobRunCharts({ buckets, range, query }: { buckets: readonly JobRunStatsView[]; range: "month" | "twoDays"; query: string }) {
  const times = buckets.map((b) => b.at);
  const succeeded = buckets.reduce((n, b) => n + b.succeeded, 0);
  const failed = buckets.reduce((n, b) => n + b.failed, 0);
  const finished = succeeded + failed;
  const unit = range === "month" ? "day" : "hour";
  const link = (value: string) => {
    const params = new URLSearchParams(query);
    params.set("chart", value);
    return `?${params.toString()}`;
  };
  return (
    <section aria-labelledby="charts-title" className={CARD}>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <h2 id="charts-title" className="text-lg font-semibold">
          Run history
        </h2>
        <nav aria-label="Chart window" className="flex gap-2">
          {RANGES.map(([value, label]) => (
            <Link
              key={value}
              to={link(value)}
              preventScrollReset
              aria-current={value === range ? "page" : undefined}
              className={`rounded-md px-3 py-1.5 text-sm font-medium ${value === range ? "bg-slate-900 text-white dark:bg-sky-500 dark:text-slate-950" : "border border-slate-300 text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:text-slate-100 dark:hover:bg-slate-800"}`}
            >
              {label}
            </Link>
          ))}
        </nav>
      </div>
      <p className={`mt-1 text-sm ${MUTED}`} data-testid="charts-summary">
        {finished === 0 ? "No run finished in this window." : `${finished} finished ${finished === 1 ? "run" : "runs"} (canceled ones not counted): ${succeeded} succeeded, ${failed} failed or timed out; one point per ${unit}.`}
      </p>
      {finished > 0 && (
        <div className="mt-4 grid gap-6 lg:grid-cols-2">
          <TimeChart
            testId="chart-success"
            title="Success rate"
            summary={`Share of finished runs that succeeded, per ${unit}.`}
            times={times}
            series={[{ label: "Success rate", color: "emerald", values: buckets.map((b) => (b.successRate === null ? null : b.successRate * 100)), format: percent }]}
            scales={{ y: { min: 0, max: 100 } }}
          />
          <TimeChart
            testId="chart-duration"
            title="Duration"
            summary={`Median (p50) and 95th percentile (p95) of run durations, per ${unit}.`}
            times={times}
            series={[
              { label: "p50", color: "sky", values: buckets.map((b) => (b.p50Ms === null ? null : b.p50Ms / 1000)), format: seconds },
              { label: "p95", color: "violet", values: buckets.map((b) => (b.p95Ms === null ? null : b.p95Ms / 1000)), format: seconds },
            ]}
            scales={{ y: { min: 0 } }}
          />
        </div>
      )}
    </section>
  );
}
