// Pieces the token pages share: the new token's one-time display with Copy, and the tokens table
// with a confirmed Revoke per row.
import { OneTimeSecret } from "../ui/one-time-secret.tsx";
import { ConfirmDialog } from "../ui/confirm-dialog.tsx";
import { DataTable, type Column } from "../ui/data-table.tsx";
import { EmptyState } from "../ui/empty-state.tsx";
import { MUTED } from "../ui/styles.ts";
import { When } from "../ui/when.tsx";

/** A token as the pages show it (the API's view; never the value). */
export interface TokenRow {
  id: string;
  name: string;
  role: string;
  owner: { id: string; username: string; kind: string };
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: "active" | "expired" | "revoked";
}

/** The value of a token just created, with Copy: the one time it is ever shown. */
export function OneTimeToken({ name, owner, token }: { name: string; owner: string; token: string }) {
  return (
    <OneTimeSecret
      title={`New token “${name}” for ${owner}`}
      help={
        <>
          Copy it now and keep it in your pipeline's secret store. It is shown only this once: OpsConductor keeps a hash of it, not the token. Send it as <code>Authorization: Bearer …</code>.
        </>
      }
      label="API token"
      copyLabel="Copy token"
      noun="the token"
      value={token}
      testId="new-token"
    />
  );
}

const STATUS_STYLE: Record<TokenRow["status"], string> = {
  active: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
  expired: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
  revoked: "bg-slate-200 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
};

function TokenStatus({ status }: { status: TokenRow["status"] }) {
  return <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[status]}`}>{status}</span>;
}

/** The tokens table; `showOwner` adds the owner column (the admin list). */
export function TokenTable({ label, rows, nextCursor, showOwner = false, emptyTitle, emptyText }: { label: string; rows: readonly TokenRow[]; nextCursor?: string | null; showOwner?: boolean; emptyTitle: string; emptyText: string }) {
  const columns: Column<TokenRow>[] = [
    { key: "name", header: "Name", cell: (t) => <span className="font-medium break-words">{t.name}</span> },
    ...(showOwner ? [{ key: "owner", header: "Owner", cell: (t: TokenRow) => <span className="break-words">{t.owner.username}{t.owner.kind === "service" ? <span className={`ml-1 text-xs ${MUTED}`}>(service)</span> : null}</span> }] : []),
    { key: "role", header: "Role", cell: (t) => t.role },
    { key: "status", header: "Status", cell: (t) => <TokenStatus status={t.status} /> },
    { key: "created", header: "Created", secondary: true, cell: (t) => <When at={t.createdAt} /> },
    { key: "lastUsed", header: "Last used", cell: (t) => (t.lastUsedAt ? <When at={t.lastUsedAt} /> : <span className={MUTED}>never</span>) },
    { key: "expires", header: "Expires", secondary: true, cell: (t) => (t.expiresAt ? <When at={t.expiresAt} /> : <span className={MUTED}>never</span>) },
    {
      key: "actions",
      header: "Actions",
      cell: (t) =>
        t.status === "revoked" ? (
          <span className={MUTED}>—</span>
        ) : (
          <ConfirmDialog
            trigger="Revoke"
            triggerLabel={`Revoke token ${t.name} of ${t.owner.username}`}
            title={`Revoke “${t.name}”?`}
            intent="revoke"
            fields={{ id: t.id }}
            confirmLabel="Revoke token"
            pendingLabel="Revoking…"
          >
            Every request that presents this token is refused from now on (401). Whatever uses it — a pipeline, a script — stops working until it gets a new token. This cannot be undone.
          </ConfirmDialog>
        ),
    },
  ];
  return <DataTable label={label} columns={columns} rows={rows} rowKey={(t) => t.id} nextCursor={nextCursor ?? null} empty={<EmptyState title={emptyTitle}>{emptyText}</EmptyState>} />;
}
