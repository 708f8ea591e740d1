import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { OneTimeToken, TokenTable, type TokenRow } from "../components/tokens/token-parts.tsx";
import { SubmitButton } from "../components/ui/button.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { ErrorList, Field, Select } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, readPageQuery, type ActionOutcome } from "../http/page.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { ROLES, type Role } from "../lib/permissions.ts";
import { pageQuery } from "../schemas/common.ts";
import { createTokenForm, revokeTokenForm, tokenFormInput, EXPIRY_OPTIONS } from "../schemas/token-forms.ts";
import { createToken, listTokens, revokeToken } from "../services/tokens/tokens.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · API tokens" }];

export const loader = pageLoader({ permission: "profile:read" }, async ({ db, principal, request }) => {
  const query = readPageQuery(request, pageQuery);
  const page = await listTokens(db, { ...query, scope: "mine" }, principal);
  return { role: principal.role, username: principal.username, items: page.items, nextCursor: page.nextCursor };
});

interface Created {
  name: string;
  owner: string;
  token: string;
}

export const action = pageAction(
  { permission: "profile:write", schema: z.discriminatedUnion("intent", [createTokenForm, revokeTokenForm]) },
  async (value, { db, principal, audit }): Promise<ActionOutcome<{ created: Created }>> => {
    if (value.intent === "revoke") {
      const token = await revokeToken(db, value.id, principal, audit);
      return { toast: `Token “${token.name}” revoked.` };
    }
    const created = await createToken(db, tokenFormInput(value), principal, audit);
    // The value goes back in this answer only, which no cache keeps (pageAction answers no-store).
    return { toast: `Token “${created.name}” created.`, resetForm: true, data: { created: { name: created.name, owner: created.owner.username, token: created.token } } };
  },
);

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export default function ProfileTokens() {
  const { role, username, items, nextCursor } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const created = answer?.data?.created;
  const [form, fields] = useForm({
    id: "create-token",
    lastResult: answer?.intent === "create" && !created ? (answer.result as SubmissionResult<string[]>) : undefined,
    defaultValue: { role, expiresInDays: "90" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, createTokenForm),
  });
  const roleOptions = ROLES.filter((r) => RANK[r] <= RANK[role]).map((r) => ({ value: r, label: r === role ? `${r} (your role)` : r }));
  const revokeErrors = answer?.intent === "revoke" && answer.result.status === "error" ? Object.values(answer.result.error ?? {}).flat().filter((e): e is string => typeof e === "string") : [];

  return (
    <div className="space-y-6">
      <PageHeader title="API tokens" description="Tokens let scripts and pipelines call the API as you, without your password." />
      <p className={MUTED}>
        <Link to="/profile" className="underline">
          Back to your profile
        </Link>
      </p>

      {created && <OneTimeToken name={created.name} owner={created.owner} token={created.token} />}

      <section aria-labelledby="new-token-title" className={CARD}>
        <h2 id="new-token-title" className="text-lg font-semibold">
          New token
        </h2>
        <p className={`mt-1 text-sm ${MUTED}`}>
          A token acts as {username} with the role you pick here, never more than your own. It cannot create tokens or change passwords.
        </p>
        <Form method="post" {...getFormProps(form)} aria-labelledby="new-token-title" className="mt-4 grid gap-4 sm:grid-cols-3">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value="create" />
          <Field meta={fields.name} label="Name" help="What uses it, e.g. “nightly deploy pipeline”." autoComplete="off" />
          <Select meta={fields.role} label="Role" options={roleOptions} />
          <Select meta={fields.expiresInDays} label="Expires" options={EXPIRY_OPTIONS} />
          <ErrorList id={form.errorId} errors={form.errors} className="empty:hidden sm:col-span-3" />
          <div className="sm:col-span-3">
            <SubmitButton intent="create" pendingLabel="Creating…">
              Create token
            </SubmitButton>
          </div>
        </Form>
      </section>

      <section aria-labelledby="tokens-title" className="space-y-3">
        <h2 id="tokens-title" className="text-lg font-semibold">
          Your tokens
        </h2>
        <ErrorList errors={revokeErrors} className="empty:hidden" />
        <TokenTable label="Your API tokens" rows={items as TokenRow[]} nextCursor={nextCursor} emptyTitle="No tokens yet" emptyText="Create one above for a script or pipeline." />
      </section>

      <Toast toast={answer?.toast} />
    </div>
  );
}
