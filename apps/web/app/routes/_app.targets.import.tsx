import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import type { MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { useEffect, useState } from "react";
import { buttonClass, SubmitButton } from "../components/ui/button.tsx";
import { CsrfInput } from "../components/ui/csrf.tsx";
import { DataTable, type Column } from "../components/ui/data-table.tsx";
import { ErrorList, TextAreaField } from "../components/ui/field.tsx";
import { TextFileInput } from "../components/ui/text-file-input.tsx";
import { PageHeader } from "../components/ui/page-header.tsx";
import { StatusBadge } from "../components/ui/status-badge.tsx";
import { CARD, MUTED } from "../components/ui/styles.ts";
import { Toast } from "../components/ui/toast.tsx";
import { pageAction, pageLoader, redirectWithToast } from "../http/page.server.ts";
import { INTENT_FIELD, parseForm } from "../lib/forms.ts";
import { can } from "../lib/permissions.ts";
import { IMPORT_COLUMNS, IMPORT_MAX_ROWS, targetImportForm } from "../schemas/targets.ts";
import { importTargets, previewImport, type ImportPreview, type ImportRow } from "../services/targets/import.server.ts";

export const meta: MetaFunction = () => [{ title: "OpsConductor · Import targets" }];

export const loader = pageLoader({ permission: "targets:write" }, ({ user }) => ({ canBindAnywhere: can(user.role, "credentials:bind_any") }));

/** The preview the action answers: what each row would become, and whether the file can be imported as it is. */
export type PreviewAnswer = { kind: "preview"; id: string; preview: ImportPreview; csv: string; attempted: boolean };

export const action = pageAction<typeof targetImportForm, PreviewAnswer>({ permission: "targets:write", schema: targetImportForm }, async (value, { db, principal, audit, headers }) => {
  const access = { bindAnywhere: can(principal.role, "credentials:bind_any") };
  if (value.intent === "import") {
    const { imported, preview } = await importTargets(db, value.csv, audit, access);
    if (imported > 0) return redirectWithToast("/targets?sort=-createdAt", `Imported ${imported} ${imported === 1 ? "target" : "targets"}.`, headers);
    return { status: 400, data: { kind: "preview", id: crypto.randomUUID(), preview, csv: value.csv, attempted: true } };
  }
  const preview = await previewImport(db, value.csv, access);
  return { data: { kind: "preview", id: crypto.randomUUID(), preview, csv: value.csv, attempted: false } };
});

const csvOnly = targetImportForm.pick({ csv: true });

const TEMPLATE = `name,hostname,port,os,transport,auth,tags,credential
web-01,web01.corp.example,,windows,https,ntlm,web;prod,corp-admin
db-01,10.0.4.20,5985,windows,http,ntlm,db,corp-admin`;

const cell = (column: (typeof IMPORT_COLUMNS)[number]) => (row: ImportRow) => (row.cells[column] ? <span className="break-all">{row.cells[column]}</span> : <span className={MUTED}>—</span>);

const PREVIEW_COLUMNS: Column<ImportRow>[] = [
  { key: "line", header: "Line", cell: (row) => row.line, className: "tabular-nums" },
  {
    key: "name",
    header: "Name",
    cell: (row) => (
      <>
        {cell("name")(row)}
        {/* The host column is hidden on a phone: the host goes under the name. */}
        <span className={`block text-xs break-all sm:hidden ${MUTED}`}>{row.cells.hostname}</span>
      </>
    ),
  },
  { key: "hostname", header: "Host", cell: cell("hostname"), secondary: true },
  { key: "port", header: "Port", cell: cell("port"), secondary: true },
  { key: "os", header: "OS", cell: cell("os"), secondary: true },
  { key: "transport", header: "Transport", cell: cell("transport"), secondary: true },
  { key: "auth", header: "Auth", cell: cell("auth"), secondary: true },
  { key: "tags", header: "Tags", cell: cell("tags"), secondary: true },
  { key: "credential", header: "Credential", cell: cell("credential"), secondary: true },
  {
    key: "check",
    header: "Check",
    cell: (row) =>
      row.errors.length === 0 ? (
        <StatusBadge ok>ready</StatusBadge>
      ) : (
        <ul className="space-y-1 text-rose-800 dark:text-rose-300">
          {row.errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      ),
  },
];

export default function ImportTargets() {
  const data = useLoaderData<typeof loader>();
  // The action answers a preview in `data`, or (for a form it refused) only the form's state.
  const answer = useActionData<typeof action>();
  const previewed = answer?.data ?? undefined;
  const refused = answer && !answer.data ? answer : undefined;
  const [form, fields] = useForm({
    id: "import",
    lastResult: refused?.result as SubmissionResult<string[]> | undefined,
    shouldValidate: "onSubmit",
    // The intent comes from the button pressed; the browser checks the text only.
    onValidate: ({ formData }) => parseForm(formData, csvOnly),
  });
  // The Import button stands for exactly the text that was previewed: any edit asks for a new preview.
  const [changed, setChanged] = useState(false);
  useEffect(() => setChanged(false), [previewed?.id]);
  const preview = previewed?.preview;
  const bad = preview ? preview.rows.filter((row) => row.errors.length > 0).length : 0;

  return (
    <div className="space-y-6">
      <PageHeader title="Import targets" description="Register many targets from a CSV file: every row is checked first, and nothing is saved until every row is good." />
      <Form method="post" {...getFormProps(form)} onInput={() => setChanged(true)} className={`${CARD} space-y-4`}>
        <CsrfInput />
        <div className={`space-y-2 text-sm ${MUTED}`}>
          <p>
            The first line names the columns: <code className="font-mono break-all">{IMPORT_COLUMNS.join(",")}</code> (name and hostname are required; the others may be left empty or out). Tags are separated by
            semicolons or spaces; credential is a credential&apos;s name{data.canBindAnywhere ? "" : " whose usage policy includes the row's host"}. Port defaults to 5985 for HTTP and 5986 for HTTPS. At most{" "}
            {IMPORT_MAX_ROWS} rows.
          </p>
          <details>
            <summary className="cursor-pointer font-medium text-slate-800 dark:text-slate-200">Example</summary>
            <pre className="mt-2 overflow-x-auto rounded-md bg-slate-100 p-3 font-mono text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-100">{TEMPLATE}</pre>
          </details>
        </div>
        <TextAreaField meta={fields.csv} label="CSV text" mono rows={8} wrap="off" help="Paste the file's text here, or read a file below." />
        <TextFileInput label="Or read a CSV file" accept=".csv,text/csv,text/plain" maxBytes={60_000} onText={(text) => form.update({ name: fields.csv.name, value: text })} />
        <ErrorList id={form.errorId} errors={form.errors} className="empty:hidden" />
        <div className="flex flex-wrap items-center gap-3">
          <SubmitButton name={INTENT_FIELD} value="preview" intent="preview" variant={preview?.ready && !changed ? "secondary" : "primary"} pendingLabel="Checking…">
            Preview
          </SubmitButton>
          {preview?.ready && !changed && (
            <SubmitButton name={INTENT_FIELD} value="import" intent="import" pendingLabel="Importing…">
              {`Import ${preview.rows.length} ${preview.rows.length === 1 ? "target" : "targets"}`}
            </SubmitButton>
          )}
          <Link to="/targets" className={buttonClass("secondary")}>
            Cancel
          </Link>
        </div>
      </Form>

      {preview && (
        <section aria-labelledby="preview-title" className="space-y-3">
          <h2 id="preview-title" className="text-lg font-semibold">
            Preview
          </h2>
          <div role="status" className={`rounded-md border p-3 text-sm ${preview.ready ? "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/40 dark:text-emerald-100" : "border-rose-300 bg-rose-50 text-rose-900 dark:border-rose-800 dark:bg-rose-950/40 dark:text-rose-100"}`}>
            {preview.ready ? (
              <p>
                All {preview.rows.length} {preview.rows.length === 1 ? "row is" : "rows are"} ready. Nothing is saved until you import them{changed ? "; the text changed since this preview, so preview it again first" : ""}.
              </p>
            ) : (
              <p>
                {previewed?.attempted ? "Nothing was imported. " : "Nothing has been saved. "}
                {preview.fileErrors.length > 0 ? "Fix the file's problems below, then preview it again." : `${bad} of ${preview.rows.length} ${preview.rows.length === 1 ? "row has" : "rows have"} problems: fix them in the text above, then preview again.`}
              </p>
            )}
            {preview.fileErrors.length > 0 && (
              <ul className="mt-2 list-disc space-y-1 pl-5">
                {preview.fileErrors.map((error) => (
                  <li key={error}>{error}</li>
                ))}
              </ul>
            )}
          </div>
          {preview.rows.length > 0 && <DataTable label="Rows of the file" columns={PREVIEW_COLUMNS} rows={preview.rows} rowKey={(row) => String(row.line)} />}
        </section>
      )}
      <Toast toast={refused?.toast} />
    </div>
  );
}
