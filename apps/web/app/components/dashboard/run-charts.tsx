import { summarize, type MetricPointView } from "../system/metric-charts.tsx";
import { CARD, MUTED } from "../ui/styles.ts";

/** The dashboard's success-rate and run-volume charts of the last day, from the metrics history. */
export function RunCharts({ history }: { history: { bucketSec: number; points: readonly MetricPointView[] } }) {
  const total = summarize(history.points);
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
    </section>
  );
}
