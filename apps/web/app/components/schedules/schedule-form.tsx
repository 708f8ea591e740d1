// Create/edit form of a schedule: the job and its parameters (secrets cannot be scheduled, and the
// form says why), the cron builder, the zone, the policies, and the live preview.
import { getFormProps, useForm, type FieldMetadata, type SubmissionResult } from "@conform-to/react";
import type { ParameterDeclaration } from "@opsconductor/core/schema";
import { Form } from "@remix-run/react";
import { useState, type ReactNode } from "react";
import { INTENT_FIELD, parseForm } from "../../lib/forms.ts";
import { MISFIRE_POLICIES, OVERLAP_POLICIES } from "../../schemas/schedules.ts";
import { SubmitButton } from "../ui/button.tsx";
import { CsrfInput } from "../ui/csrf.tsx";
import { CheckboxField, ErrorList, Field, Select } from "../ui/field.tsx";
import { CARD, MUTED } from "../ui/styles.ts";
import { CronBuilder } from "./cron-builder.tsx";
import { CronPreview } from "./cron-preview.tsx";
import { MISFIRE_TEXT, OVERLAP_TEXT } from "./policies.ts";
import { scheduleForm } from "./schedule-form-schema.ts";
import { ZonePicker } from "./zone-picker.tsx";

/** A job the form can schedule, with its current version's parameter declarations. */
export interface SchedulableJob {
  id: string;
  name: string;
  parameters: Record<string, ParameterDeclaration>;
}

export interface ScheduleFormDefaults {
  jobId: string;
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  misfirePolicy: string;
  overlapPolicy: string;
  misfireMaxAgeSec: number;
  parameters: Record<string, string>;
}

/** The secret-parameter explanation, shown wherever a job with secrets is scheduled. */
export const SECRET_REASON =
  "Secret parameters cannot be scheduled: a schedule keeps its values in the database, and secret values are never stored. Secret parameters have no defaults either, so scheduled runs go without them, and a job with a required secret parameter cannot be scheduled.";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the form's own field metadata
function ParameterFields({ field, job }: { field: FieldMetadata<Record<string, string>, any, string[]>; job: SchedulableJob }) {
  const parameters = field.getFieldset();
  const entries = Object.entries(job.parameters);
  const secrets = entries.filter(([, d]) => d.type === "secret").map(([n]) => n);
  if (entries.length === 0) return <p className={`text-sm ${MUTED}`}>This job takes no parameters.</p>;
  return (
    <div className="space-y-3">
      {entries
        .filter(([, d]) => d.type !== "secret")
        .map(([name, declaration]) => {
          const meta = parameters[name]!;
          const help = [declaration.description, declaration.default !== undefined ? `Left empty: ${String(declaration.default)}.` : null].filter(Boolean).join(" ") || undefined;
          const label = `${name}${declaration.required && declaration.default === undefined ? " (required)" : ""}`;
          if (declaration.type === "enum")
            return <Select key={name} meta={meta} label={label} help={help} options={[{ value: "", label: "Default" }, ...(declaration.values ?? []).map((c: string) => ({ value: String(c), label: String(c) }))]} />;
          if (declaration.type === "boolean")
            return <Select key={name} meta={meta} label={label} help={help} options={[{ value: "", label: "Default" }, { value: "true", label: "Yes" }, { value: "false", label: "No" }]} />;
          return <Field key={name} meta={meta} label={label} help={help} inputMode={declaration.type === "number" ? "decimal" : undefined} />;
        })}
      {secrets.length > 0 && (
        <div className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950/40 dark:text-amber-100" data-testid="secret-note">
          <p className="font-medium">Not scheduled: {secrets.join(", ")}</p>
          <p className="mt-1">{SECRET_REASON}</p>
        </div>
      )}
    </div>
  );
}

/** The form; `jobs` lists every job that can be picked when creating, or only the schedule's job when editing. */
export function ScheduleForm({ defaultValue, jobs, editing, lastResult, now, submitLabel, pendingLabel, cancel }: { defaultValue: ScheduleFormDefaults; jobs: SchedulableJob[]; editing: boolean; lastResult?: SubmissionResult<string[]>; now: string; submitLabel: string; pendingLabel: string; cancel: ReactNode }) {
  const [form, fields] = useForm({
    id: "schedule",
    defaultValue: { ...defaultValue, enabled: defaultValue.enabled ? "on" : undefined, misfireMaxAgeSec: String(defaultValue.misfireMaxAgeSec) },
    lastResult,
    onValidate: ({ formData }) => parseForm(formData, scheduleForm),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
  });
  const [jobId, setJobId] = useState(defaultValue.jobId);
  const [cron, setCron] = useState(defaultValue.cron);
  const [timezone, setTimezone] = useState(defaultValue.timezone);
  const [misfire, setMisfire] = useState(defaultValue.misfirePolicy);
  const [overlap, setOverlap] = useState(defaultValue.overlapPolicy);
  const job = jobs.find((j) => j.id === jobId);
  return (
    <Form method="post" {...getFormProps(form)} className="space-y-6">
      <CsrfInput />
      <input type="hidden" name={INTENT_FIELD} value="save" />
      <ErrorList id={form.errorId} errors={form.errors} />
      <div className={`${CARD} space-y-4`}>
        {editing ? (
          <p className="text-sm">
            <span className={MUTED}>Job: </span>
            <span className="font-medium">{job?.name}</span>
          </p>
        ) : (
          <Select meta={fields.jobId!} label="Job" options={[{ value: "", label: "Pick a job…" }, ...jobs.map((j) => ({ value: j.id, label: j.name }))]} onChange={(e) => setJobId(e.target.value)} />
        )}
        <Field meta={fields.name!} label="Name (optional)" help="Shown in lists instead of the job's name and the expression." />
        {job && (
          <fieldset>
            <legend className="mb-2 text-sm font-medium text-slate-800 dark:text-slate-200">Parameters</legend>
            <ParameterFields key={job.id} field={fields.parameters as never} job={job} />
          </fieldset>
        )}
      </div>
      <div className={`${CARD} space-y-4`}>
        <CronBuilder meta={fields.cron!} timezone={timezone || "UTC"} onChange={setCron} />
        <ZonePicker meta={fields.timezone!} onChange={setTimezone} />
        <CronPreview cron={cron} timezone={timezone} now={now} />
      </div>
      <div className={`${CARD} grid gap-4 sm:grid-cols-2`}>
        <Select meta={fields.misfirePolicy!} label="When a run was missed" help={MISFIRE_TEXT[misfire as keyof typeof MISFIRE_TEXT]?.help} options={MISFIRE_POLICIES.map((p) => ({ value: p, label: MISFIRE_TEXT[p].label }))} onChange={(e) => setMisfire(e.target.value)} />
        <Select meta={fields.overlapPolicy!} label="When the previous run is still going" help={OVERLAP_TEXT[overlap as keyof typeof OVERLAP_TEXT]?.help} options={OVERLAP_POLICIES.map((p) => ({ value: p, label: OVERLAP_TEXT[p].label }))} onChange={(e) => setOverlap(e.target.value)} />
        <Field meta={fields.misfireMaxAgeSec!} label="Maximum age of a missed run (seconds)" type="number" help="With “Run every missed firing”, firings older than this are dropped." />
        <CheckboxField meta={fields.enabled!} label="Enabled" help="A disabled schedule keeps its settings and fires nothing." />
      </div>
      <div className="flex flex-wrap gap-3">
        <SubmitButton intent="save" pendingLabel={pendingLabel}>
          {submitLabel}
        </SubmitButton>
        {cancel}
      </div>
    </Form>
  );
}
