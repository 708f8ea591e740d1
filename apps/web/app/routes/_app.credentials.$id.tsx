import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { PolicyField, SecretFields } from "../components/credentials/credential-fields.tsx";
import { SubmitButton } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { ErrorList, Field, TextAreaField } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast } from "../http/page.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { can } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { CREDENTIAL_SECRET_FIELDS, CREDENTIAL_TYPE_LABELS, credentialEditForm, credentialRotateForm } from "../schemas/credentials.ts";
import { deleteCredential, updateCredential } from "../services/credentials/commands.server.ts";
import { credentialUsers, getCredential } from "../services/credentials/queries.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data: loaded }) => [{ title: `OpsConductor · ${loaded?.credential.name ?? "Credential"}` }];

const deleteForm = z.object({ intent: z.literal("delete") });
const pageForms = z.discriminatedUnion("intent", [credentialEditForm, credentialRotateForm, deleteForm]);

// The credential this address names; a malformed or unknown id is the 404 page (pageParams, pageLoader).
const credentialOf = (db: Parameters<typeof getCredential>[0], params: Record<string, string | undefined>) => getCredential(db, pageParams(params, idParams).id);

export const loader = pageLoader({ permission: "credentials:read" }, async ({ db, params, user }) => {
  const credential = await credentialOf(db, params);
  return { credential, usedBy: await credentialUsers(db, credential.id), canWrite: can(user.role, "credentials:write") };
});

export const action = pageAction({ permission: "credentials:write", schema: pageForms, secretFields: CREDENTIAL_SECRET_FIELDS }, async (value, { db, params, audit, headers }) => {
  const current = await credentialOf(db, params);
  switch (value.intent) {
    case "edit": {
      // The form always sends every field it shows: an emptied one clears the value.
      const saved = await updateCredential(
        db,
        current.id,
        {
          name: value.name,
          description: value.description ?? null,
          usagePolicy: value.usagePolicy,
          ...(current.type === "api_key" ? {} : { username: value.username ?? null }),
          ...(current.type === "winrm" ? { domain: value.domain ?? null } : {}),
        },
        audit,
      );
      return { toast: `Saved ${saved.name}.` };
    }
    case "rotate":
      await updateCredential(db, current.id, { type: value.type, secret: value.secret }, audit);
      return { toast: "Secret replaced. Targets using this credential sign in with the new one from their next connection.", resetForm: true };
    case "delete":
      await deleteCredential(db, current.id, audit);
      return redirectWithToast("/credentials", `Credential ${current.name} deleted.`, headers);
  }
});

export default function CredentialPage() {
  const { credential, usedBy, canWrite } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const resultOf = (intent: string) => (answer && answer.intent === intent ? (answer.result as SubmissionResult<string[]>) : undefined);
  const editResult = resultOf("edit");

  // A new form (its defaults the stored values) after every save; after a refusal, what was typed stays.
  const [edit, editFields] = useForm({
    id: `edit-${new Date(credential.updatedAt).getTime()}`,
    lastResult: editResult?.status === "error" ? editResult : undefined,
    defaultValue: { name: credential.name, username: credential.username ?? "", domain: credential.domain ?? "", description: credential.description ?? "", usagePolicy: credential.usagePolicy },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, credentialEditForm),
  });
  const [rotate, rotateFields] = useForm({
    id: "rotate",
    lastResult: resultOf("rotate"),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, credentialRotateForm),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the secret fields of this credential's type
  const secret = (rotateFields as any).secret.getFieldset();
  const deleteRefused = answer?.intent === "delete" && answer.result.status === "error" ? ((answer.result as SubmissionResult<string[]>).error?.[""] ?? []) : null;

  return (
    <div className="space-y-6">
      <PageHeader
        title={credential.name}
        description={`${CREDENTIAL_TYPE_LABELS[credential.type]} credential`}
        actions={
          <Link to="/credentials" className="text-sm font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
            All credentials
          </Link>
        }
      />

      <section aria-labelledby="details-title" className={CARD}>
        <h2 id="details-title" className="text-lg font-semibold">
          Details
        </h2>
        <dl className="mt-4 grid gap-4 sm:grid-cols-3">
          {(
            [
              ["Type", CREDENTIAL_TYPE_LABELS[credential.type]],
              ...(credential.type === "api_key" ? [] : [["Username", credential.username ?? "—"] as const]),
              ...(credential.type === "winrm" ? [["Domain", credential.domain ?? "—"] as const] : []),
              ["Created", <When key="c" at={credential.createdAt} />],
              ["Updated", <When key="u" at={credential.updatedAt} />],
              ["Secret last replaced", credential.rotatedAt ? <When key="r" at={credential.rotatedAt} /> : "Never: the secret it was created with"],
            ] as const
          ).map(([label, value]) => (
            <div key={label} className="min-w-0">
              <dt className={`text-sm ${MUTED}`}>{label}</dt>
              <dd className="font-medium break-words">{value}</dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="used-by-title" className={CARD}>
        <h2 id="used-by-title" className="text-lg font-semibold">
          Targets using it
        </h2>
        {usedBy.length === 0 ? (
          <p className={`mt-2 ${MUTED}`}>No target uses this credential.</p>
        ) : (
          <ul className="mt-2 space-y-1" data-testid="used-by">
            {usedBy.map((target) => (
              <li key={target.id} className="break-words">
                <Link to={`/targets/${target.id}`} className="font-medium text-sky-700 underline-offset-2 hover:underline dark:text-sky-300">
                  {target.name}
                </Link>{" "}
                <span className={`text-sm ${MUTED}`}>{target.hostname}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      {canWrite && (
        <>
          <section aria-labelledby="edit-title" className={CARD}>
            <h2 id="edit-title" className="text-lg font-semibold">
              Name, description and usage policy
            </h2>
            <Form method="post" {...getFormProps(edit)} aria-labelledby="edit-title" className="mt-4 space-y-4">
              <CsrfInput />
              <input type="hidden" name={INTENT_FIELD} value="edit" />
              <div className="grid gap-4 sm:grid-cols-2">
                <Field meta={editFields.name} label="Name" autoComplete="off" />
                {credential.type !== "api_key" && <Field meta={editFields.username} label="Username" autoComplete="off" />}
                {credential.type === "winrm" && <Field meta={editFields.domain} label="Domain" autoComplete="off" />}
                <TextAreaField meta={editFields.description} label="Description" rows={2} className="sm:col-span-2" />
              </div>
              <PolicyField meta={editFields.usagePolicy} />
              <ErrorList id={edit.errorId} errors={edit.errors} />
              <SubmitButton intent="edit" pendingLabel="Saving…">
                Save changes
              </SubmitButton>
            </Form>
          </section>

          <section aria-labelledby="rotate-title" className={CARD}>
            <h2 id="rotate-title" className="text-lg font-semibold">
              Replace the secret
            </h2>
            <p className={`mt-1 ${MUTED}`}>The stored secret is replaced at once and cannot be recovered. Nothing else about the credential changes.</p>
            <Form method="post" {...getFormProps(rotate)} aria-labelledby="rotate-title" className="mt-4 space-y-4">
              <CsrfInput />
              <input type="hidden" name={INTENT_FIELD} value="rotate" />
              <input type="hidden" name="type" value={credential.type} />
              {/* Remounted after every answer, so no typed secret survives it. */}
              <div key={answer?.intent === "rotate" ? answer.id : "first"}>
                <SecretFields type={credential.type} fields={secret} replacing onKeyFile={(text) => rotate.update({ name: secret.privateKey.name, value: text })} />
              </div>
              <ErrorList id={rotate.errorId} errors={rotate.errors} />
              <SubmitButton intent="rotate" pendingLabel="Replacing…">
                Replace secret
              </SubmitButton>
            </Form>
          </section>

          <section aria-labelledby="delete-title" className={CARD}>
            <h2 id="delete-title" className="text-lg font-semibold">
              Delete
            </h2>
            <p className={`mt-1 mb-4 ${MUTED}`}>
              {usedBy.length > 0 ? `Refused while a target uses it: point ${usedBy.length === 1 ? "that target" : `those ${usedBy.length} targets`} at another credential first.` : "No target uses it, so it can be deleted."}
            </p>
            {deleteRefused && (
              <div role="alert" className="mb-4 rounded-md border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/60 dark:text-rose-100">
                <p className="font-medium">Not deleted.</p>
                {deleteRefused.map((message) => (
                  <p key={message}>{message}</p>
                ))}
                {usedBy.length > 0 && (
                  <ul className="mt-2 list-disc pl-5">
                    {usedBy.map((target) => (
                      <li key={target.id}>
                        <Link to={`/targets/${target.id}`} className="font-medium underline">
                          {target.name}
                        </Link>
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            )}
            {/* Remounted (closed) after every answer, so a refusal shows on the page, not behind the dialog. */}
            <ConfirmDialog key={answer?.intent === "delete" ? answer.id : "first"} trigger="Delete credential" title={`Delete ${credential.name}?`} intent="delete" confirmLabel="Delete credential" pendingLabel="Deleting…">
              The credential and its encrypted secret are removed for good; it cannot be undone. A credential a target still uses is not deleted.
            </ConfirmDialog>
          </section>
        </>
      )}
      <Toast toast={answer?.toast} />
    </div>
  );
}
