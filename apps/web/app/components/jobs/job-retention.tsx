import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { Form } from "@remix-run/react";
import { INTENT_FIELD, parseForm } from "../../lib/forms.ts";
import { jobRetentionForm } from "../../schemas/jobs.ts";
import { formatLimit, type RetentionKey } from "../retention/retention-format.ts";
import { SubmitButton } from "../ui/button.tsx";
import { CsrfInput } from "../ui/csrf.tsx";
import { ErrorList, Field } from "../ui/field.tsx";
import { CARD, MUTED } from "../ui/styles.ts";

/** A job's own limits: null is the global default. */
export type OwnRetention = Record<RetentionKey, number | null>;
/** The global defaults as the workers reported them; null before any did. */
export type DefaultRetention = Record<RetentionKey, number> | null;

const LIMITS: readonly { key: RetentionKey; label: string; what: string; unit: string }[] = [
  { key: "runDays", label: "Keep runs for (days)", what: "Runs kept for", unit: "days" },
  { key: "runCount", label: "Keep the newest runs", what: "Runs kept per job", unit: "runs" },
  { key: "outputDays", label: "Drop output after (days)", what: "Output dropped after", unit: "days" },
];

function defaultText(key: RetentionKey, defaults: DefaultRetention): string {
  return defaults ? formatLimit(key, defaults[key]) : "what the workers' environment says (not reported yet)";
}

function Effective({ own, defaults }: { own: OwnRetention; defaults: DefaultRetention }) {
  return (
    <dl className="mt-2 grid gap-4 sm:grid-cols-3" data-testid="retention-effective">
      {LIMITS.map(({ key, what }) => {
        const value = own[key];
        return (
          <div key={key} className="min-w-0">
            <dt className={`text-sm ${MUTED}`}>{what}</dt>
            <dd className="font-semibold break-words" data-testid={`effective-${key}`}>
              {value === null ? (defaults ? formatLimit(key, defaults[key]) : "the global default") : formatLimit(key, value)}{" "}
              <span className={`text-sm font-normal ${MUTED}`}>{value === null ? (defaults ? "(global default)" : "(not reported yet)") : "(this job)"}</span>
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

/**
 * A job's retention on its page: what is in effect for everyone who may read the job, and for those
 * who may edit jobs the form that sets the job's own limits (saved like PATCH /api/jobs/{id}).
 */
export function JobRetention({ own, defaults, canEdit, lastResult }: { own: OwnRetention; defaults: DefaultRetention; canEdit: boolean; lastResult?: SubmissionResult<string[]> }) {
  const [form, fields] = useForm({
    id: "retention",
    lastResult,
    defaultValue: { runDays: own.runDays?.toString() ?? "", runCount: own.runCount?.toString() ?? "", outputDays: own.outputDays?.toString() ?? "" },
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, jobRetentionForm),
  });
  return (
    <section aria-labelledby="retention-title" className={CARD}>
      <h2 id="retention-title" className="text-lg font-semibold">
        Retention
      </h2>
      <p className={`mt-1 text-sm ${MUTED}`}>
        How long this job&apos;s finished runs stay. The workers delete older runs with their steps and output, and can drop a run&apos;s output earlier while its status and steps stay. A queued or running run, and the newest run of each schedule, always stay.
      </p>
      <h3 className="mt-4 text-sm font-semibold">In effect</h3>
      <Effective own={own} defaults={defaults} />
      {canEdit && (
        <>
          <h3 className="mt-6 text-sm font-semibold">This job&apos;s own policy</h3>
          <Form method="post" {...getFormProps(form)} aria-labelledby="retention-title" className="mt-2 grid gap-4 sm:grid-cols-3">
            <CsrfInput />
            <input type="hidden" name={INTENT_FIELD} value="retention" />
            {LIMITS.map(({ key, label }) => (
              <Field key={key} meta={fields[key]} label={label} inputMode="numeric" autoComplete="off" help={`Empty: the global default, ${defaultText(key, defaults)}. 0: no limit.`} />
            ))}
            <ErrorList id={form.errorId} errors={form.errors} className="empty:hidden sm:col-span-3" />
            <div className="sm:col-span-3">
              <SubmitButton intent="retention" pendingLabel="Saving…">
                Save retention
              </SubmitButton>
            </div>
          </Form>
        </>
      )}
    </section>
  );
}
