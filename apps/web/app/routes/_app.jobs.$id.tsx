import type { SubmissionResult } from "@conform-to/react";
import { jobDefinitionSchema } from "@opsconductor/core/schema";
import { retentionDefaults } from "@opsconductor/db";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { JobRetention } from "../components/jobs/job-retention.tsx";
import { JobRunCharts } from "../components/jobs/job-run-charts.tsx";
import { previewSteps, RunDialog } from "../components/jobs/run-dialog.tsx";
import { buttonClass, SubmitButton } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { DataTable, FilterForm, FilterSelect, type Column } from "../components/ui/data-table.tsx";
import { JsonViewer } from "../components/ui/json-viewer.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader, pageParams, readPageQuery, redirectWithToast, requirePermission } from "../http/page.server.ts";
import { INTENT_FIELD } from "../lib/forms.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { jobPageForms, jobPageQuery } from "../schemas/jobs.ts";
import { ApiError } from "../services/errors.server.ts";
import { deleteJob, restoreVersion, setJobActive, setJobRetention } from "../services/jobs/commands.server.ts";
import { diffVersions, type DiffLine } from "../services/jobs/diff.server.ts";
import { getJob, listVersionsWithAuthors } from "../services/jobs/queries.server.ts";
import { jobRunStats } from "../services/jobs/run-stats.server.ts";
import { queue } from "../services/queue.server.ts";
import { requestRun } from "../services/runs/request-run.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `OpsConductor · ${data?.job.name ?? "Job"}` }];

export const loader = pageLoader({ permission: "jobs:read" }, async ({ db, user, params, request }) => {
  const id = pageParams(params, idParams).id;
  const query = readPageQuery(request, jobPageQuery);
  const job = await getJob(db, id);
  const versions = await listVersionsWithAuthors(db, id, query);
  const current = job.version ?? 1;
  const compare = query.from !== undefined || query.to !== undefined || current >= 2 ? { from: query.from ?? Math.max(1, current - 1), to: query.to ?? current } : null;
  const diff = compare ? await diffVersions(db, id, compare.from, compare.to) : null;
  const parsed = jobDefinitionSchema.safeParse(job.definition);
  const chartRange = query.chart ?? "month";
  const stats = await jobRunStats(db, id, chartRange);
  const defaults = await retentionDefaults(db);
  return {
    retention: { own: job.retention, defaults: defaults && { runDays: defaults.runDays, runCount: defaults.runCount, outputDays: defaults.outputDays } },
    charts: { range: chartRange, buckets: stats, query: new URL(request.url).search },
    job: { id: job.id, name: job.name, description: job.description, active: job.active, version: current, definition: job.definition },
    versions,
    compare,
    diff,
    runnable: parsed.success ? { parameters: parsed.data.parameters, steps: previewSteps(parsed.data.steps) } : null,
    can: { write: can(user.role, "jobs:write"), run: can(user.role, "jobs:run") },
  };
});

// A secret's problem goes back to the secret's own field (posted apart, never echoed).
function secretPaths(error: ApiError, secrets: ReadonlySet<string>): ApiError {
  if (!error.details) return error;
  const details = error.details.map((d) => {
    const name = /^body\.parameters\.(.+)$/.exec(d.path)?.[1];
    return name !== undefined && secrets.has(name) ? { path: `body.secrets.${name}`, message: d.message.replace(d.path, `body.secrets.${name}`) } : d;
  });
  return new ApiError(error.status, error.code, error.message, { details });
}

function flatRetentionPaths(error: ApiError): ApiError {
  if (!error.details) return error;
  const details = error.details.map((d) => {
    const name = /^body\.retention\.(.+)$/.exec(d.path)?.[1];
    return name === undefined ? d : { path: `body.${name}`, message: d.message.replace(d.path, `body.${name}`) };
  });
  return new ApiError(error.status, error.code, error.message, { details });
}

export const action = pageAction({ permission: "jobs:read", schema: jobPageForms, secretFields: ["secrets"] }, async (value, ctx) => {
  const id = pageParams(ctx.params, idParams).id;
  switch (value.intent) {
    case "restore": {
      requirePermission(ctx.user, "jobs:write");
      const job = await restoreVersion(ctx.db, id, value.version, ctx.principal, ctx.audit);
      return { toast: `Version ${value.version} restored as version ${job.version}.` };
    }
    case "active": {
      requirePermission(ctx.user, "jobs:write");
      const job = await setJobActive(ctx.db, id, value.active, ctx.principal, ctx.audit);
      return { toast: job.active ? `${job.name} is active: it can be run again.` : `${job.name} is inactive: it cannot be run until activated.` };
    }
    case "retention": {
      requirePermission(ctx.user, "jobs:write");
      const retention = { runDays: value.runDays ?? null, runCount: value.runCount ?? null, outputDays: value.outputDays ?? null };
      // The same service as PATCH /api/jobs/{id}; its refusals name body.retention.*, the form's fields are flat.
      const job = await setJobRetention(ctx.db, id, retention, ctx.principal, ctx.audit).catch((error: unknown) => {
        throw error instanceof ApiError ? flatRetentionPaths(error) : error;
      });
      return { toast: `Retention of ${job.name} saved.` };
    }
    case "delete": {
      requirePermission(ctx.user, "jobs:write");
      const job = await getJob(ctx.db, id);
      await deleteJob(ctx.db, id, ctx.principal, ctx.audit);
      return redirectWithToast("/jobs", `Job ${job.name} deleted.`, ctx.headers);
    }
    case "run": {
      requirePermission(ctx.user, "jobs:run");
      const supplied = { ...value.parameters, ...value.secrets };
      try {
        const run = await requestRun(ctx.db, await queue(), id, { parameters: supplied }, ctx.principal, ctx.audit);
        return redirectWithToast(`/runs/${run.runId}`, "Run queued.", ctx.headers);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const job = await getJob(ctx.db, id);
        const parsed = jobDefinitionSchema.safeParse(job.definition);
        const secrets = new Set(parsed.success ? Object.entries(parsed.data.parameters).flatMap(([name, d]) => (d.type === "secret" ? [name] : [])) : []);
        throw secretPaths(error, secrets);
      }
    }
  }
});

type Version = { id: string; number: number; createdAt: Date | string; author: string | null };

function DiffView({ lines, from, to, added, removed }: { lines: DiffLine[]; from: number; to: number; added: number; removed: number }) {
  if (added === 0 && removed === 0) return <p className={`mt-3 text-sm ${MUTED}`}>{from === to ? "The same version on both sides." : `Versions ${from} and ${to} have the same definition.`}</p>;
  return (
    <div className="mt-3">
      <p className={`text-sm ${MUTED}`} data-testid="diff-summary">
        From version {from} to version {to}: {added} {added === 1 ? "line" : "lines"} added, {removed} removed.
      </p>
      <div role="region" aria-label={`Changes from version ${from} to version ${to}`} tabIndex={0} className="mt-2 overflow-x-auto rounded-lg border border-slate-200 font-mono text-xs focus-visible:outline-2 focus-visible:outline-sky-500 dark:border-slate-700">
        <ol className="min-w-max" data-testid="diff">
          {lines.map((line, i) =>
            line.kind === "fold" ? (
              <li key={i} className={`bg-slate-50 px-3 py-1 ${MUTED} dark:bg-slate-800/60`}>
                … {line.count} unchanged {line.count === 1 ? "line" : "lines"}
              </li>
            ) : (
              <li
                key={i}
                data-kind={line.kind}
                className={`flex gap-3 px-3 whitespace-pre ${line.kind === "added" ? "bg-emerald-50 text-emerald-900 dark:bg-emerald-950/60 dark:text-emerald-100" : line.kind === "removed" ? "bg-rose-50 text-rose-900 dark:bg-rose-950/60 dark:text-rose-100" : ""}`}
              >
                <span aria-hidden="true" className="w-8 shrink-0 text-right text-slate-600 select-none dark:text-slate-300">
                  {line.oldLine ?? ""}
                </span>
                <span aria-hidden="true" className="w-8 shrink-0 text-right text-slate-600 select-none dark:text-slate-300">
                  {line.newLine ?? ""}
                </span>
                <span aria-hidden="true" className="w-3 shrink-0 select-none">
                  {line.kind === "added" ? "+" : line.kind === "removed" ? "−" : " "}
                </span>
                <span className="sr-only">{line.kind === "added" ? "Added: " : line.kind === "removed" ? "Removed: " : ""}</span>
                <span>{line.text}</span>
              </li>
            ),
          )}
        </ol>
      </div>
    </div>
  );
}

export default function JobPage() {
  const { job, versions, compare, diff, runnable, can, charts, retention } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const retentionResult = answer?.intent === "retention" ? (answer.result as SubmissionResult<string[]>) : undefined;
  const runResult = answer?.intent === "run" ? (answer.result as SubmissionResult<string[]>) : undefined;
  const definition = (job.definition ?? {}) as { parameters?: Record<string, { type: string; required?: boolean; default?: unknown; description?: string }>; steps?: { type: string; name?: string; target?: string; shell?: string; command?: string; destination?: string }[] };
  const parameters = Object.entries(definition.parameters ?? {});
  const steps = definition.steps ?? [];
  const versionOptions = Array.from({ length: job.version }, (_, i) => ({ value: String(job.version - i), label: `Version ${job.version - i}` }));

  const columns: Column<Version>[] = [
    {
      key: "number",
      header: "Version",
      cell: (v) => (
        <span className="flex items-center gap-2 whitespace-nowrap">
          v{v.number}
          {v.number === job.version && <StatusBadge ok>current</StatusBadge>}
        </span>
      ),
    },
    { key: "author", header: "Saved by", cell: (v) => v.author ?? <span className={MUTED}>a deleted user</span> },
    { key: "at", header: "Saved at", cell: (v) => <When at={v.createdAt} /> },
    {
      key: "actions",
      header: "Actions",
      cell: (v) => (
        <div className="flex flex-wrap gap-2">
          {v.number !== job.version && (
            <Link to={`?from=${v.number}&to=${job.version}#compare-title`} className={buttonClass("secondary")} aria-label={`Compare version ${v.number} with the current version`}>
              Compare
            </Link>
          )}
          {can.write && v.number !== job.version && (
            <Form method="post" preventScrollReset>
              <CsrfInput />
              <input type="hidden" name={INTENT_FIELD} value="restore" />
              <input type="hidden" name="version" value={v.number} />
              <SubmitButton intent="restore" variant="secondary" pendingLabel="Restoring…" aria-label={`Restore version ${v.number}`}>
                Restore
              </SubmitButton>
            </Form>
          )}
        </div>
      ),
    },
  ];

  return (
    <div className="space-y-6">
      <PageHeader
        title={job.name}
        description={job.description ?? undefined}
        actions={
          <>
            {can.run && job.active && runnable && <RunDialog jobName={job.name} version={job.version} parameters={runnable.parameters} steps={runnable.steps} lastResult={runResult} answerId={answer?.intent === "run" ? answer.id : undefined} />}
            {can.write && (
              <Link to={`/jobs/${job.id}/edit`} className={buttonClass("secondary")}>
                Edit
              </Link>
            )}
          </>
        }
      />
      {!job.active && <p className="rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-100">This job is inactive: it cannot be run, by hand or by its schedules, until it is activated.</p>}
      {!runnable && <p className="rounded-lg border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-100">The current version does not pass validation any more, so it cannot be run. Save a corrected version.</p>}

      <section aria-labelledby="definition-title" className={CARD}>
        <h2 id="definition-title" className="flex flex-wrap items-center gap-2 text-lg font-semibold">
          Definition <span className={`text-sm font-normal ${MUTED}`}>version {job.version}</span>
          <StatusBadge ok={job.active}>{job.active ? "active" : "inactive"}</StatusBadge>
        </h2>
        <h3 className="mt-4 text-sm font-semibold">Parameters</h3>
        {parameters.length === 0 ? (
          <p className={`mt-1 text-sm ${MUTED}`}>None.</p>
        ) : (
          <dl className="mt-2 grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[auto_1fr]">
            {parameters.map(([name, d]) => (
              <div key={name} className="contents">
                <dt className="font-mono font-medium">{name}</dt>
                <dd className={`break-words ${MUTED}`}>
                  {d.type}
                  {d.required ? ", required" : ""}
                  {d.default !== undefined ? `, default ${String(d.default)}` : ""}
                  {d.description ? ` — ${d.description}` : ""}
                </dd>
              </div>
            ))}
          </dl>
        )}
        <h3 className="mt-4 text-sm font-semibold">Steps</h3>
        <ol className="mt-2 space-y-3">
          {steps.map((step, i) => (
            <li key={i} className="min-w-0 rounded-lg border border-slate-200 p-3 text-sm dark:border-slate-700">
              <p className="font-medium break-words">
                {i + 1}. {step.name ?? step.type}
                <span className={`font-normal ${MUTED}`}>
                  {" "}
                  · {step.type}
                  {step.target ? ` on ${step.target}` : ""}
                  {step.shell ? ` (${step.shell})` : ""}
                </span>
              </p>
              {(step.command ?? step.destination) && <pre className="mt-1 overflow-x-auto rounded bg-slate-100 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-slate-800">{step.command ?? step.destination}</pre>}
            </li>
          ))}
        </ol>
        <details className="mt-4">
          <summary className="cursor-pointer rounded text-sm font-medium focus-visible:outline-2 focus-visible:outline-sky-500">Definition as JSON</summary>
          <div className="mt-2">
            <JsonViewer value={job.definition} label={`Definition of ${job.name}, version ${job.version}`} />
          </div>
        </details>
      </section>

      <JobRunCharts {...charts} />

      <JobRetention own={retention.own} defaults={retention.defaults} canEdit={can.write} lastResult={retentionResult} />

      <section aria-labelledby="versions-title" className={CARD}>
        <h2 id="versions-title" className="mb-3 text-lg font-semibold">
          Versions
        </h2>
        <DataTable label="Versions" columns={columns} rows={versions.items} rowKey={(v) => v.id} nextCursor={versions.nextCursor} />
      </section>

      <section aria-labelledby="compare-title" className={CARD}>
        <h2 id="compare-title" className="mb-3 text-lg font-semibold">
          Compare versions
        </h2>
        {job.version < 2 && !compare ? (
          <p className={`text-sm ${MUTED}`}>There is only one version so far.</p>
        ) : (
          <>
            <FilterForm label="Versions to compare">
              <FilterSelect name="from" label="From" defaultValue={String(compare?.from ?? "")} options={versionOptions} />
              <FilterSelect name="to" label="To" defaultValue={String(compare?.to ?? "")} options={versionOptions} />
            </FilterForm>
            {diff && <DiffView {...diff} />}
          </>
        )}
      </section>

      {can.write && (
        <section aria-labelledby="manage-title" className={CARD}>
          <h2 id="manage-title" className="text-lg font-semibold">
            Manage
          </h2>
          <div className="mt-3 flex flex-wrap items-start gap-3">
            <Form method="post">
              <CsrfInput />
              <input type="hidden" name={INTENT_FIELD} value="active" />
              <input type="hidden" name="active" value={job.active ? "false" : "true"} />
              <SubmitButton intent="active" variant="secondary" pendingLabel={job.active ? "Deactivating…" : "Activating…"}>
                {job.active ? "Deactivate" : "Activate"}
              </SubmitButton>
            </Form>
            <ConfirmDialog trigger="Delete job" title={`Delete ${job.name}?`} intent="delete" confirmLabel="Delete job" pendingLabel="Deleting…">
              Every version of this job goes, with its runs and their output, and its schedules. This cannot be undone. (A job with a queued or running run cannot be deleted.)
            </ConfirmDialog>
          </div>
        </section>
      )}
      <Toast toast={answer?.toast} />
    </div>
  );
}
