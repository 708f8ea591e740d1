import type { MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { FailureList, InProgressList, Panel, UpcomingList } from "../components/dashboard/panels.tsx";
import { RunCharts } from "../components/dashboard/run-charts.tsx";
import { useLiveData } from "../components/system/use-live.ts";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { MUTED } from "../components/ui/styles.ts";
import { pageLoader } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { recentFailures, runsInProgress, runVolume, upcomingScheduledRuns, workersOnline } from "../services/system/dashboard.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Dashboard" }];

// Each panel is read only when the role may see what it shows; a panel it may not see is not drawn.
export const loader = pageLoader({}, async ({ db, user }) => {
  const runs = can(user.role, "runs:read");
  const system = can(user.role, "system:read");
  const [inProgress, failures, upcoming, volume, workers] = await Promise.all([
    runs ? runsInProgress(db) : null,
    runs ? recentFailures(db) : null,
    can(user.role, "schedules:read") ? upcomingScheduledRuns(db) : null,
    runs && system ? runVolume(db) : null,
    system ? workersOnline(db) : null,
  ]);
  return { user: { username: user.username, displayName: user.displayName, role: user.role }, inProgress, failures, upcoming, volume, workers };
});

export default function Dashboard() {
  const { user, inProgress, failures, upcoming, volume, workers } = useLoaderData<typeof loader>();
  useLiveData();
  return (
    <div className="space-y-6">
      <PageHeader
        title="Dashboard"
        description={
          <>
            Signed in as <strong data-testid="display-name">{user.displayName ?? user.username}</strong> ({user.role}). Updated every few seconds.
          </>
        }
      />
      {workers && (
        <Panel id="workers" title="Workers online" action={<Link to="/system" className="text-sm font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">System</Link>}>
          <p className="flex flex-wrap items-center gap-3">
            <span className="text-2xl font-semibold" data-testid="workers-online">
              {workers.online} of {workers.total}
            </span>
            <StatusBadge ok={workers.online > 0}>{workers.online > 0 ? "runs can execute" : "no worker"}</StatusBadge>
          </p>
          {workers.online === 0 && <p className={`mt-2 text-sm ${MUTED}`}>Queued runs wait until a worker runs: `pnpm --filter @opsconductor/worker start`.</p>}
        </Panel>
      )}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        {inProgress && (
          <Panel id="in-progress" title="Runs in progress">
            <InProgressList runs={inProgress} />
          </Panel>
        )}
        {failures && (
          <Panel id="failures" title="Recent failures">
            <FailureList runs={failures} />
          </Panel>
        )}
        {upcoming && (
          <Panel id="upcoming" title="Upcoming scheduled runs">
            <UpcomingList schedules={upcoming} />
          </Panel>
        )}
      </div>
      {volume && <RunCharts history={volume} />}
    </div>
  );
}
