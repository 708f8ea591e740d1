import { Link } from "@remix-run/react";
import type { ReactNode } from "react";
import { RunStatusBadge } from "../jobs/run-status.tsx";
import { CARD, MUTED } from "../ui/styles.ts";
import { When } from "../ui/when.tsx";

const LINK = "font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300";

/** A titled dashboard card; `id` names its heading so the section is a labelled landmark. */
export function Panel({ id, title, children, action }: { id: string; title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <section aria-labelledby={`${id}-title`} className={`${CARD} min-w-0`} data-testid={`panel-${id}`}>
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={`${id}-title`} className="text-lg font-semibold">
          {title}
        </h2>
        {action}
      </div>
      {children}
    </section>
  );
}

/** Runs queued or running now. */
export function InProgressList({ runs }: { runs: readonly { id: string; status: string; jobName: string; queuedAt: Date | string; startedAt: Date | string | null; workerId: string | null }[] }) {
  if (runs.length === 0) return <p className={MUTED}>Nothing is queued or running.</p>;
  return (
    <ul className="divide-y divide-slate-200 dark:divide-slate-800" data-testid="in-progress">
      {runs.map((run) => (
        <li key={run.id} className="flex flex-wrap items-center gap-2 py-2">
          <Link to={`/runs/${run.id}`} className={LINK}>
            {run.jobName}
          </Link>
          <RunStatusBadge status={run.status} />
          <span className={`text-sm ${MUTED}`}>
            {run.startedAt ? (
              <>
                started <When at={run.startedAt} />
              </>
            ) : (
              <>
                queued <When at={run.queuedAt} />
              </>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** The newest failed runs, each linking to the step that failed. */
export function FailureList({ runs }: { runs: readonly { id: string; status: string; jobName: string; finishedAt: Date | string | null; error: string | null; failedStep: { index: number; name: string } | null }[] }) {
  if (runs.length === 0) return <p className={MUTED}>No run has failed.</p>;
  return (
    <ul className="divide-y divide-slate-200 dark:divide-slate-800" data-testid="recent-failures">
      {runs.map((run) => (
        <li key={run.id} className="space-y-1 py-2">
          <div className="flex flex-wrap items-center gap-2">
            <Link to={`/runs/${run.id}`} className={LINK}>
              {run.jobName}
            </Link>
            <RunStatusBadge status={run.status} />
            {run.finishedAt && (
              <span className={`text-sm ${MUTED}`}>
                <When at={run.finishedAt} />
              </span>
            )}
          </div>
          {run.failedStep ? (
            <Link to={`/runs/${run.id}#step-${run.failedStep.index + 1}`} className={`text-sm ${LINK}`}>
              Step {run.failedStep.index + 1}: {run.failedStep.name}
            </Link>
          ) : (
            run.error && <p className={`text-sm break-words ${MUTED}`}>{run.error}</p>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Enabled schedules by their next run. */
export function UpcomingList({ schedules }: { schedules: readonly { id: string; name: string | null; cron: string; timezone: string; nextRunAt: Date | string | null; jobId: string; jobName: string }[] }) {
  if (schedules.length === 0) return <p className={MUTED}>No enabled schedule.</p>;
  return (
    <ul className="divide-y divide-slate-200 dark:divide-slate-800" data-testid="upcoming">
      {schedules.map((s) => (
        <li key={s.id} className="flex flex-wrap items-center gap-2 py-2">
          <Link to={`/jobs/${s.jobId}`} className={LINK}>
            {s.name ?? s.jobName}
          </Link>
          <span className={`font-mono text-xs ${MUTED}`}>
            {s.cron} ({s.timezone})
          </span>
          {s.nextRunAt && (
            <span className="text-sm">
              next <When at={s.nextRunAt} />
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
