import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData } from "@remix-run/react";
import { PolicyField, SecretFields } from "../components/credentials/credential-fields.tsx";
import { buttonClass, SubmitButton } from "../components/ui/button.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { ErrorList, Field, Select, TextAreaField } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, redirectWithToast } from "../http/page.server.ts";
import { parseForm } from "../lib/forms.ts";
import { CREDENTIAL_SECRET_FIELDS, CREDENTIAL_TYPE_LABELS, CREDENTIAL_TYPES, credentialCreateForm, type CredentialType } from "../schemas/credentials.ts";
import { createCredential } from "../services/credentials/commands.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · New credential" }];

export const loader = pageLoader({ permission: "credentials:write" }, () => ({}));

export const action = pageAction({ permission: "credentials:write", schema: credentialCreateForm, secretFields: CREDENTIAL_SECRET_FIELDS }, async (value, { db, user, audit, headers }) => {
  const created = await createCredential(db, value, user.id, audit);
  return redirectWithToast(`/credentials/${created.id}`, `Credential ${created.name} created. Its secret is stored encrypted and can never be read back.`, headers);
});

const TYPE_OPTIONS = CREDENTIAL_TYPES.map((type) => ({ value: type, label: CREDENTIAL_TYPE_LABELS[type] }));
const isType = (value: unknown): value is CredentialType => CREDENTIAL_TYPES.includes(value as CredentialType);

export default function NewCredential() {
  const answer = useActionData<typeof action>();
  const [form, fields] = useForm({
    id: "credential",
    lastResult: answer?.result as SubmissionResult<string[]> | undefined,
    defaultValue: { type: "winrm" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, credentialCreateForm),
  });
  const type: CredentialType = isType(fields.type.value) ? fields.type.value : "winrm";
  // Every field name of every type; the union's fieldsets share the form's state.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fields of the chosen type
  const all = fields as any;
  const secret = all.secret.getFieldset();

  return (
    <div className="space-y-6">
      <PageHeader title="New credential" description="A secret OpsConductor signs in to targets with. Once saved, it can be replaced but never read back, not even by administrators." />
      <Form method="post" {...getFormProps(form)} className={`${CARD} space-y-6`}>
        <CsrfInput />
        <div className="grid gap-4 sm:grid-cols-2">
          <Field meta={fields.name} label="Name" help="How targets and people refer to it, such as corp-admin." autoComplete="off" />
          <Select meta={fields.type} label="Type" options={TYPE_OPTIONS} help="What it signs in to: Windows over WinRM, a host over SSH, or a service with an API key." />
          {type !== "api_key" && <Field meta={all.username} label="Username" autoComplete="off" help={type === "winrm" ? "The account to sign in as, without the domain." : "The account to sign in as."} />}
          {type === "winrm" && <Field meta={all.domain} label="Domain" autoComplete="off" help="The Active Directory domain (CORP), or empty for a local account." />}
          <TextAreaField meta={fields.description} label="Description" rows={2} className="sm:col-span-2" />
        </div>
        <fieldset className="space-y-4">
          <legend className="text-lg font-semibold">Secret</legend>
          {/* Remounted after every answer, so no typed secret survives it. */}
          <div key={answer?.id ?? "first"}>
            <SecretFields type={type} fields={secret} onKeyFile={(text) => form.update({ name: secret.privateKey.name, value: text })} />
          </div>
        </fieldset>
        <fieldset>
          <legend className="text-lg font-semibold">Usage policy</legend>
          <div className="mt-2">
            <PolicyField meta={fields.usagePolicy} />
          </div>
        </fieldset>
        <ErrorList id={form.errorId} errors={form.errors} />
        <div className="flex flex-wrap gap-2">
          <SubmitButton pendingLabel="Creating…">Create credential</SubmitButton>
          <Link to="/credentials" className={buttonClass("secondary")}>
            Cancel
          </Link>
        </div>
      </Form>
      <Toast toast={answer?.toast} />
    </div>
  );
}
