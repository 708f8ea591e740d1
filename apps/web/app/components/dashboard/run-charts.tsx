import { ChartFrame, chartTime, summarize, useSeries, type MetricPointView } from "../system/metric-charts.tsx";
import { CARD, MUTED } from "../ui/styles.ts";
import { TimeChart } from "../ui/time-chart.tsx";

const percent = (value: number) => `${Math.round(value)}%`;

/** The dashboard's success-rate and run-volume charts of the last day, from the metrics history. */
export function RunCharts({ history }: { history: { bucketSec: number; points: readonly MetricPointView[] } }) {
  const total = summarize(history.points);
  const volume = useSeries(history.points, (p) => [
    { label: "Succeeded", values: p.map((x) => x.runsSucceeded), color: "emerald" },
    { label: "Failed", values: p.map((x) => x.runsFailed), color: "rose" },
    { label: "Started", values: p.map((x) => x.runsStarted), color: "sky" },
  ]);
  const rate = useSeries(history.points, (p) => [
    { label: "Success rate", values: p.map((x) => (x.runsSucceeded + x.runsFailed === 0 ? null : (100 * x.runsSucceeded) / (x.runsSucceeded + x.runsFailed))), color: "emerald", format: percent },
  ]);
  return (
    <section aria-labelledby="volume-title" className={CARD}>
      <h2 id="volume-title" className="text-lg font-semibold">
        Runs in the last day
      </h2>
      <dl className="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-3">
        <div>
          <dt className={`text-sm ${MUTED}`}>Started</dt>
          <dd className="text-xl font-semibold" data-testid="volume-started">
            {total.started}
          </dd>
        </div>
        <div>
          <dt className={`text-sm ${MUTED}`}>Success rate</dt>
          <dd className="text-xl font-semibold" data-testid="success-rate">
            {total.successRate === null ? "no finished runs" : `${Math.round(total.successRate * 100)}%`}
          </dd>
        </div>
        <div>
          <dt className={`text-sm ${MUTED}`}>Failed</dt>
          <dd className="text-xl font-semibold">{total.failed}</dd>
        </div>
      </dl>
      <div className="mt-4 grid grid-cols-1 gap-6 lg:grid-cols-2">
        <ChartFrame>
          <TimeChart title="Run volume" summary={`Runs per ${history.bucketSec / 60} minutes over the last day.`} times={volume.times} series={volume.series} formatTime={chartTime} testId="chart-volume" />
        </ChartFrame>
        <ChartFrame>
          <TimeChart title="Success rate" summary="Succeeded of the runs that finished (failed or timed out counted as failures); a gap where none finished." times={rate.times} series={rate.series} scales={{ y: { min: 0, max: 100 } }} formatTime={chartTime} testId="chart-success" />
        </ChartFrame>
      </div>
    </section>
  );
}
