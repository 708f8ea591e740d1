import type { SystemOverview } from "@opsconductor/db";
import { StatusBadge } from "./ui/status-badge.tsx";

export type DatabaseHealth = { ok: true } | { ok: false; reason: string };

/** Health of this instance: database, workers, scheduler, and what it holds. */
export function SystemStatus({ database, overview }: { database: DatabaseHealth; overview: SystemOverview | null }) {
  const onlineWorkers = overview?.workers.filter((w) => w.online).length ?? 0;
  return (
    <div className="space-y-8">
      <section aria-labelledby="health" className="grid gap-4 sm:grid-cols-3">
        <h2 id="health" className="sr-only">
          Health
        </h2>
        <div className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 p-4">
          <div className="text-sm text-slate-500 dark:text-slate-400">Database</div>
          <div className="mt-1 flex items-center gap-2">
            <StatusBadge ok={database.ok}>{database.ok ? "reachable" : "unreachable"}</StatusBadge>
          </div>
          {!database.ok && <p className="mt-2 text-sm text-rose-700 dark:text-rose-300">{database.reason}</p>}
        </div>
        <div className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 p-4">
          <div className="text-sm text-slate-500 dark:text-slate-400">Workers online</div>
          <div className="mt-1 text-2xl font-semibold">{onlineWorkers}</div>
          {overview && onlineWorkers === 0 && <p className="mt-2 text-sm text-amber-700 dark:text-amber-300">No worker is running: queued runs will wait. Start one with `pnpm --filter @opsconductor/worker start`.</p>}
        </div>
        <div className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 p-4">
          <div className="text-sm text-slate-500 dark:text-slate-400">Scheduler</div>
          <div className="mt-1">{overview && <StatusBadge ok={overview.schedulerEnabled}>{overview.schedulerEnabled ? "enabled" : "stopped"}</StatusBadge>}</div>
        </div>
      </section>

      {overview && (
        <>
          <section aria-labelledby="inventory">
            <h2 id="inventory" className="mb-3 text-lg font-semibold">
              Inventory
            </h2>
            <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
              {(
                [
                  ["Users", overview.counts.users],
                  ["Credentials", overview.counts.credentials],
                  ["Targets", overview.counts.targets],
                  ["Jobs", overview.counts.jobs],
                  ["Enabled schedules", overview.counts.schedules],
                  ["Queued runs", overview.counts.queuedRuns],
                  ["Running runs", overview.counts.runningRuns],
                ] as const
              ).map(([label, value]) => (
                <div key={label} className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 p-4">
                  <dt className="text-sm text-slate-500 dark:text-slate-400">{label}</dt>
                  <dd className="text-xl font-semibold">{value}</dd>
                </div>
              ))}
            </dl>
          </section>

          <section aria-labelledby="workers">
            <h2 id="workers" className="mb-3 text-lg font-semibold">
              Workers
            </h2>
            {overview.workers.length === 0 ? (
              <p className="text-slate-600 dark:text-slate-400">No worker has registered yet.</p>
            ) : (
              // On a phone the table scrolls inside its frame, never the page; the frame takes focus so a keyboard can scroll it.
              <div role="region" aria-labelledby="workers" tabIndex={0} className="overflow-x-auto rounded-lg border border-slate-200 bg-white focus-visible:outline-2 dark:border-slate-800 dark:bg-slate-900">
                <table className="w-full text-left text-sm">
                  <thead className="bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300">
                    <tr>
                      <th className="p-2">Worker</th>
                      <th className="p-2">Host / PID</th>
                      <th className="p-2">Concurrency</th>
                      <th className="p-2">Last seen</th>
                      <th className="p-2">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.workers.map((w) => (
                      <tr key={w.id} className="border-t border-slate-100 dark:border-slate-800">
                        <td className="p-2 font-mono">{w.id}</td>
                        <td className="p-2">
                          {w.host} / {w.pid}
                        </td>
                        <td className="p-2">{w.concurrency}</td>
                        <td className="p-2">{new Date(w.lastSeenAt).toISOString()}</td>
                        <td className="p-2">
                          <StatusBadge ok={w.online}>{w.online ? "online" : "offline"}</StatusBadge>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </div>
  );
}
