import { Link } from "@remix-run/react";
import { RunStatusBadge } from "../jobs/run-status.tsx";
import { DataTable } from "../ui/data-table.tsx";
import { EmptyState } from "../ui/empty-state.tsx";
import { StatusBadge } from "../ui/status-badge.tsx";
import { MUTED } from "../ui/styles.ts";
import { When } from "../ui/when.tsx";

/** A worker as the system page lists it (dates may arrive as strings from the loader). */
export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  runsInProgress: number;
  lastSeenAt: Date | string;
  online: boolean;
  recentRuns: { id: string; jobName: string; status: string; error: string | null }[];
}

/** The workers that heart-beat, with online/offline by the heartbeat window and their newest runs. */
export function WorkersTable({ workers, staleAfterSec }: { workers: readonly WorkerRow[]; staleAfterSec: number }) {
  return (
    <DataTable
      label="Workers"
      rows={workers}
      rowKey={(w) => w.id}
      empty={<EmptyState title="No worker has registered">Queued runs wait until one starts: `pnpm --filter @opsconductor/worker start`.</EmptyState>}
      columns={[
        { key: "id", header: "Worker", cell: (w) => <span className="font-mono break-all">{w.id}</span> },
        {
          key: "state",
          header: "State",
          cell: (w) => (
            <span data-testid={`worker-state-${w.id}`} title={`offline when no heartbeat arrived for ${staleAfterSec} s`}>
              <StatusBadge ok={w.online}>{w.online ? "online" : "offline"}</StatusBadge>
            </span>
          ),
        },
        { key: "host", header: "Host / PID", secondary: true, cell: (w) => `${w.host} / ${w.pid}` },
        { key: "concurrency", header: "Concurrency", secondary: true, cell: (w) => w.concurrency },
        { key: "running", header: "In progress", cell: (w) => <span data-testid={`worker-running-${w.id}`}>{w.runsInProgress}</span> },
        { key: "seen", header: "Last heartbeat", cell: (w) => <When at={w.lastSeenAt} seconds /> },
        {
          key: "runs",
          header: "Newest runs",
          secondary: true,
          cell: (w) =>
            w.recentRuns.length === 0 ? (
              <span className={MUTED}>none</span>
            ) : (
              <ul className="space-y-1" data-testid={`worker-runs-${w.id}`}>
                {w.recentRuns.map((run) => (
                  <li key={run.id} className="flex flex-wrap items-center gap-2">
                    <Link to={`/runs/${run.id}`} className="text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
                      {run.jobName}
                    </Link>
                    <RunStatusBadge status={run.status} />
                    {run.error && <span className={`text-xs ${MUTED}`}>{run.error}</span>}
                  </li>
                ))}
              </ul>
            ),
        },
      ]}
    />
  );
}
