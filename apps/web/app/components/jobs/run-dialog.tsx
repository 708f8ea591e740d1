// The run dialog: a form made from the job version's parameter declarations (choices as selects,
// yes/no as switches, numbers checked, secrets as password fields that are never sent back), and
// the command each step will run with these values, secrets shown as ***.
import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { defaultStepTypes, interpolate, InterpolationError, MASK, ParameterError, resolveParameters, type ParameterDeclaration } from "@opsconductor/core/schema";
import { Form } from "@remix-run/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { z } from "zod";
import { fieldMessage, INTENT_FIELD, parseForm, sentence } from "../../lib/forms.ts";
import { Button, SubmitButton } from "../ui/button.tsx";
import { trapTab } from "../ui/confirm-dialog.tsx";
import { CsrfInput } from "../ui/csrf.tsx";
import { describedBy, ErrorList, Field, FieldFrame, Select } from "../ui/field.tsx";
import { MUTED } from "../ui/styles.ts";
import { Switch } from "./builder-fields.tsx";

/** What the preview needs of a step: where it runs and the texts that take placeholders. */
export interface PreviewStep {
  name: string;
  type: string;
  target: string | null;
  shell: "powershell" | "cmd" | "text";
  templates: { field: string; text: string }[];
}

export interface RunDialogProps {
  jobName: string;
  version: number;
  parameters: Record<string, ParameterDeclaration>;
  steps: PreviewStep[];
  /** The last answer to this form, when it was refused. */
  lastResult?: SubmissionResult<string[]>;
  /** Changes with every answer, so the password fields are emptied by each. */
  answerId?: string;
}


/** Where a parameter's value is posted: secrets apart, so no answer ever echoes them. */
export const fieldGroup = (declaration: ParameterDeclaration) => (declaration.type === "secret" ? "secrets" : "parameters");

/** The run form's schema for these declarations: core's own parameter rules, each problem at its field. */
export function runFormSchema(parameters: Record<string, ParameterDeclaration>) {
  return z
    .object({ intent: z.literal("run"), parameters: z.record(z.string(), z.string()).default({}), secrets: z.record(z.string(), z.string()).default({}) })
    .superRefine((value, ctx) => {
      try {
        resolveParameters({ parameters }, { ...value.parameters, ...value.secrets });
      } catch (error) {
        if (!(error instanceof ParameterError)) throw error;
        for (const issue of error.issues) {
          const declaration = parameters[issue.path];
          if (!declaration) continue;
          ctx.addIssue({ code: "custom", path: [fieldGroup(declaration), issue.path], message: fieldMessage(issue.message, issue.path) });
        }
      }
    });
}

function helpOf(declaration: ParameterDeclaration): string | undefined {
  const parts: string[] = [];
  if (declaration.description) parts.push(declaration.description);
  if (declaration.type === "number" && (declaration.min !== undefined || declaration.max !== undefined)) parts.push(`A number${declaration.min !== undefined ? ` from ${declaration.min}` : ""}${declaration.max !== undefined ? ` to ${declaration.max}` : ""}.`);
  if (declaration.type === "number" && declaration.min === undefined && declaration.max === undefined) parts.push("A number.");
  if (declaration.pattern && declaration.type === "string") parts.push(`Must match ${declaration.pattern}.`);
  if (declaration.type === "secret") parts.push("Never stored or shown; masked as *** in the output.");
  if (declaration.default !== undefined && declaration.type !== "boolean") parts.push(`Left empty: ${String(declaration.default)}.`);
  return parts.length > 0 ? parts.map(sentence).join(" ") : undefined;
}

function preview(steps: PreviewStep[], parameters: Record<string, ParameterDeclaration>, typed: Record<string, string>) {
  // Secret values never reach the preview: a given secret is shown as the mask itself.
  const values: Record<string, string | number | boolean> = {};
  for (const [name, declaration] of Object.entries(parameters)) {
    const text = typed[name];
    if (declaration.type === "secret") {
      if (text) values[name] = MASK;
      continue;
    }
    try {
      const resolved = resolveParameters({ parameters: { [name]: declaration } }, text === undefined || text === "" ? {} : { [name]: text });
      if (Object.hasOwn(resolved.values, name)) values[name] = resolved.values[name]!;
    } catch {
      // Not valid yet: the field says why, and the preview shows the placeholder has no value.
    }
  }
  return steps.map((step) => ({
    ...step,
    resolved: step.templates.map(({ field, text }) => {
      try {
        return { field, text: interpolate(text, values, { shell: step.shell }), error: null };
      } catch (error) {
        if (error instanceof InterpolationError) return { field, text: null, error: error.message };
        throw error;
      }
    }),
  }));
}

/** The "Run…" button and its dialog. */
export function RunDialog({ jobName, version, parameters, steps, lastResult, answerId }: RunDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [open, setOpen] = useState(false);
  const names = Object.keys(parameters);
  const schema = useMemo(() => runFormSchema(parameters), [parameters]);
  const defaults = useMemo(() => {
    const values: Record<string, string> = {};
    for (const [name, declaration] of Object.entries(parameters)) if (declaration.default !== undefined && declaration.type !== "secret") values[name] = String(declaration.default);
    return values;
  }, [parameters]);
  const [switches, setSwitches] = useState<Record<string, boolean>>(() => Object.fromEntries(names.filter((n) => parameters[n]!.type === "boolean").map((n) => [n, parameters[n]!.default === true])));
  const [typed, setTyped] = useState<Record<string, string>>(defaults);

  const [form, fields] = useForm({
    id: "run",
    lastResult,
    defaultValue: { parameters: defaults },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, schema),
  });
  const parameterFields = fields.parameters.getFieldset();
  const secretFields = fields.secrets.getFieldset();

  // A refused run keeps the dialog open with its errors.
  useEffect(() => {
    if (lastResult?.status === "error") setOpen(true);
  }, [lastResult]);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const refresh = () => {
    if (!formRef.current) return;
    const data = new FormData(formRef.current);
    const next: Record<string, string> = {};
    for (const name of names) {
      const value = data.get(`${fieldGroup(parameters[name]!)}.${name}`);
      if (typeof value === "string") next[name] = value;
    }
    setTyped(next);
  };
  // A switch flipped or the form remounted: the preview reads the form again.
  useEffect(() => refresh(), [switches, answerId]);

  const close = () => {
    setOpen(false);
    opener.current?.focus();
  };
  const previewed = preview(steps, parameters, typed);
  const label = (name: string, declaration: ParameterDeclaration) => (
    <>
      <span className="font-mono">{name}</span>
      {declaration.required && declaration.default === undefined ? <span className="ml-1 text-rose-700 dark:text-rose-300">(required)</span> : null}
    </>
  );

  return (
    <>
      <Button ref={opener} aria-haspopup="dialog" onClick={() => setOpen(true)}>
        Run…
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby="run-dialog-title"
        onKeyDown={(event) => trapTab(event, dialog.current)}
        onCancel={(event) => {
          event.preventDefault();
          close();
        }}
        className="m-auto max-h-[calc(100dvh-2rem)] w-[min(44rem,calc(100vw-1rem))] overflow-y-auto rounded-xl border border-slate-200 bg-white p-4 text-slate-900 shadow-xl backdrop:bg-slate-950/60 sm:p-6 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
      >
        <h2 id="run-dialog-title" className="text-lg font-semibold break-words">
          Run {jobName}
        </h2>
        <p className={`mt-1 text-sm ${MUTED}`}>Version {version}. The run starts as soon as a worker is free; its page shows the output live.</p>
        <Form method="post" ref={formRef} {...getFormProps(form)} onInput={refresh} onChange={refresh} aria-labelledby="run-dialog-title" className="mt-4 space-y-4">
          <CsrfInput />
          <input type="hidden" name={INTENT_FIELD} value="run" />
          {names.length === 0 && <p className={`text-sm ${MUTED}`}>This job takes no parameters.</p>}
          <div className="grid gap-4 sm:grid-cols-2">
            {names.map((name) => {
              const declaration = parameters[name]!;
              const help = helpOf(declaration);
              if (declaration.type === "secret") {
                // Remounted after every answer, so no typed secret survives it.
                return <Field key={`${name}-${answerId ?? "first"}`} meta={secretFields[name]!} label={label(name, declaration)} help={help} type="password" autoComplete="new-password" />;
              }
              const meta = parameterFields[name]!;
              if (declaration.type === "enum") {
                const options = [...(declaration.required && declaration.default === undefined ? [{ value: "", label: "Choose…" }] : declaration.default === undefined ? [{ value: "", label: "None" }] : []), ...(declaration.values ?? []).map((v) => ({ value: v, label: v }))];
                return <Select key={name} meta={meta} label={label(name, declaration)} help={help} options={options} />;
              }
              if (declaration.type === "boolean") {
                return (
                  <FieldFrame key={name} meta={meta} label={label(name, declaration)} help={help} className="">
                    <div>
                      <Switch id={meta.id} name={meta.name} checked={switches[name] ?? false} onChange={(on) => setSwitches((s) => ({ ...s, [name]: on }))} describedBy={describedBy(meta, help)} />
                      <span className={`ml-2 align-middle text-sm ${MUTED}`}>{switches[name] ? "Yes" : "No"}</span>
                    </div>
                  </FieldFrame>
                );
              }
              return <Field key={name} meta={meta} label={label(name, declaration)} help={help} inputMode={declaration.type === "number" ? "decimal" : undefined} autoComplete="off" />;
            })}
          </div>
          <ErrorList id={form.errorId} errors={form.errors} />

          <section aria-labelledby="run-preview-title">
            <h3 id="run-preview-title" className="text-sm font-semibold">
              What will run
            </h3>
            <ol className="mt-2 space-y-3" data-testid="run-preview">
              {previewed.map((step, index) => (
                <li key={index} className="min-w-0 rounded-lg border border-slate-200 p-3 text-sm dark:border-slate-700">
                  <p className="font-medium break-words">
                    {index + 1}. {step.name}
                    <span className={`font-normal ${MUTED}`}>
                      {" "}
                      · {step.type}
                      {step.target ? ` on ${step.target}` : ""}
                    </span>
                  </p>
                  {step.resolved.map((r) => (
                    <div key={r.field} className="mt-1">
                      <p className={`text-xs ${MUTED}`}>{r.field}</p>
                      {r.text !== null ? (
                        <pre className="mt-0.5 overflow-x-auto rounded bg-slate-100 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-slate-800">{r.text}</pre>
                      ) : (
                        <p className={`mt-0.5 italic ${MUTED}`}>Not ready: {r.error}</p>
                      )}
                    </div>
                  ))}
                </li>
              ))}
            </ol>
          </section>

          <div className="flex flex-wrap justify-end gap-2">
            <Button variant="secondary" onClick={close}>
              Cancel
            </Button>
            <SubmitButton intent="run" pendingLabel="Starting…">
              Start run
            </SubmitButton>
          </div>
        </Form>
      </dialog>
    </>
  );
}

/** The steps of a parsed definition as the run preview shows them (the texts with placeholders, by step type). */
export function previewSteps(steps: readonly { type: string; name?: string; target?: string; shell?: unknown; [field: string]: unknown }[]): PreviewStep[] {
  return steps.map((step) => {
    const templateFields = defaultStepTypes.get(step.type)?.templateFields ?? [];
    return {
      name: step.name ?? step.type,
      type: step.type,
      target: step.target ?? null,
      shell: step.type === "winrm.exec" ? (step.shell === "cmd" ? "cmd" : "powershell") : "text",
      templates: templateFields.flatMap((field) => (typeof step[field] === "string" ? [{ field, text: step[field] as string }] : [])),
    };
  });
}
