import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { OneTimeToken, TokenTable, type TokenRow } from "../components/tokens/token-parts.tsx";
import { SubmitButton } from "../components/ui/button.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { DataTable, type Column } from "../components/ui/data-table.tsx";
import { EmptyState } from "../components/ui/empty-state.tsx";
import { ErrorList, Field, Select } from "../components/ui/field.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { When } from "../components/ui/when.tsx";
import { pageAction, pageLoader, readPageQuery, type ActionOutcome } from "../http/page.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { ROLES } from "../lib/permissions.ts";
import { pageQuery } from "../schemas/common.ts";
import { createTokenForm, EXPIRY_OPTIONS, revokeTokenForm, tokenFormInput } from "../schemas/token-forms.ts";
import { createServiceAccountBody, type ServiceAccountView } from "../schemas/tokens.ts";
import { createServiceAccount, listServiceAccounts } from "../services/tokens/service-accounts.server.ts";
import { createToken, listTokens, revokeToken } from "../services/tokens/tokens.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Service accounts and API tokens" }];

const accountForm = z.object({
  intent: z.literal("account"),
  username: createServiceAccountBody.shape.username,
  role: createServiceAccountBody.shape.role,
  displayName: z.string().trim().max(200).optional(),
});
const accountTokenForm = createTokenForm.extend({ intent: z.literal("accountToken"), userId: z.uuid({ error: "Pick a service account." }) });

export const loader = pageLoader({ permission: "tokens:admin" }, async ({ db, principal, request }) => {
  const query = readPageQuery(request, pageQuery);
  const [accounts, tokens] = await Promise.all([listServiceAccounts(db, { limit: 200 }), listTokens(db, { ...query, scope: "all" }, principal)]);
  return { accounts: accounts.items, tokens: tokens.items, nextCursor: tokens.nextCursor };
});

interface Created {
  name: string;
  owner: string;
  token: string;
}

export const action = pageAction(
  { permission: "tokens:admin", schema: z.discriminatedUnion("intent", [accountForm, accountTokenForm, revokeTokenForm]) },
  async (value, { db, principal, audit }): Promise<ActionOutcome<{ created: Created }>> => {
    switch (value.intent) {
      case "account": {
        const account = await createServiceAccount(db, { username: value.username, role: value.role, displayName: value.displayName || null }, audit);
        return { toast: `Service account ${account.username} created. Create a token for it below.`, resetForm: true };
      }
      case "accountToken": {
        const created = await createToken(db, tokenFormInput({ ...value, intent: "create" }), principal, audit);
        // The value goes back in this answer only, which no cache keeps (pageAction answers no-store).
        return { toast: `Token “${created.name}” created for ${created.owner.username}.`, resetForm: true, data: { created: { name: created.name, owner: created.owner.username, token: created.token } } };
      }
      case "revoke": {
        const token = await revokeToken(db, value.id, principal, audit);
        return { toast: `Token “${token.name}” of ${token.owner.username} revoked.` };
      }
    }
  },
);

const accountColumns: Column<ServiceAccountView>[] = [
  { key: "username", header: "Username", cell: (a) => <span className="font-medium break-words">{a.username}</span> },
  { key: "displayName", header: "Display name", secondary: true, cell: (a) => a.displayName ?? <span className={MUTED}>—</span> },
  { key: "role", header: "Role", cell: (a) => a.role },
  { key: "tokens", header: "Active tokens", cell: (a) => a.activeTokens },
  { key: "state", header: "State", secondary: true, cell: (a) => (a.disabled ? "disabled" : "enabled") },
  { key: "created", header: "Created", secondary: true, cell: (a) => <When at={a.createdAt} /> },
];

export default function ServiceAccountsAndTokens() {
  const { accounts, tokens, nextCursor } = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  const created = answer?.data?.created;
  const resultOf = (intent: string) => (answer?.intent === intent && !created ? (answer.result as SubmissionResult<string[]>) : undefined);
  const [account, accountFields] = useForm({
    id: "account",
    lastResult: resultOf("account"),
    defaultValue: { role: "viewer" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, accountForm),
  });
  const [tokenForm, tokenFields] = useForm({
    id: "account-token",
    lastResult: resultOf("accountToken"),
    defaultValue: { role: "viewer", expiresInDays: "90" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, accountTokenForm),
  });
  const enabled = accounts.filter((a) => !a.disabled);
  const revokeErrors = answer?.intent === "revoke" && answer.result.status === "error" ? Object.values(answer.result.error ?? {}).flat().filter((e): e is string => typeof e === "string") : [];

  return (
    <div className="space-y-6">
      <PageHeader title="Service accounts and API tokens" description="Accounts for pipelines and other services, and every user's API tokens." />
      <p className={MUTED}>
        Your own tokens are under{" "}
        <Link to="/profile/tokens" className="underline">
          Profile → API tokens
        </Link>
        .
      </p>

      {created && <OneTimeToken name={created.name} owner={created.owner} token={created.token} />}

      <section aria-labelledby="accounts-title" className="space-y-3">
        <h2 id="accounts-title" className="text-lg font-semibold">
          Service accounts
        </h2>
        <p className={`text-sm ${MUTED}`}>A service account has a role but no password: it cannot sign in and acts only through its tokens. Disable or delete it under Users.</p>
        <DataTable label="Service accounts" columns={accountColumns} rows={accounts} rowKey={(a) => a.id} empty={<EmptyState title="No service accounts yet">Create one below for each pipeline or service.</EmptyState>} />
      </section>

      <div className="grid gap-6 lg:grid-cols-2">
        <section aria-labelledby="new-account-title" className={CARD}>
          <h2 id="new-account-title" className="text-lg font-semibold">
            New service account
          </h2>
          <Form method="post" {...getFormProps(account)} aria-labelledby="new-account-title" className="mt-4 grid gap-4">
            <CsrfInput />
            <input type="hidden" name={INTENT_FIELD} value="account" />
            <Field meta={accountFields.username} label="Username" help="e.g. ci-deploy; shown in the audit log for what its tokens do." autoComplete="off" />
            <Field meta={accountFields.displayName} label="Display name (optional)" autoComplete="off" />
            <Select meta={accountFields.role} label="Role" options={ROLES.map((r) => ({ value: r, label: r }))} />
            <ErrorList id={account.errorId} errors={account.errors} className="empty:hidden" />
            <div>
              <SubmitButton intent="account" pendingLabel="Creating…">
                Create service account
              </SubmitButton>
            </div>
          </Form>
        </section>

        <section aria-labelledby="new-account-token-title" className={CARD}>
          <h2 id="new-account-token-title" className="text-lg font-semibold">
            New token for a service account
          </h2>
          {enabled.length === 0 ? (
            <p className={`mt-2 ${MUTED}`}>Create a service account first.</p>
          ) : (
            <Form method="post" {...getFormProps(tokenForm)} aria-labelledby="new-account-token-title" className="mt-4 grid gap-4">
              <CsrfInput />
              <input type="hidden" name={INTENT_FIELD} value="accountToken" />
              <Select meta={tokenFields.userId} label="Service account" options={[{ value: "", label: "Pick one" }, ...enabled.map((a) => ({ value: a.id, label: `${a.username} (${a.role})` }))]} />
              <Field meta={tokenFields.name} label="Token name" help="Where it is used, e.g. “GitHub Actions”." autoComplete="off" />
              <Select meta={tokenFields.role} label="Role" help="At most the account's role." options={ROLES.map((r) => ({ value: r, label: r }))} />
              <Select meta={tokenFields.expiresInDays} label="Expires" options={EXPIRY_OPTIONS} />
              <ErrorList id={tokenForm.errorId} errors={tokenForm.errors} className="empty:hidden" />
              <div>
                <SubmitButton intent="accountToken" pendingLabel="Creating…">
                  Create token
                </SubmitButton>
              </div>
            </Form>
          )}
        </section>
      </div>

      <section aria-labelledby="all-tokens-title" className="space-y-3">
        <h2 id="all-tokens-title" className="text-lg font-semibold">
          All API tokens
        </h2>
        <ErrorList errors={revokeErrors} className="empty:hidden" />
        <TokenTable label="All API tokens" rows={tokens as TokenRow[]} nextCursor={nextCursor} showOwner emptyTitle="No API tokens yet" emptyText="Users create their own under Profile → API tokens." />
      </section>

      <Toast toast={answer?.toast} />
    </div>
  );
}
