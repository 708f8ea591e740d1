import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { JobEditor, submittedText } from "../components/jobs/job-editor.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, redirectWithToast } from "../http/page.server.ts";
import { jobEditorForm } from "../schemas/jobs.ts";
import { createJob } from "../services/jobs/commands.server.ts";
import { parseDefinitionText } from "../services/jobs/definitions.server.ts";
import { listTargetChoices } from "../services/jobs/queries.server.ts";
import { BODY_LIMITS } from "../http/body.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · New job" }];

export const loader = pageLoader({ permission: "jobs:write" }, async ({ db }) => ({ targets: await listTargetChoices(db) }));

export const action = pageAction({ permission: "jobs:write", schema: jobEditorForm, bodyLimit: BODY_LIMITS.definitionForm }, async (value, ctx) => {
  const job = await createJob(ctx.db, parseDefinitionText(value.definition), ctx.principal, ctx.audit);
  return redirectWithToast(`/jobs/${job.id}`, `Job ${job.name} created (version 1).`, ctx.headers);
});

export default function NewJob() {
  const { targets } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const result = answer?.result as SubmissionResult<string[]> | undefined;
  return (
    <div>
      <PageHeader
        title="New job"
        description="Its steps, the targets they run on and the parameters a run asks for. Switch to JSON at any time; nothing is lost either way."
        actions={
          <Link to="/jobs" className="text-sm text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
            Back to jobs
          </Link>
        }
      />
      <JobEditor targets={targets} serverErrors={result?.error} submitted={submittedText(result)} saveLabel="Create job" />
      <Toast toast={answer?.toast} />
    </div>
  );
}
