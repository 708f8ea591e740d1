import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData } from "@remix-run/react";
import { z } from "zod";
import { OneTimePassword } from "../components/users/one-time-password.tsx";
import { buttonClass, SubmitButton } from "../components/ui/button.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { ErrorList, Field, Select } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, redirectWithToast } from "../http/page.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { ROLES } from "../lib/permissions.ts";
import { createUserBody, PASSWORD_MIN_LENGTH } from "../schemas/users.ts";
import { createUser } from "../services/users/commands.server.ts";
import { generatePassword } from "../services/users/generated-password.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · New user" }];

// The API's body; an empty password means "generate one" (the API's "no password" is for
// single-sign-on accounts, which sign-in creates by itself).
const createForm = createUserBody.omit({ disabled: true }).extend({ intent: z.literal("create") });

/** What the page answers when it generated the password: the one time it is ever shown. */
interface Generated {
  userId: string;
  username: string;
  password: string;
}

export const loader = pageLoader({ permission: "users:write" }, () => ({}));

export const action = pageAction({ permission: "users:write", schema: createForm, secretFields: ["password"] }, async (value, { db, audit, headers }) => {
  const password = value.password ?? generatePassword();
  const user = await createUser(db, { username: value.username, role: value.role, email: value.email ?? null, displayName: value.displayName ?? null, password }, audit);
  if (value.password !== undefined) return redirectWithToast(`/users/${user.id}`, `User ${user.username} created.`, headers);
  // Not a redirect: the password must not travel in an address or a cookie, so it comes back in
  // this answer only, which no cache keeps (pageAction answers no-store).
  return { toast: `User ${user.username} created.`, resetForm: true, data: { generated: { userId: user.id, username: user.username, password } satisfies Generated } };
});

const ROLE_OPTIONS = ROLES.map((role) => ({ value: role, label: role }));
const ROLE_HELP = "Viewers see targets, jobs, runs, schedules and files; operators also change and run them; admins also manage users, credentials and the audit log.";

export default function NewUser() {
  const answer = useActionData<typeof action>();
  const generated = answer?.data?.generated;
  const [form, fields] = useForm({
    id: "create",
    lastResult: generated ? undefined : (answer?.result as SubmissionResult<string[]> | undefined),
    defaultValue: { role: "viewer" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, createForm),
  });

  if (answer && generated) {
    return (
      <div className="space-y-6">
        <PageHeader title="User created" description={`${generated.username} can sign in with the password below.`} />
        <OneTimePassword username={generated.username} password={generated.password} title={`Password for ${generated.username}`} />
        <div className="flex flex-wrap gap-2">
          <Link to={`/users/${generated.userId}`} className={buttonClass("primary")}>
            Open {generated.username}
          </Link>
          <Link to="/users/new" reloadDocument className={buttonClass("secondary")}>
            Create another user
          </Link>
          <Link to="/users" className={buttonClass("secondary")}>
            Back to users
          </Link>
        </div>
        <Toast toast={answer.toast} />
      </div>
    );
  }

  return (
    <div className="space-y-6">
      <PageHeader title="New user" description="An account that signs in with a username and password." />
      <section aria-labelledby="create-title" className={CARD}>
        <h2 id="create-title" className="sr-only">
          Account
        </h2>
        <Form method="post" {...getFormProps(form)} aria-labelledby="create-title" className="grid gap-4 sm:grid-cols-2">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value="create" />
          <Field meta={fields.username} label="Username" help="Letters, digits, '.', '_', '@' and '-'; unique regardless of case." autoComplete="off" />
          <Select meta={fields.role} label="Role" help={ROLE_HELP} options={ROLE_OPTIONS} />
          <Field meta={fields.displayName} label="Display name" help="Optional. Shown instead of the username." autoComplete="off" />
          <Field meta={fields.email} label="Email" type="email" help="Optional." autoComplete="off" />
          {/* Remounted after every answer, so no typed password survives it. */}
          <div key={answer?.id ?? "first"} className="sm:col-span-2">
            <Field
              meta={fields.password}
              label="Password"
              type="password"
              autoComplete="new-password"
              help={`At least ${PASSWORD_MIN_LENGTH} characters. Leave it empty and OpsConductor generates one, shown once after the user is created.`}
            />
          </div>
          <ErrorList id={form.errorId} errors={form.errors} className="empty:hidden sm:col-span-2" />
          <div className="flex flex-wrap gap-2 sm:col-span-2">
            <SubmitButton intent="create" pendingLabel="Creating…">
              Create user
            </SubmitButton>
            <Link to="/users" className={buttonClass("secondary")}>
              Cancel
            </Link>
          </div>
        </Form>
      </section>
      <Toast toast={answer?.toast} />
    </div>
  );
}
