import { Link } from "@remix-run/react";
import { RunStatusBadge } from "../jobs/run-status.tsx";
import { ConfirmDialog } from "../ui/confirm-dialog.tsx";
import { CARD, MUTED } from "../ui/styles.ts";
import { When } from "../ui/when.tsx";

/** A dead-lettered run as the system page lists it. */
export interface DeadLetterRow {
  queueJobId: string;
  runId: string | null;
  jobName: string | null;
  runStatus: string | null;
  deadLetteredAt: Date | string;
  reason: string;
  runError: string | null;
}

/** Runs whose last attempt's queue job failed, with why; admins may retry or discard each. */
export function DeadLetterList({ rows, canManage }: { rows: readonly DeadLetterRow[]; canManage: boolean }) {
  return (
    <section aria-labelledby="dead-letter-title" className={CARD}>
      <h2 id="dead-letter-title" className="text-lg font-semibold">
        Dead-lettered runs
      </h2>
      <p className={`mt-1 ${MUTED}`}>A run lands here when its queue job failed for the last time (a worker lost, an expired claim). {canManage ? "Retry queues the run again as a new attempt; Discard drops the queue job and keeps the run as it ended." : "An admin may retry or discard them."}</p>
      {rows.length === 0 ? (
        <p className={`mt-4 ${MUTED}`}>None.</p>
      ) : (
        <ul className="mt-4 divide-y divide-slate-200 dark:divide-slate-800" data-testid="dead-lettered">
          {rows.map((row) => {
            const name = row.jobName ?? "a deleted run";
            return (
              <li key={row.queueJobId} className="flex flex-col gap-2 py-3 sm:flex-row sm:items-start sm:justify-between">
                <div className="min-w-0 space-y-1">
                  <div className="flex flex-wrap items-center gap-2">
                    {row.runId && row.jobName ? (
                      <Link to={`/runs/${row.runId}`} className="font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
                        {row.jobName}
                      </Link>
                    ) : (
                      <span className="font-medium">{name}</span>
                    )}
                    {row.runStatus && <RunStatusBadge status={row.runStatus} />}
                    <span className={`text-sm ${MUTED}`}>
                      <When at={row.deadLetteredAt} />
                    </span>
                  </div>
                  <p className="text-sm break-words">
                    <span className={MUTED}>Reason: </span>
                    {row.reason}
                  </p>
                  {row.runError && (
                    <p className="text-sm break-words">
                      <span className={MUTED}>Run error: </span>
                      {row.runError}
                    </p>
                  )}
                </div>
                {canManage && (
                  <div className="flex shrink-0 flex-wrap gap-2">
                    {/* No key from the last answer: the live refresh clears it, which would remount (close) a dialog opened meanwhile. */}
                    <ConfirmDialog trigger="Retry" triggerVariant="secondary" triggerLabel={`Retry ${name}`} title={`Retry ${name}?`} intent="retry" fields={{ queueJobId: row.queueJobId }} confirmLabel="Retry run" pendingLabel="Retrying…">
                      The run is queued again and executes all its steps as a new attempt on the next free worker.
                    </ConfirmDialog>
                    <ConfirmDialog trigger="Discard" triggerLabel={`Discard ${name}`} title={`Discard ${name}?`} intent="discard" fields={{ queueJobId: row.queueJobId }} confirmLabel="Discard" pendingLabel="Discarding…">
                      The dead-lettered queue job is deleted for good; the run keeps the outcome it has and cannot be retried from here afterwards.
                    </ConfirmDialog>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
