import type { ReactNode } from "react";
import { formatBytes } from "../files/format.ts";
import { formatDays, formatEvery, formatRunCount } from "../retention/retention-format.ts";
import { EmptyState } from "../ui/empty-state.tsx";
import { CARD, MUTED } from "../ui/styles.ts";
import { When } from "../ui/when.tsx";

/** The last prune pass as the loader sends it (dates as strings). */
export interface PrunePassRow {
  startedAt: Date | string;
  finishedAt: Date | string;
  runs: number;
  steps: number;
  outputRows: number;
  outputRuns: number;
  bytes: number;
  error: string | null;
  holder: string | null;
  totals: { runs: number; outputRows: number; bytes: number };
}

/** The global defaults a worker reported. */
export interface RetentionDefaultsRow {
  runDays: number;
  runCount: number;
  outputDays: number;
  intervalSec: number | null;
  queueJobDays: number | null;
  reportedBy: string;
  reportedAt: Date | string;
}

const count = (n: number) => n.toLocaleString("en-US");

const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

function Item({ label, testId, wide = false, children }: { label: string; testId: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={`min-w-0 ${wide ? "col-span-2" : ""}`}>
      <dt className={`text-sm ${MUTED}`}>{label}</dt>
      <dd className="font-semibold break-words" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

function FirstPassNote({ defaults }: { defaults: RetentionDefaultsRow | null }) {
  if (!defaults) return <>No worker has reported its retention settings yet. A worker reports them when it starts, prunes about a minute later, then every RETENTION_INTERVAL_SEC (an hour by default).</>;
  const every = defaults.intervalSec === null ? "on its timer" : formatEvery(defaults.intervalSec);
  return (
    <>
      The worker prunes {every}, the first time about a minute after it starts; the result of each pass shows here.
    </>
  );
}

/** Retention on the system page: what the last prune pass removed, and the defaults the workers prune with. */
export function RetentionPanel({ lastPass, defaults }: { lastPass: PrunePassRow | null; defaults: RetentionDefaultsRow | null }) {
  return (
    <section aria-labelledby="retention-title" className={CARD}>
      <h2 id="retention-title" className="text-lg font-semibold">
        Retention
      </h2>
      <p className={`mt-1 text-sm ${MUTED}`}>
        Workers delete finished runs their job&apos;s policy lets go, with their steps and output, and drop older output of runs that stay, in small batches. Queued and running runs, and the newest run of each schedule, always stay. A job&apos;s own policy is set on its page.
      </p>

      <h3 className="mt-4 text-sm font-semibold">Last prune pass</h3>
      {lastPass ? (
        <div data-testid="retention-last-pass">
          <dl className="mt-2 grid grid-cols-2 gap-4 sm:grid-cols-4">
            <Item label="Finished" testId="retention-finished" wide>
              <When at={lastPass.finishedAt} seconds />
            </Item>
            <Item label="By worker" testId="retention-holder" wide>
              {lastPass.holder ? <span className="font-mono text-sm break-all">{lastPass.holder}</span> : <span className={`font-normal ${MUTED}`}>not recorded</span>}
            </Item>
            <Item label="Runs removed" testId="retention-runs">
              {count(lastPass.runs)}
            </Item>
            <Item label="Steps removed" testId="retention-steps">
              {count(lastPass.steps)}
            </Item>
            <Item label="Output rows removed" testId="retention-output-rows">
              {count(lastPass.outputRows)}
            </Item>
            <Item label="Space freed" testId="retention-bytes">
              {formatBytes(lastPass.bytes)}
            </Item>
          </dl>
          <p className={`mt-3 text-sm ${MUTED}`} data-testid="retention-totals">
            {lastPass.outputRuns > 0 ? `Output dropped from ${plural(lastPass.outputRuns, "kept run", "kept runs")}. ` : ""}
            Since the first pass: {plural(lastPass.totals.runs, "run", "runs")} and {plural(lastPass.totals.outputRows, "output row", "output rows")} removed, {formatBytes(lastPass.totals.bytes)} freed. Autovacuum reuses the space; the database files do not shrink.
          </p>
          {lastPass.error && (
            <p role="alert" className="mt-3 rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:bg-rose-950/60 dark:text-rose-100">
              The pass stopped early: {lastPass.error}. What it removed before is counted above; the next pass goes on.
            </p>
          )}
        </div>
      ) : (
        <div className="mt-2">
          <EmptyState title="No prune pass yet">
            <FirstPassNote defaults={defaults} />
          </EmptyState>
        </div>
      )}

      <h3 className="mt-6 text-sm font-semibold">Global defaults</h3>
      {defaults ? (
        <div data-testid="retention-defaults">
          <dl className="mt-2 grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-5">
            <Item label="Keep runs for" testId="default-run-days">
              {formatDays(defaults.runDays)}
            </Item>
            <Item label="Keep per job" testId="default-run-count">
              {formatRunCount(defaults.runCount)}
            </Item>
            <Item label="Drop output after" testId="default-output-days">
              {formatDays(defaults.outputDays)}
            </Item>
            <Item label="Prune pass" testId="default-interval">
              {defaults.intervalSec === null ? <span className={`font-normal ${MUTED}`}>not reported</span> : formatEvery(defaults.intervalSec)}
            </Item>
            <Item label="Finished queue jobs kept" testId="default-queue-days">
              {defaults.queueJobDays === null ? <span className={`font-normal ${MUTED}`}>not reported</span> : formatDays(defaults.queueJobDays)}
            </Item>
          </dl>
          <p className={`mt-3 text-sm ${MUTED}`}>
            As worker <span className="font-mono break-all">{defaults.reportedBy}</span> reported them <When at={defaults.reportedAt} />. They come from each worker&apos;s RUN_RETENTION_DAYS, RUN_RETENTION_RUNS, RUN_OUTPUT_RETENTION_DAYS, RETENTION_INTERVAL_SEC and QUEUE_JOB_RETENTION_DAYS; give every worker the same values.
          </p>
        </div>
      ) : (
        <p className={`mt-2 text-sm ${MUTED}`} data-testid="retention-defaults">
          Not reported yet: each worker records them when it starts. Until then, the defaults are what its environment says (RUN_RETENTION_DAYS, 90 days unless set).
        </p>
      )}
    </section>
  );
}
