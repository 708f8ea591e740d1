import type { SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { formatBytes } from "../components/files/format.ts";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast } from "../http/page.server.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { deleteFile } from "../services/files/commands.server.ts";
import { fileUsers, getFile } from "../services/files/queries.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data: loaded }) => [{ title: `OpsConductor · ${loaded?.file.name ?? "File"}` }];

// The file this address names; a malformed or unknown id is the 404 page (pageParams, pageLoader).
const fileOf = (db: Parameters<typeof getFile>[0], params: Record<string, string | undefined>) => getFile(db, pageParams(params, idParams).id);

export const loader = pageLoader({ permission: "files:read" }, async ({ db, params, user }) => {
  const file = await fileOf(db, params);
  return { file, usedBy: await fileUsers(db, file.id), canWrite: can(user.role, "files:write") };
});

export const action = pageAction({ permission: "files:write", schema: z.object({ intent: z.literal("delete") }) }, async (_value, { db, params, principal, audit, headers }) => {
  const file = await fileOf(db, params);
  await deleteFile(db, file.id, principal, audit);
  return redirectWithToast("/files", `File ${file.name} deleted.`, headers);
});

export default function FilePage() {
  const { file, usedBy, canWrite } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const refused = answer?.intent === "delete" && answer.result.status === "error" ? ((answer.result as SubmissionResult<string[]>).error?.[""] ?? []) : null;
  const versions = usedBy.map((use) => `version ${use.version} of job ${use.jobName}`);

  return (
    <div className="space-y-6">
      <PageHeader
        title={file.name}
        description={`${formatBytes(file.size)} in the file library`}
        actions={
          <Link to="/files" className="text-sm font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
            All files
          </Link>
        }
      />
      <section aria-labelledby="details-title" className={CARD}>
        <h2 id="details-title" className="text-lg font-semibold">
          Details
        </h2>
        <dl className="mt-4 grid gap-4 sm:grid-cols-3">
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Size</dt>
            <dd className="font-medium">
              {formatBytes(file.size)} <span className={`text-sm font-normal ${MUTED}`}>({file.size.toLocaleString("en")} bytes)</span>
            </dd>
          </div>
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Uploaded by</dt>
            <dd className="font-medium break-words">{file.uploadedBy?.username ?? "unknown"}</dd>
          </div>
          <div className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>Uploaded</dt>
            <dd className="font-medium">
              <When at={file.createdAt} />
            </dd>
          </div>
          <div className="min-w-0 sm:col-span-3">
            <dt className={`text-sm ${MUTED}`}>SHA-256</dt>
            <dd className="font-mono text-sm break-all" data-testid="file-sha256">
              {file.sha256}
            </dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="used-by-title" className={CARD}>
        <h2 id="used-by-title" className="text-lg font-semibold">
          Job versions that copy it
        </h2>
        {versions.length === 0 ? (
          <p className={`mt-2 ${MUTED}`}>No job version copies this file.</p>
        ) : (
          <ul className="mt-2 list-disc space-y-1 pl-5" data-testid="used-by">
            {versions.map((text) => (
              <li key={text} className="break-words">
                {text}
              </li>
            ))}
          </ul>
        )}
      </section>
      {canWrite && (
        <section aria-labelledby="delete-title" className={CARD}>
          <h2 id="delete-title" className="text-lg font-semibold">
            Delete
          </h2>
          <p className={`mt-1 mb-4 ${MUTED}`}>
            {versions.length > 0 ? "Refused while a job version copies it: delete those versions' jobs, or save versions that copy another file, first." : "No job version copies it, so it can be deleted."}
          </p>
          {refused && (
            <div role="alert" className="mb-4 rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/60 dark:text-rose-100">
              <p className="font-medium">Not deleted.</p>
              {refused.map((message) => (
                <p key={message}>{message}</p>
              ))}
            </div>
          )}
          {/* Remounted (closed) after every answer, so a refusal shows on the page, not behind the dialog. */}
          <ConfirmDialog key={answer?.id ?? "first"} trigger="Delete file" title={`Delete ${file.name}?`} intent="delete" confirmLabel="Delete file" pendingLabel="Deleting…">
            The file and its stored bytes are removed from the library for good; it cannot be undone.
          </ConfirmDialog>
        </section>
      )}
      <Toast toast={answer?.toast} />
    </div>
  );
}
