import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useFetcher, useLoaderData } from "@remix-run/react";
import { useEffect, useState, type ReactNode } from "react";
import { z } from "zod";
import { When } from "../components/ui/when.tsx";
import { Button, buttonClass } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { DataTable, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast } from "../http/page.server.ts";
import { INTENT_FIELD } from "../lib/forms.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { deleteTarget, jobsNamingTarget } from "../services/targets/commands.server.ts";
import { testTargetConnection, type ConnectionTestResult } from "../services/targets/connection-test.server.ts";
import { getTargetDetail } from "../services/targets/queries.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `OpsConductor · ${data?.target.name ?? "Target"}` }];

export const loader = pageLoader({ permission: "targets:read" }, async ({ db, user, params }) => {
  const { id } = pageParams(params, idParams);
  const detail = await getTargetDetail(db, id);
  const canWrite = can(user.role, "targets:write");
  return {
    ...detail,
    usedByJobs: canWrite ? await jobsNamingTarget(db, detail.target) : [],
    can: { write: canWrite, test: can(user.role, "targets:test"), readCredentials: can(user.role, "credentials:read") },
  };
});

const actions = z.discriminatedUnion("intent", [z.object({ intent: z.literal("test") }), z.object({ intent: z.literal("delete") })]);

/** What the test form's fetcher gets back: the test's outcome (or, when refused, the usual action answer). */
export type TestAnswer = { kind: "test"; result: ConnectionTestResult; testedAt: string };

export const action = pageAction({ permission: "targets:write", schema: actions }, async (value, { db, user, params, audit, headers }) => {
  const { id } = pageParams(params, idParams);
  if (value.intent === "test") {
    if (!can(user.role, "targets:test")) throw new Response(null, { status: 403 });
    const result = await testTargetConnection(db, id, audit);
    return { data: { kind: "test", result, testedAt: new Date().toISOString() } satisfies TestAnswer };
  }
  const { target } = await getTargetDetail(db, id);
  await deleteTarget(db, id, audit);
  return redirectWithToast("/targets", `Target ${target.name} deleted.`, headers);
});

type Detail = ReturnType<typeof useLoaderData<typeof loader>>;
type RunRow = Detail["recentRuns"][number];

function Setting({ label, children, wide = false }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <div className={`min-w-0 ${wide ? "col-span-2 sm:col-span-1" : ""}`}>
      <dt className={`text-sm ${MUTED}`}>{label}</dt>
      <dd className="font-medium break-words">{children}</dd>
    </div>
  );
}

function TargetLinks({ targets, none }: { targets: { id: string; name: string }[]; none: string }) {
  if (targets.length === 0) return <p className={`text-sm ${MUTED}`}>{none}</p>;
  return (
    <ul className="flex flex-wrap gap-2">
      {targets.map((t) => (
        <li key={t.id}>
          <Link to={`/targets/${t.id}`} className="rounded-md bg-slate-100 px-2 py-1 text-sm font-medium text-sky-800 hover:underline dark:bg-slate-800 dark:text-sky-300">
            {t.name}
          </Link>
        </li>
      ))}
    </ul>
  );
}

const RUN_COLUMNS: Column<RunRow>[] = [
  {
    key: "job",
    header: "Job",
    cell: (run) => (
      <Link to={`/runs/${run.id}`} className="font-medium break-words text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
        {run.jobName}
      </Link>
    ),
  },
  {
    key: "status",
    header: "Status",
    cell: (run) => (run.status === "succeeded" || run.status === "failed" ? <StatusBadge ok={run.status === "succeeded"}>{run.status}</StatusBadge> : <span>{run.status.replace("_", " ")}</span>),
  },
  { key: "trigger", header: "Trigger", cell: (run) => run.trigger, secondary: true },
  { key: "queued", header: "Queued", cell: (run) => <When at={run.queuedAt} />, className: "whitespace-nowrap" },
];

// Seconds since `since`, ticking while a test runs.
function useElapsed(running: boolean): number {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (!running) return;
    setSeconds(0);
    const started = Date.now();
    const timer = setInterval(() => setSeconds(Math.floor((Date.now() - started) / 1000)), 500);
    return () => clearInterval(timer);
  }, [running]);
  return seconds;
}

function TestOutcome({ result }: { result: ConnectionTestResult }) {
  if (result.ok) {
    return (
      <div className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/40 dark:text-emerald-100">
        <p className="font-semibold">Connected.</p>
        <dl className="mt-2 grid gap-2 sm:grid-cols-2">
          <div>
            <dt>Latency</dt>
            <dd className="font-medium" data-testid="test-latency">
              {result.latencyMs} ms
            </dd>
          </div>
          <div>
            <dt>Host name reported</dt>
            <dd className="font-medium break-all" data-testid="test-hostname">
              {result.hostname}
            </dd>
          </div>
        </dl>
      </div>
    );
  }
  return (
    <div className="rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/40 dark:text-rose-100">
      <p className="font-semibold">The connection failed{result.latencyMs !== undefined ? ` after ${result.latencyMs} ms` : ""}.</p>
      <p className="mt-1 break-words" data-testid="test-error">
        {result.error}
      </p>
      <p className="mt-2 font-semibold">What to check</p>
      <p className="mt-1 break-words" data-testid="test-hint">
        {result.hint}
      </p>
    </div>
  );
}

function TestConnection({ target }: { target: Detail["target"] }) {
  const fetcher = useFetcher<typeof action>();
  const running = fetcher.state !== "idle";
  const elapsed = useElapsed(running);
  const answer = fetcher.data;
  const outcome = answer && "data" in answer ? answer.data : null;
  const refusal = answer && "result" in answer && !outcome ? (answer.result.error?.[""]?.[0] ?? answer.toast?.message ?? "The test was refused.") : null;
  return (
    <div className="space-y-3">
      <fetcher.Form method="post">
        <CsrfInput />
        <input type="hidden" name={INTENT_FIELD} value="test" />
        <Button type="submit" variant="secondary" disabled={running} aria-disabled={running || undefined}>
          {running ? (
            <>
              <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-current border-t-transparent" />
              Testing…
            </>
          ) : (
            "Test connection"
          )}
        </Button>
      </fetcher.Form>
      <div role="status" aria-live="polite" className="space-y-3">
        {running && (
          <p className={`flex items-center gap-2 text-sm ${MUTED}`}>
            <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-sky-600 border-t-transparent dark:border-sky-400 dark:border-t-transparent" />
            Connecting to {target.hostname}:{target.port} over {target.winrm.transport.toUpperCase()}… {elapsed > 0 ? `${elapsed} s` : ""}
          </p>
        )}
        {!running && outcome && <TestOutcome result={outcome.result} />}
        {!running && refusal && <p className="rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/40 dark:text-rose-100">{refusal}</p>}
      </div>
    </div>
  );
}

function LastTest({ lastTest }: { lastTest: Detail["target"]["lastTest"] }) {
  if (!lastTest) return <p className={MUTED}>Never tested.</p>;
  return (
    <dl className="grid grid-cols-2 gap-4 sm:grid-cols-3">
      <Setting label="Result">
        <StatusBadge ok={lastTest.ok}>{lastTest.ok ? "ok" : "failed"}</StatusBadge>
      </Setting>
      <Setting label="Latency">{lastTest.latencyMs !== null ? `${lastTest.latencyMs} ms` : "—"}</Setting>
      <Setting label="When">
        <When at={lastTest.at} />
      </Setting>
      {lastTest.message && (
        <div className="col-span-2 min-w-0 sm:col-span-3">
          <dt className={`text-sm ${MUTED}`}>Message</dt>
          <dd className="text-sm break-words">{lastTest.message}</dd>
        </div>
      )}
    </dl>
  );
}

export default function TargetPage() {
  const data = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const { target } = data;
  const refused = answer && "intent" in answer && answer.intent === "delete" ? answer.result.error?.[""]?.[0] : undefined;
  const deleteText = [
    `The target ${target.name} is removed; runs keep its name in their history.`,
    data.dependents.length > 0 ? `${data.dependents.map((d) => d.name).join(", ")} depend${data.dependents.length === 1 ? "s" : ""} on it and lose${data.dependents.length === 1 ? "s" : ""} that dependency.` : "",
    data.usedByJobs.length > 0 ? `The steps of ${data.usedByJobs.join(", ")} name it: deleting is refused until those jobs change.` : "",
  ]
    .filter(Boolean)
    .join(" ");

  return (
    <div className="space-y-6">
      <PageHeader
        title={target.name}
        description={`${target.hostname}:${target.port} · ${target.os === "windows" ? "Windows" : "Linux"}`}
        actions={
          data.can.write ? (
            <>
              <Link to={`/targets/${target.id}/edit`} className={buttonClass("secondary")}>
                Edit
              </Link>
              <ConfirmDialog trigger="Delete" title={`Delete ${target.name}?`} intent="delete" confirmLabel="Delete target" pendingLabel="Deleting…">
                {deleteText}
              </ConfirmDialog>
            </>
          ) : null
        }
      />
      {refused && (
        <p role="alert" className="rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/40 dark:text-rose-100">
          Not deleted: {refused}
        </p>
      )}

      <section aria-labelledby="connection-title" className={CARD}>
        <h2 id="connection-title" className="text-lg font-semibold">
          Connection
        </h2>
        <dl className="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-3">
          <Setting label="Host name" wide>
            {target.hostname}
          </Setting>
          <Setting label="Port">{target.port}</Setting>
          <Setting label="Operating system">{target.os === "windows" ? "Windows" : "Linux"}</Setting>
          <Setting label="Transport">{target.winrm.transport.toUpperCase()}</Setting>
          <Setting label="Authentication">{target.winrm.auth === "ntlm" ? "NTLM (Negotiate)" : "Basic"}</Setting>
          <Setting label="Unencrypted traffic">{target.winrm.allowUnencrypted ? "Allowed" : "Refused"}</Setting>
          {target.winrm.transport === "https" && (
            <>
              <Setting label="TLS verification">{target.winrm.rejectUnauthorized ? "On" : "Off: the certificate is not checked"}</Setting>
              <Setting label="CA certificate">{target.winrm.caCertificate ? "Own CA certificate (PEM)" : "System trust store"}</Setting>
            </>
          )}
          <Setting label="Credential">
            {target.credential ? (
              data.can.readCredentials ? (
                <Link to={`/credentials/${target.credential.id}`} className="text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
                  {target.credential.name}
                </Link>
              ) : (
                target.credential.name
              )
            ) : (
              "None"
            )}
          </Setting>
          <Setting label="Tags">{target.tags.length > 0 ? target.tags.join(", ") : "—"}</Setting>
          <Setting label="Registered">
            <When at={target.createdAt} />
          </Setting>
          {target.description && (
            <div className="col-span-2 min-w-0 sm:col-span-3">
              <dt className={`text-sm ${MUTED}`}>Description</dt>
              <dd className="whitespace-pre-line break-words">{target.description}</dd>
            </div>
          )}
        </dl>
        {target.winrm.caCertificate && (
          <details className="mt-4">
            <summary className="cursor-pointer text-sm font-medium">Show the CA certificate</summary>
            <pre className="mt-2 max-h-64 overflow-auto rounded-md bg-slate-100 p-3 text-xs dark:bg-slate-800">{target.winrm.caCertificate}</pre>
          </details>
        )}
      </section>

      <section aria-labelledby="test-title" className={CARD}>
        <h2 id="test-title" className="text-lg font-semibold">
          Connection test
        </h2>
        <p className={`mt-1 mb-4 text-sm ${MUTED}`}>Signs in with the credential, asks WinRM to identify itself, and runs hostname.</p>
        <h3 className="mb-2 text-sm font-semibold">Last test</h3>
        <LastTest lastTest={target.lastTest} />
        {data.can.test && target.os === "windows" && (
          <div className="mt-4">
            <TestConnection target={target} />
          </div>
        )}
      </section>

      <section aria-labelledby="dependencies-title" className={CARD}>
        <h2 id="dependencies-title" className="text-lg font-semibold">
          Dependencies
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          <div>
            <h3 className="mb-2 text-sm font-semibold">Depends on</h3>
            <TargetLinks targets={target.dependsOn} none="Nothing." />
          </div>
          <div>
            <h3 className="mb-2 text-sm font-semibold">Needed by</h3>
            <TargetLinks targets={data.dependents} none="No target depends on this one." />
          </div>
        </div>
      </section>

      <section aria-labelledby="runs-title">
        <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
          <h2 id="runs-title" className="text-lg font-semibold">
            Recent runs on this target
          </h2>
          {data.recentRuns.length > 0 && (
            <Link to={`/runs?target=${target.id}`} className="text-sm text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
              All runs on this target
            </Link>
          )}
        </div>
        <DataTable label="Recent runs on this target" columns={RUN_COLUMNS} rows={data.recentRuns} rowKey={(run) => run.id} empty={<EmptyState title="No runs on this target yet">Runs of jobs with a step on this target appear here.</EmptyState>} />
      </section>
      <Toast toast={answer && "toast" in answer ? answer.toast : null} />
    </div>
  );
}
