import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { redirect, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { SubmitButton } from "../components/ui/button.tsx";
import { ConfirmDialog } from "../components/ui/confirm-dialog.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { ErrorList, Field } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader } from "../http/page.server.ts";
import { signedInHeaders, signedOutHeaders } from "../http/web-session.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { passwordChangeBody, profileBody } from "../schemas/users.ts";
import { revokeAllSessions } from "../services/auth/sign-in.server.ts";
import { changeOwnPassword, updateProfile } from "../services/users/commands.server.ts";
import { getUser } from "../services/users/queries.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Profile" }];

const detailsForm = profileBody.extend({ intent: z.literal("profile") });
const passwordForm = passwordChangeBody
  .extend({ intent: z.literal("password"), confirmPassword: z.string().max(1024) })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ["confirmPassword"], message: "Does not match the new password." });
const signOutForm = z.object({ intent: z.literal("signOutEverywhere") });
const SECRET_FIELDS = ["currentPassword", "newPassword", "confirmPassword"] as const;

export const loader = pageLoader({ permission: "profile:read" }, async ({ db, user }) => {
  const profile = await getUser(db, user.id);
  return {
    profile: {
      username: profile.username,
      displayName: profile.displayName,
      email: profile.email,
      role: profile.role,
      hasPassword: profile.hasPassword,
      ssoLinked: profile.ssoLinked,
    },
  };
});

export const action = pageAction(
  { permission: "profile:write", schema: z.discriminatedUnion("intent", [detailsForm, passwordForm, signOutForm]), secretFields: SECRET_FIELDS },
  async (value, { db, user, principal, request, meta, audit, headers }) => {
    switch (value.intent) {
      case "profile":
        // The form always sends both fields: an emptied one clears the value.
        await updateProfile(db, user.id, { displayName: value.displayName ?? null, email: value.email ?? null }, audit);
        return { toast: "Profile saved." };
      case "password": {
        const tokens = await changeOwnPassword(db, user.id, { currentPassword: value.currentPassword, newPassword: value.newPassword }, meta, audit);
        for (const cookie of signedInHeaders(request, tokens).getSetCookie()) headers.append("Set-Cookie", cookie);
        return { toast: "Password changed. Every other session was signed out.", resetForm: true };
      }
      case "signOutEverywhere":
        await revokeAllSessions(db, principal, undefined, audit);
        return redirect("/login?notice=signed-out-everywhere", { headers: signedOutHeaders(request) });
    }
  },
);

function signInMethod(profile: { hasPassword: boolean; ssoLinked: boolean }): string {
  if (profile.hasPassword && profile.ssoLinked) return "Password and single sign-on";
  return profile.ssoLinked ? "Single sign-on" : "Password";
}

export default function Profile() {
  const { profile } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const resultOf = (intent: string) => (answer && answer.intent === intent ? (answer.result as SubmissionResult<string[]>) : undefined);

  const [details, detailFields] = useForm({
    id: "profile",
    lastResult: resultOf("profile"),
    defaultValue: { displayName: profile.displayName ?? "", email: profile.email ?? "" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, detailsForm),
  });
  const [password, passwordFields] = useForm({
    id: "password",
    lastResult: resultOf("password"),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, passwordForm),
  });

  return (
    <div className="space-y-6">
      <PageHeader title="Profile" description="Your account: how others see you, your password and your sessions." />

      <section aria-labelledby="account-title" className={CARD}>
        <h2 id="account-title" className="text-lg font-semibold">
          Account
        </h2>
        <dl className="mt-4 grid gap-4 sm:grid-cols-2">
          {(
            [
              ["Username", profile.username],
              ["Role", profile.role],
              ["Display name", profile.displayName ?? "—"],
              ["Email", profile.email ?? "—"],
              ["Sign-in method", signInMethod(profile)],
            ] as const
          ).map(([label, value]) => (
            <div key={label} className="min-w-0">
              <dt className={`text-sm ${MUTED}`}>{label}</dt>
              <dd className="font-medium break-words" data-testid={`profile-${label.toLowerCase().replace(/\W+/g, "-")}`}>
                {value}
              </dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="api-tokens-title" className={CARD}>
        <h2 id="api-tokens-title" className="text-lg font-semibold">
          API tokens
        </h2>
        <p className={`mt-1 ${MUTED}`}>Tokens let scripts and pipelines call the API as you, without your password.</p>
        <Link to="/profile/tokens" className="mt-3 inline-block font-medium text-sky-700 underline dark:text-sky-300">
          Manage your API tokens
        </Link>
      </section>

      <section aria-labelledby="details-title" className={CARD}>
        <h2 id="details-title" className="text-lg font-semibold">
          Display name and email
        </h2>
        <Form method="post" {...getFormProps(details)} aria-labelledby="details-title" className="mt-4 grid gap-4 sm:grid-cols-2">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value="profile" />
          <Field meta={detailFields.displayName} label="Display name" help="Shown in the navigation and the audit log instead of your username." autoComplete="name" />
          <Field meta={detailFields.email} label="Email" type="email" autoComplete="email" />
          <ErrorList id={details.errorId} errors={details.errors} className="empty:hidden sm:col-span-2" />
          <div className="sm:col-span-2">
            <SubmitButton intent="profile" pendingLabel="Saving…">
              Save profile
            </SubmitButton>
          </div>
        </Form>
      </section>

      <section aria-labelledby="password-title" className={CARD}>
        <h2 id="password-title" className="text-lg font-semibold">
          Password
        </h2>
        {profile.hasPassword ? (
          <Form method="post" {...getFormProps(password)} aria-labelledby="password-title" className="mt-4 space-y-4">
            <CsrfInput />
            <input type="hidden" name={INTENT_FIELD} value="password" />
            {/* Remounted after every answer, so no typed password survives it. */}
            <div key={answer?.intent === "password" ? answer.id : "first"} className="grid gap-4 sm:grid-cols-3">
              <Field meta={passwordFields.currentPassword} label="Current password" type="password" autoComplete="current-password" />
              <Field meta={passwordFields.newPassword} label="New password" type="password" autoComplete="new-password" help="At least 12 characters." />
              <Field meta={passwordFields.confirmPassword} label="Confirm new password" type="password" autoComplete="new-password" />
            </div>
            <ErrorList id={password.errorId} errors={password.errors} />
            <p className={`text-sm ${MUTED}`}>Changing it signs out every other session; this one stays signed in.</p>
            <SubmitButton intent="password" pendingLabel="Changing…">
              Change password
            </SubmitButton>
          </Form>
        ) : (
          <p className={`mt-2 ${MUTED}`}>This account signs in through single sign-on: its password is managed by your identity provider.</p>
        )}
      </section>

      <section aria-labelledby="sessions-title" className={CARD}>
        <h2 id="sessions-title" className="text-lg font-semibold">
          Sessions
        </h2>
        <p className={`mt-2 mb-4 ${MUTED}`}>Signed in somewhere you no longer use? End every session of your account, this one included.</p>
        <ConfirmDialog trigger="Sign out everywhere" title="Sign out everywhere?" intent="signOutEverywhere" confirmLabel="Sign out everywhere" pendingLabel="Signing out…">
          Every session of your account ends at once: this browser, other browsers and API tokens. You will have to sign in again wherever you use OpsConductor.
        </ConfirmDialog>
      </section>

      <Toast toast={answer?.toast} />
    </div>
  );
}
