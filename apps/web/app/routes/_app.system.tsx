import type { MetaFunction } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { DeadLetterList } from "../components/system/dead-letter-list.tsx";
import { MetricCharts } from "../components/system/metric-charts.tsx";
import { QueuePanel } from "../components/system/queue-panel.tsx";
import { RetentionPanel } from "../components/system/retention-panel.tsx";
import { useLiveData } from "../components/system/use-live.ts";
import { WorkersTable } from "../components/system/workers-table.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader, readPageQuery } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { discardDeadLetter, retryDeadLetter } from "../services/system/dead-letter.server.ts";
import { systemCharts, systemRetention, systemStatus } from "../services/system/status.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · System" }];

const query = z.object({ range: z.enum(["hour", "day", "week"]).default("hour") });

export const loader = pageLoader({ permission: "system:read" }, async ({ db, user, request }) => {
  const { range } = readPageQuery(request, query);
  const status = await systemStatus(db);
  const charts = status.database.ok ? await systemCharts(db, range) : null;
  const retention = status.database.ok ? await systemRetention(db) : null;
  return { ...status, range, charts, retention, canManage: can(user.role, "system:manage") };
});

const deadLetterForm = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("retry"), queueJobId: z.uuid() }),
  z.object({ intent: z.literal("discard"), queueJobId: z.uuid() }),
]);

export const action = pageAction({ permission: "system:manage", schema: deadLetterForm }, async (value, { db, principal, audit }) => {
  if (value.intent === "retry") {
    await retryDeadLetter(db, value.queueJobId, principal, audit);
    return { toast: "The run is queued again." };
  }
  await discardDeadLetter(db, value.queueJobId, principal, audit);
  return { toast: "Dead-lettered queue job discarded." };
});

export default function SystemPage() {
  const data = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  useLiveData();
  const online = data.workers.filter((w) => w.online).length;
  return (
    <div className="space-y-6">
      <PageHeader title="System" description={`OpsConductor ${data.version}: workers, the run queue, the database, retention and the metrics history. Updated every few seconds.`} />
      <section aria-labelledby="health-title" className={CARD}>
        <h2 id="health-title" className="text-lg font-semibold">
          Health
        </h2>
        <dl className="mt-4 grid gap-4 sm:grid-cols-4">
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Database</dt>
            <dd className="mt-1" data-testid="database-state">
              <StatusBadge ok={data.database.ok}>{data.database.ok ? "reachable" : "unreachable"}</StatusBadge>
              {!data.database.ok && <p className="mt-2 text-sm text-rose-700 dark:text-rose-300">{data.database.reason}</p>}
            </dd>
          </div>
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Workers online</dt>
            <dd className="text-xl font-semibold" data-testid="workers-online">
              {online} of {data.workers.length}
            </dd>
          </div>
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Scheduler</dt>
            <dd className="mt-1">
              {data.scheduler ? <StatusBadge ok={data.scheduler.enabled}>{data.scheduler.enabled ? "running" : "stopped"}</StatusBadge> : <span className={MUTED}>unknown</span>}
              {data.scheduler?.lastTickAt && (
                <p className={`mt-1 text-sm ${MUTED}`}>
                  last tick <When at={data.scheduler.lastTickAt} seconds />
                </p>
              )}
            </dd>
          </div>
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Version</dt>
            <dd className="font-medium" data-testid="product-version">
              {data.version}
            </dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="workers-title" className="space-y-3">
        <h2 id="workers-title" className="text-lg font-semibold">
          Workers
        </h2>
        <p className={MUTED}>A worker is offline when no heartbeat arrived for {data.staleAfterSec} seconds; the runs it had are failed, or queued again when their job declares retries, once its lease ends.</p>
        <WorkersTable workers={data.workers} staleAfterSec={data.staleAfterSec} />
      </section>
      <QueuePanel queue={data.queue} deadLetter={data.deadLetter} />
      <DeadLetterList rows={data.deadLettered} canManage={data.canManage} />
      {data.retention && <RetentionPanel lastPass={data.retention.lastPass} defaults={data.retention.defaults} />}
      {data.charts && <MetricCharts history={data.charts} range={data.range} />}
      <Toast toast={answer?.toast} />
    </div>
  );
}
