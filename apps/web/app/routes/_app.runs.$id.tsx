import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { z } from "zod";
import { RunStatusBadge } from "../components/jobs/run-status.tsx";
import { LogStore } from "../components/runs/log-store.ts";
import { formatDuration } from "../components/runs/run-format.ts";
import { RunLog, type LogStep } from "../components/runs/run-log.tsx";
import { useRunStream } from "../components/runs/use-run-stream.ts";
import { SubmitButton } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader, redirectWithToast, requirePermission } from "../http/page.server.ts";
import { INTENT_FIELD } from "../lib/forms.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { ApiError } from "../services/errors.server.ts";
import { cancelRun, rerunRun } from "../services/runs/commands.server.ts";
import { runPage } from "../services/runs/run-page.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `OpsConductor · Run of ${data?.run.jobName ?? "a job"}` }];

const TERMINAL = new Set(["succeeded", "failed", "canceled", "timed_out"]);

function runId(params: Record<string, string | undefined>): string {
  const parsed = idParams.safeParse(params);
  // A malformed id names no run: the same 404 as an unknown one.
  if (!parsed.success) throw new Response(null, { status: 404 });
  return parsed.data.id;
}

export const loader = pageLoader({ permission: "runs:read" }, async ({ db, user, params }) => {
  const id = runId(params);
  const page = await runPage(db, id).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) throw new Response(null, { status: 404 });
    throw error;
  });
  return { ...page, can: { cancel: can(user.role, "runs:cancel"), rerun: can(user.role, "jobs:run") } };
});

const actions = z.discriminatedUnion("intent", [z.object({ intent: z.literal("cancel") }), z.object({ intent: z.literal("rerun") })]);

export const action = pageAction({ permission: "runs:cancel", schema: actions }, async (value, { db, user, params, principal, audit, headers }) => {
  const id = runId(params);
  if (value.intent === "cancel") {
    const { immediate } = await cancelRun(db, id, principal, audit);
    return { toast: immediate ? "Run canceled." : "Cancel requested: the worker is stopping the run." };
  }
  requirePermission(user, "jobs:run");
  const rerun = await rerunRun(db, id, principal, audit);
  return redirectWithToast(`/runs/${rerun.runId}`, "Rerun queued.", headers);
});

type Data = ReturnType<typeof useLoaderData<typeof loader>>;
type Run = Data["run"];
type Step = Data["steps"][number];

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className={`text-sm ${MUTED}`}>{label}</dt>
      <dd className="font-medium break-words">{children}</dd>
    </div>
  );
}

function Requester({ run, schedule }: { run: Run; schedule: Data["schedule"] }) {
  if (run.trigger === "schedule") return <>{schedule ? `Schedule ${schedule.name ?? schedule.cron}` : "A schedule (since deleted)"}</>;
  const who = run.requestedBy?.username ?? "a deleted user";
  return <>{run.trigger === "api" ? `${who}, through the API` : who}</>;
}

// Ticks once a second while something is running; null before hydration, so the server and the first browser render agree.
function useNow(running: boolean): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

export default function RunPage() {
  const data = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const [run, setRun] = useState<Run>(data.run);
  const [steps, setSteps] = useState<Step[]>(data.steps);
  // Fresh loader data (after an action) is newer than what the stream said before it.
  useEffect(() => {
    setRun(data.run);
    setSteps(data.steps);
  }, [data.run, data.steps]);
  const store = useMemo(() => new LogStore(data.run.id, data.log), [data.run.id]);
  const finished = TERMINAL.has(run.status);
  const [streaming, setStreaming] = useState(!TERMINAL.has(data.run.status));
  useRunStream<Run, Step>(data.run.id, data.log.lastSequence, streaming, {
    onRun: setRun,
    onStep: (step) => setSteps((current) => (current.some((s) => s.id === step.id) ? current.map((s) => (s.id === step.id ? step : s)) : [...current, step].sort((a, b) => a.index - b.index))),
    onOutput: (chunks) => store.apply(chunks),
    onEnd: () => setStreaming(false),
  });
  const now = useNow(!finished);
  const elapsed = run.startedAt ? formatDuration(run.startedAt, run.finishedAt, now) : null;
  const canceling = !finished && run.cancelRequestedAt !== null;
  const logSteps: LogStep[] = steps;

  return (
    <div className="space-y-6">
      <PageHeader
        title={`Run of ${run.jobName}`}
        description={<span className="break-all">{`Version ${run.versionNumber} · run ${run.id}`}</span>}
        actions={
          <div className="flex flex-wrap gap-2">
            {data.can.cancel && !finished && (
              canceling ? (
                <p role="status" className="inline-flex items-center gap-2 rounded-md border border-amber-300 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:text-amber-100">
                  <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-current border-t-transparent" />
                  Canceling… waiting for the worker to stop the run
                </p>
              ) : (
                <ConfirmDialog key={answer?.id ?? "cancel"} trigger="Cancel run" title="Cancel this run?" intent="cancel" confirmLabel="Cancel run" pendingLabel="Canceling…">
                  The step that is running is stopped on its target and the steps after it do not run. What the run already changed on its targets stays changed.
                </ConfirmDialog>
              )
            )}
            {data.can.rerun && finished && data.secretParameters.length === 0 && (
              <Form method="post">
                <CsrfInput />
                <input type="hidden" name={INTENT_FIELD} value="rerun" />
                <SubmitButton intent="rerun" variant="secondary" pendingLabel="Queuing…">
                  Rerun
                </SubmitButton>
              </Form>
            )}
          </div>
        }
      />

      <section aria-labelledby="run-title" className={CARD}>
        <h2 id="run-title" className="sr-only">
          Run details
        </h2>
        <dl className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
          <Detail label="Status">
            <span data-testid="run-status">
              <RunStatusBadge status={run.status} />
            </span>
          </Detail>
          <Detail label="Job">
            <Link to={`/jobs/${run.jobId}`} className="text-sky-700 hover:underline dark:text-sky-400">
              {run.jobName}
            </Link>{" "}
            <span className={MUTED}>v{run.versionNumber}</span>
          </Detail>
          <Detail label="Trigger">{run.trigger}</Detail>
          <Detail label={run.trigger === "schedule" ? "Schedule" : "Requested by"}>
            <Requester run={run} schedule={data.schedule} />
          </Detail>
          <Detail label="Queued">
            <When at={run.queuedAt} />
          </Detail>
          <Detail label="Started">{run.startedAt ? <When at={run.startedAt} /> : "—"}</Detail>
          <Detail label="Finished">{run.finishedAt ? <When at={run.finishedAt} /> : "—"}</Detail>
          <Detail label={finished ? "Duration" : "Elapsed"}>
            <span data-testid="run-elapsed">{elapsed ?? "—"}</span>
          </Detail>
        </dl>
        {Object.keys(run.parameters).length > 0 && (
          <div className="mt-4">
            <h3 className={`text-sm ${MUTED}`}>Parameters</h3>
            <dl className="mt-1 flex flex-wrap gap-x-6 gap-y-1 font-mono text-sm">
              {Object.entries(run.parameters).map(([name, value]) => (
                <div key={name} className="flex min-w-0 gap-2">
                  <dt>{name}</dt>
                  <dd className="break-all">{typeof value === "string" ? value : JSON.stringify(value)}</dd>
                </div>
              ))}
            </dl>
          </div>
        )}
        {run.error && <p className="mt-4 rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:bg-rose-950/60 dark:text-rose-100">{run.error}</p>}
        {data.can.rerun && finished && data.secretParameters.length > 0 && (
          <p className={`mt-4 text-sm ${MUTED}`}>
            This run had secret parameters ({data.secretParameters.join(", ")}), whose values are never stored, so it cannot be repeated from here: start a new run from{" "}
            <Link to={`/jobs/${run.jobId}`} className="text-sky-700 hover:underline dark:text-sky-400">
              the job
            </Link>
            .
          </p>
        )}
      </section>

      <section aria-labelledby="steps-title" className={CARD}>
        <h2 id="steps-title" className="text-lg font-semibold">
          Steps
        </h2>
        {steps.length === 0 ? (
          <p className={`mt-2 ${MUTED}`}>{finished ? "No step ran." : "The steps appear when a worker starts the run."}</p>
        ) : (
          <ol className="mt-3 divide-y divide-slate-200 dark:divide-slate-800">
            {steps.map((step) => (
              <li key={step.id} id={`step-${step.index + 1}`} className="flex flex-wrap items-center gap-x-4 gap-y-1 py-2 text-sm">
                <a href={`#step-${step.index + 1}`} className="min-w-0 font-medium break-words hover:underline">
                  {step.index + 1}. {step.name}
                </a>
                <RunStatusBadge status={step.status} />
                <span className={MUTED}>{step.targetName ? `on ${step.targetName}` : step.type}</span>
                <span className={MUTED}>{step.exitCode !== null ? `exit code ${step.exitCode}` : ""}</span>
                <span className={MUTED}>{step.startedAt ? formatDuration(step.startedAt, step.finishedAt, now) : ""}</span>
                {step.error && <span className="w-full text-rose-800 dark:text-rose-300">{step.error}</span>}
              </li>
            ))}
          </ol>
        )}
      </section>

      <div className={CARD}>
        {run.outputPrunedAt ? (
          <section aria-labelledby="log-title">
            <h2 id="log-title" className="text-lg font-semibold">
              Log
            </h2>
            <p role="note" data-testid="output-pruned" className="mt-3 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 text-sm text-slate-800 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-200">
              Output removed on <When at={run.outputPrunedAt} /> by the retention policy; status and steps are kept. The job&apos;s page shows how long its output is kept.
            </p>
          </section>
        ) : (
          <RunLog store={store} steps={logSteps} live={streaming} now={now} />
        )}
      </div>

      <Toast toast={answer?.toast} />
    </div>
  );
}
