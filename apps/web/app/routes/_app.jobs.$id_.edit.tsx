import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { JobEditor, submittedText } from "../components/jobs/job-editor.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast } from "../http/page.server.ts";
import { idParams } from "../schemas/common.ts";
import { jobEditorForm } from "../schemas/jobs.ts";
import { addVersion } from "../services/jobs/commands.server.ts";
import { parseDefinitionText } from "../services/jobs/definitions.server.ts";
import { getJob, listTargetChoices } from "../services/jobs/queries.server.ts";
import { BODY_LIMITS } from "../http/body.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `OpsConductor · Edit ${data?.job.name ?? "job"}` }];

export const loader = pageLoader({ permission: "jobs:write" }, async ({ db, params }) => {
  const job = await getJob(db, pageParams(params, idParams).id);
  return { job: { id: job.id, name: job.name, version: job.version, definition: job.definition as Record<string, unknown> }, targets: await listTargetChoices(db) };
});

export const action = pageAction({ permission: "jobs:write", schema: jobEditorForm, bodyLimit: BODY_LIMITS.definitionForm }, async (value, ctx) => {
  const job = await addVersion(ctx.db, pageParams(ctx.params, idParams).id, parseDefinitionText(value.definition), ctx.principal, ctx.audit);
  return redirectWithToast(`/jobs/${job.id}`, `Saved version ${job.version} of ${job.name}.`, ctx.headers);
});

export default function EditJob() {
  const { job, targets } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const result = answer?.result as SubmissionResult<string[]> | undefined;
  return (
    <div>
      <PageHeader
        title={`Edit ${job.name}`}
        description={`Version ${job.version} is the current one; saving makes version ${(job.version ?? 0) + 1}.`}
        actions={
          <Link to={`/jobs/${job.id}`} className="text-sm text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
            Back to the job
          </Link>
        }
      />
      <JobEditor key={job.id} initial={job.definition} targets={targets} serverErrors={result?.error} submitted={submittedText(result)} saveLabel={`Save version ${(job.version ?? 0) + 1}`} />
      <Toast toast={answer?.toast} />
    </div>
  );
}
