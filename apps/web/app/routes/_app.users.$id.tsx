import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { redirect, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import { z } from "zod";
import { OneTimePassword } from "../components/users/one-time-password.tsx";
import { When } from "../components/ui/when.tsx";
import { Button, SubmitButton } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { ErrorList, Field, Select } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, pageParams, redirectWithToast, type PageContext } from "../http/page.server.ts";
import { signedOutHeaders } from "../http/web-session.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { ROLES } from "../lib/permissions.ts";
import { idParams } from "../schemas/common.ts";
import { PASSWORD_MIN_LENGTH, updateUserBody } from "../schemas/users.ts";
import { ApiError } from "../services/errors.server.ts";
import { deleteUser, updateUser } from "../services/users/commands.server.ts";
import { generatePassword } from "../services/users/generated-password.server.ts";
import { getUser, otherEnabledAdmins } from "../services/users/queries.server.ts";

export const meta: MetaFunction<typeof loader> = ({ data: loaded }) => [{ title: `OpsConductor · ${loaded?.account.username ?? "User"}` }];

const detailsForm = updateUserBody.pick({ displayName: true, email: true }).extend({ intent: z.literal("details") });
const roleForm = z.object({ intent: z.literal("role"), role: updateUserBody.shape.role.unwrap() });
// An empty password means "generate one".
const passwordForm = z.object({ intent: z.literal("password"), password: updateUserBody.shape.password });
const schema = z.discriminatedUnion("intent", [
  detailsForm,
  roleForm,
  passwordForm,
  z.object({ intent: z.literal("disable") }),
  z.object({ intent: z.literal("enable") }),
  z.object({ intent: z.literal("delete") }),
]);

// The user the address names (a malformed id or an unknown user: the 404 page).
function account(ctx: PageContext) {
  return getUser(ctx.db, pageParams(ctx.params, idParams).id);
}

export const loader = pageLoader({ permission: "users:read" }, async (ctx) => {
  const user = await account(ctx);
  // Mirrors the services' rule (they refuse it anyway): the last enabled admin keeps role, state and account.
  const lastAdmin = user.role === "admin" && !user.disabled && (await otherEnabledAdmins(ctx.db, user.id)) === 0;
  return { account: user, self: user.id === ctx.user.id, lastAdmin };
});

interface Generated {
  userId: string;
  username: string;
  password: string;
}

export const action = pageAction({ permission: "users:write", schema, secretFields: ["password"] }, async (value, ctx) => {
  const { db, audit, headers, request } = ctx;
  const user = await account(ctx);
  const self = user.id === ctx.user.id;
  // Changes that end every session of the user: when it is the signed-in admin, this one goes too.
  const signedOut = () => redirect("/login", { headers: signedOutHeaders(request) });
  switch (value.intent) {
    case "details":
      await updateUser(db, user.id, { displayName: value.displayName ?? null, email: value.email ?? null }, audit);
      return { toast: "Details saved." };
    case "role": {
      if (value.role === user.role) return { toast: `${user.username} is already ${value.role}.` };
      await updateUser(db, user.id, { role: value.role }, audit);
      if (self) return signedOut();
      return { toast: `${user.username} is now ${value.role}; their sessions were signed out.` };
    }
    case "disable":
      await updateUser(db, user.id, { disabled: true }, audit);
      if (self) return signedOut();
      return { toast: `${user.username} is disabled and was signed out everywhere.` };
    case "enable":
      await updateUser(db, user.id, { disabled: false }, audit);
      return { toast: `${user.username} is enabled again.` };
    case "password": {
      if (self) throw new ApiError(400, "validation_failed", "change your own password on your Profile page, which asks for the current one");
      const password = value.password ?? generatePassword();
      await updateUser(db, user.id, { password }, audit);
      if (value.password !== undefined) return { toast: `Password of ${user.username} reset; their sessions were signed out.`, resetForm: true };
      // The generated password travels in this answer only (never an address or a cookie), uncached.
      return {
        toast: `New password generated for ${user.username}; their sessions were signed out.`,
        resetForm: true,
        data: { generated: { userId: user.id, username: user.username, password } satisfies Generated },
      };
    }
    case "delete":
      await deleteUser(db, user.id, audit);
      if (self) return signedOut();
      return redirectWithToast("/users", `User ${user.username} deleted.`, headers);
  }
});

// A refusal because of the account's state (409: the last admin) means someone changed it meanwhile:
// reload it, so the page shows why. (Remix leaves loader data alone after a 4xx answer by default.)
export const shouldRevalidate: ShouldRevalidateFunction = ({ actionStatus, defaultShouldRevalidate }) => actionStatus === 409 || defaultShouldRevalidate;

const ROLE_OPTIONS = ROLES.map((role) => ({ value: role, label: role }));

function signInMethod(user: { hasPassword: boolean; ssoLinked: boolean }): string {
  if (user.hasPassword && user.ssoLinked) return "Password and single sign-on";
  if (user.ssoLinked) return "Single sign-on";
  return user.hasPassword ? "Password" : "None yet (no password, no single sign-on)";
}

export default function UserPage() {
  const { account: user, self, lastAdmin } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const generated = answer?.data?.generated;
  const resultOf = (intent: string) => (answer && answer.intent === intent && !generated ? (answer.result as SubmissionResult<string[]>) : undefined);

  const [details, detailFields] = useForm({
    id: "details",
    lastResult: resultOf("details"),
    defaultValue: { displayName: user.displayName ?? "", email: user.email ?? "" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, detailsForm),
  });
  const [role, roleFields] = useForm({ id: "role", lastResult: resultOf("role"), defaultValue: { role: user.role }, onValidate: ({ formData }) => parseForm(formData, roleForm) });
  const [password, passwordFields] = useForm({
    id: "password",
    lastResult: resultOf("password"),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, passwordForm),
  });
  const formError = (intent: string) => (answer && answer.intent === intent && answer.toast?.kind === "error" ? [answer.toast.message] : []);
  const name = user.displayName ? `${user.displayName} (${user.username})` : user.username;

  return (
    <div className="space-y-6">
      <PageHeader
        title={user.username}
        description={
          <>
            <Link to="/users" className="text-sky-700 underline underline-offset-2 dark:text-sky-300">
              Users
            </Link>{" "}
            › {name}
          </>
        }
      />

      {(self || lastAdmin) && (
        <div id="account-notes" className="space-y-2 rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950/40 dark:text-amber-100">
          {lastAdmin && (
            <p id="last-admin-note">
              <strong>{user.username} is the only enabled admin.</strong> Someone must always be able to administer OpsConductor, so this account cannot be demoted, disabled or deleted. Make another user an admin first.
            </p>
          )}
          {self && (
            <p id="self-note">
              <strong>This is your own account.</strong> Changing its role or disabling it signs you out at once, here and everywhere; deleting it signs you out for good. Your own password is changed on your{" "}
              <Link to="/profile" className="underline underline-offset-2">
                Profile
              </Link>{" "}
              page.
            </p>
          )}
        </div>
      )}

      {generated && <OneTimePassword username={generated.username} password={generated.password} title={`New password for ${generated.username}`} />}

      <section aria-labelledby="account-title" className={CARD}>
        <h2 id="account-title" className="text-lg font-semibold">
          Account
        </h2>
        <dl className="mt-4 grid gap-4 sm:grid-cols-3">
          {(
            [
              ["Role", user.role],
              ["State", <StatusBadge key="state" ok={!user.disabled}>{user.disabled ? "disabled" : "enabled"}</StatusBadge>],
              ["Sign-in method", signInMethod(user)],
              ["Last sign-in", user.lastLoginAt ? <When key="last" at={user.lastLoginAt} /> : "Never"],
              ["Created", <When key="created" at={user.createdAt} />],
            ] as const
          ).map(([label, value]) => (
            <div key={label} className="min-w-0">
              <dt className={`text-sm ${MUTED}`}>{label}</dt>
              <dd className="font-medium break-words" data-testid={`user-${label.toLowerCase().replace(/\W+/g, "-")}`}>
                {value}
              </dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="details-title" className={CARD}>
        <h2 id="details-title" className="text-lg font-semibold">
          Display name and email
        </h2>
        <Form method="post" {...getFormProps(details)} aria-labelledby="details-title" className="mt-4 grid gap-4 sm:grid-cols-2">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value="details" />
          <Field meta={detailFields.displayName} label="Display name" autoComplete="off" />
          <Field meta={detailFields.email} label="Email" type="email" autoComplete="off" />
          <ErrorList id={details.errorId} errors={details.errors} className="empty:hidden sm:col-span-2" />
          <div className="sm:col-span-2">
            <SubmitButton intent="details" pendingLabel="Saving…">
              Save details
            </SubmitButton>
          </div>
        </Form>
      </section>

      <section aria-labelledby="role-title" className={CARD}>
        <h2 id="role-title" className="text-lg font-semibold">
          Change role
        </h2>
        <Form method="post" {...getFormProps(role)} aria-labelledby="role-title" className="mt-4 grid gap-4 sm:grid-cols-2">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value="role" />
          <Select
            meta={roleFields.role}
            label="Role"
            options={ROLE_OPTIONS}
            disabled={lastAdmin}
            help={lastAdmin ? "The only enabled admin keeps the admin role." : self ? "Changing your own role signs you out at once." : "A new role signs the user out of every session; they sign in again with it."}
          />
          <ErrorList id={role.errorId} errors={role.errors} className="empty:hidden sm:col-span-2" />
          <div className="sm:col-span-2">
            <SubmitButton intent="role" pendingLabel="Changing…" disabled={lastAdmin} aria-describedby={lastAdmin ? "last-admin-note" : undefined}>
              Change role
            </SubmitButton>
          </div>
        </Form>
      </section>

      {!self && (
        <section aria-labelledby="password-title" className={CARD}>
          <h2 id="password-title" className="text-lg font-semibold">
            Reset password
          </h2>
          <Form method="post" {...getFormProps(password)} aria-labelledby="password-title" className="mt-4 space-y-4">
            <CsrfInput />
            <input type="hidden" name={INTENT_FIELD} value="password" />
            {/* Remounted after every answer, so no typed password survives it. */}
            <div key={answer?.intent === "password" ? answer.id : "first"} className="grid gap-4 sm:grid-cols-2">
              <Field
                meta={passwordFields.password}
                label="New password"
                type="password"
                autoComplete="new-password"
                help={`At least ${PASSWORD_MIN_LENGTH} characters. Leave it empty and OpsConductor generates one, shown once. Either way ${user.username}'s current password stops working and their sessions are signed out.`}
              />
            </div>
            <ErrorList id={password.errorId} errors={password.errors} className="empty:hidden" />
            <SubmitButton intent="password" pendingLabel="Resetting…">
              Reset password
            </SubmitButton>
          </Form>
        </section>
      )}

      <section aria-labelledby="danger-title" className={CARD}>
        <h2 id="danger-title" className="text-lg font-semibold">
          Access
        </h2>
        <p className={`mt-1 mb-4 ${MUTED}`}>
          {user.disabled ? `${user.username} is disabled: they cannot sign in, and no token of theirs works.` : "Disabling keeps the account and its history but stops every sign-in and ends every session."}
        </p>
        <div className="flex flex-wrap gap-2">
          {user.disabled ? (
            <Form method="post">
              <CsrfInput />
              <input type="hidden" name={INTENT_FIELD} value="enable" />
              <SubmitButton intent="enable" variant="secondary" pendingLabel="Enabling…">
                Enable {user.username}
              </SubmitButton>
            </Form>
          ) : lastAdmin ? (
            <Button variant="secondary" disabled aria-describedby="last-admin-note">
              Disable {user.username}
            </Button>
          ) : (
            <ConfirmDialog trigger={`Disable ${user.username}`} triggerVariant="secondary" title={`Disable ${user.username}?`} intent="disable" confirmLabel="Disable" pendingLabel="Disabling…">
              {self ? "This is your own account: you are signed out at once and cannot sign in again until another admin enables it." : `${user.username} is signed out everywhere and cannot sign in until an admin enables the account again. Nothing else changes.`}
            </ConfirmDialog>
          )}
          {lastAdmin ? (
            <Button variant="danger" disabled aria-describedby="last-admin-note">
              Delete {user.username}
            </Button>
          ) : (
            <ConfirmDialog trigger={`Delete ${user.username}`} title={`Delete ${user.username}?`} intent="delete" confirmLabel="Delete user" pendingLabel="Deleting…">
              {self
                ? "This is your own account: it is removed and you are signed out for good. The audit log keeps your name on what you did."
                : `The account is removed for good and ${user.username} can no longer sign in. The audit log keeps their name on what they did; disable the account instead if you may need it again.`}
            </ConfirmDialog>
          )}
        </div>
        <ErrorList errors={[...formError("disable"), ...formError("delete"), ...formError("enable")]} className="empty:hidden" />
      </section>

      <Toast toast={answer?.toast} />
    </div>
  );
}
