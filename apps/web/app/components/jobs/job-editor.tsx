// The job editor: one definition in two views, the visual builder and the JSON text, switchable at
// any time. Both are checked live with core's own job definition schema (the one the server saves
// with), every problem shown at its field or at its line; saving posts the definition as JSON.
import { jobDefinitionJsonSchema } from "@opsconductor/core/schema";
import { Form } from "@remix-run/react";
import { useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent, type ReactNode } from "react";
import { INTENT_FIELD } from "../../lib/forms.ts";
import { Button, SubmitButton } from "../ui/button.tsx";
import { CsrfInput } from "../ui/csrf.tsx";
import { CARD, MUTED } from "../ui/styles.ts";
import { CodeControl, LinesControl, NumberControl, SelectControl, SwitchControl, TextAreaControl, TextControl } from "./builder-fields.tsx";
import type { CodeProblem } from "./code-editor.tsx";
import {
  blankDefinition,
  draftConflict,
  fromDraft,
  jsonSpans,
  lineAt,
  moveItem,
  newKey,
  parameterView,
  parseJsonText,
  spanOf,
  toDraft,
  toJsonText,
  validateDefinition,
  withParameterField,
  withStepField,
  type DefinitionProblem,
  type Draft,
  type ParameterView,
  type StepDraft,
} from "./definition-model.ts";
import { CodeEditor } from "./lazy-code-editor.tsx";
import { scriptLanguage, stepTypeForms, type StepField } from "./step-types.ts";

const STEP_TYPES = stepTypeForms();
const { $schema: _ignored, ...JSON_SCHEMA } = jobDefinitionJsonSchema();
const COMMON_STEP_FIELDS = new Set(["type", "id", "name", "target", "timeoutSec", "continueOnError"]);

/** A target the picker offers. */
export interface TargetChoice {
  id: string;
  name: string;
}

export interface JobEditorProps {
  /** The definition to start from (a new job's is blank). */
  initial?: Record<string, unknown>;
  targets: readonly TargetChoice[];
  /** What the server said about the last save: problems by field path ("" for the whole form). */
  serverErrors?: Record<string, string[] | null | undefined> | null;
  /** The text the server's errors are about (what was posted). */
  submitted?: string | null;
  saveLabel: string;
}

type Mode = "builder" | "json";

const PARAMETER_TYPES = [
  { value: "string", label: "Text" },
  { value: "number", label: "Number" },
  { value: "boolean", label: "Yes / no" },
  { value: "enum", label: "Choice" },
];

function problemsFromServer(errors: JobEditorProps["serverErrors"]): DefinitionProblem[] {
  const out: DefinitionProblem[] = [];
  for (const [name, messages] of Object.entries(errors ?? {})) {
    for (const message of messages ?? []) out.push({ path: name === "definition" || name === "intent" ? "" : name, message });
  }
  return out;
}

const startsWithPath = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** The job editor (builder and JSON views) with its save form. */
export function JobEditor({ initial, targets, serverErrors, submitted, saveLabel }: JobEditorProps) {
  // After a refused save without JavaScript, the page starts from what was posted.
  const posted = useMemo(() => (submitted ? parseJsonText(submitted) : null), [submitted]);
  const start = useMemo(() => (posted && "value" in posted && "draft" in toDraft(posted.value) ? (posted.value as Record<string, unknown>) : (initial ?? blankDefinition())), [posted, initial]);
  const [mode, setMode] = useState<Mode>(() => (posted && !("value" in posted && "draft" in toDraft(posted.value)) ? "json" : "builder"));
  const [draft, setDraft] = useState<Draft>(() => {
    const made = toDraft(start);
    if ("draft" in made) return made.draft;
    const blank = toDraft(blankDefinition());
    if ("draft" in blank) return blank.draft;
    throw new Error("the blank definition is not a draft");
  });
  const [jsonText, setJsonText] = useState(() => (mode === "json" && submitted ? submitted : toJsonText(start)));
  // What the JSON text said when the builder took over: kept as typed if the builder changes nothing.
  const jsonBasis = useRef<string | null>(null);
  const [switchError, setSwitchError] = useState<string | null>(null);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [showAll, setShowAll] = useState(Boolean(serverErrors));
  const summary = useRef<HTMLDivElement>(null);
  const [announcement, setAnnouncement] = useState("");
  // A new refusal from the server: show every problem, not only those of fields already touched.
  useEffect(() => {
    if (serverErrors && Object.keys(serverErrors).length > 0) setShowAll(true);
  }, [serverErrors]);

  // The definition as the current view has it.
  const conflict = mode === "builder" ? draftConflict(draft) : null;
  const builderValue = useMemo(() => fromDraft(draft), [draft]);
  const parsedJson = useMemo(() => (mode === "json" ? parseJsonText(jsonText) : null), [mode, jsonText]);
  const definition: unknown = mode === "builder" ? builderValue : parsedJson && "value" in parsedJson ? parsedJson.value : undefined;
  const text = mode === "builder" ? toJsonText(builderValue) : jsonText;
  const syntax = parsedJson && "syntax" in parsedJson ? parsedJson.syntax : null;

  const liveProblems = useMemo(() => (definition === undefined ? [] : validateDefinition(definition)), [definition]);
  const serverProblems = useMemo(() => (submitted !== null && submitted !== undefined && normalised(submitted) === normalised(text) ? problemsFromServer(serverErrors) : []), [serverErrors, submitted, text]);
  const problems = useMemo(() => {
    const seen = new Set(liveProblems.map((p) => `${p.path}\n${p.message}`));
    return [...liveProblems, ...serverProblems.filter((p) => !seen.has(`${p.path}\n${p.message}`))];
  }, [liveProblems, serverProblems]);

  const parameterNames = useMemo(() => {
    if (mode === "builder") return draft.parameters.map((p) => p.name).filter(Boolean);
    const value = definition as { parameters?: unknown } | undefined;
    return value && value.parameters && typeof value.parameters === "object" ? Object.keys(value.parameters) : [];
  }, [mode, draft, definition]);

  const knownTarget = (name: string) => targets.some((t) => t.id === name || t.name.toLowerCase() === name.toLowerCase());
  const targetWarnings = useMemo(() => {
    const steps = (definition as { steps?: unknown } | undefined)?.steps;
    if (!Array.isArray(steps)) return [];
    return steps.flatMap((step, index) => {
      const target = (step as { target?: unknown } | null)?.target;
      return typeof target === "string" && target !== "" && !knownTarget(target) ? [{ path: `steps[${index}].target`, message: `No target is named “${target}”: create it first, or pick an existing one.` }] : [];
    });
  }, [definition, targets]);

  const shown = (path: string) => showAll || touched.has(path);
  const errorsAt = (path: string) => (shown(path) ? problems.filter((p) => p.path === path).map((p) => p.message) : []);
  const touch = (path: string) =>
    setTouched((current) => {
      if (current.has(path)) return current;
      const next = new Set(current);
      next.add(path);
      return next;
    });

  // ----- switching views -----
  const toJson = () => {
    const clash = draftConflict(draft);
    if (clash) {
      setSwitchError(clash.message);
      setShowAll(true);
      return;
    }
    const generated = toJsonText(builderValue);
    setJsonText(jsonBasis.current !== null && normalised(jsonBasis.current) === normalised(generated) ? jsonBasis.current : generated);
    jsonBasis.current = null;
    setSwitchError(null);
    setMode("json");
  };
  const toBuilder = () => {
    const parsed = parseJsonText(jsonText);
    if ("syntax" in parsed) {
      setSwitchError(`The JSON cannot be read (line ${lineAt(jsonText, parsed.syntax.offset)}: ${parsed.syntax.message}); fix it before switching to the builder.`);
      return;
    }
    const made = toDraft(parsed.value);
    if ("error" in made) {
      setSwitchError(`${made.error} Fix it before switching to the builder.`);
      return;
    }
    jsonBasis.current = jsonText;
    setDraft(made.draft);
    setSwitchError(null);
    setMode("builder");
  };

  // ----- builder edits -----
  const setTop = (field: string, value: unknown) => {
    touch(field);
    setDraft((d) => ({ ...d, top: { ...d.top, [field]: value } }));
  };
  const setParameter = (key: string, change: (p: Draft["parameters"][number]) => Draft["parameters"][number], path?: string) => {
    if (path) touch(path);
    setDraft((d) => ({ ...d, parameters: d.parameters.map((p) => (p.key === key ? change(p) : p)) }));
  };
  const addParameter = () => {
    let n = draft.parameters.length + 1;
    while (draft.parameters.some((p) => p.name === `param${n}`)) n++;
    setDraft((d) => ({ ...d, parameters: [...d.parameters, { key: newKey(), name: `param${n}`, value: { type: "string" } }] }));
  };
  const setStep = (index: number, change: (step: Record<string, unknown>) => Record<string, unknown>, path?: string) => {
    if (path) touch(path);
    setDraft((d) => ({ ...d, steps: d.steps.map((s, i) => (i === index ? { ...s, value: change(s.value) } : s)) }));
  };
  const moveStep = (from: number, to: number) => {
    if (to < 0 || to >= draft.steps.length) return;
    setDraft((d) => ({ ...d, steps: moveItem(d.steps, from, to) }));
    setAnnouncement(`Step ${from + 1} moved to position ${to + 1} of ${draft.steps.length}.`);
  };
  const addStep = () =>
    setDraft((d) => ({ ...d, steps: [...d.steps, { key: newKey(), value: { type: "winrm.exec", name: `Step ${d.steps.length + 1}`, target: "", shell: "powershell", command: "" } }] }));
  const duplicateStep = (index: number) => {
    setDraft((d) => {
      const copy: StepDraft = { key: newKey(), value: structuredClone(d.steps[index]!.value) };
      if (typeof copy.value.id === "string") delete copy.value.id; // step ids must stay unique
      const steps = [...d.steps];
      steps.splice(index + 1, 0, copy);
      return { ...d, steps };
    });
    setAnnouncement(`Step ${index + 1} duplicated as step ${index + 2}.`);
  };
  const removeStep = (index: number) => {
    setDraft((d) => ({ ...d, steps: d.steps.filter((_, i) => i !== index) }));
    setAnnouncement(`Step ${index + 1} removed.`);
  };

  // ----- saving -----
  const blocked = Boolean(syntax) || Boolean(conflict) || problems.length > 0 || definition === undefined;
  const onSubmit = (event: { preventDefault: () => void }) => {
    if (!blocked) return;
    event.preventDefault();
    setShowAll(true);
    requestAnimationFrame(() => summary.current?.focus());
  };

  const jsonProblems: (DefinitionProblem & { line: number; from: number; to: number })[] = useMemo(() => {
    if (mode !== "json") return [];
    if (syntax) return [{ path: "", message: `Not valid JSON: ${syntax.message}`, line: lineAt(jsonText, syntax.offset), from: syntax.offset, to: Math.min(jsonText.length, syntax.offset + 1) }];
    const spans = jsonSpans(jsonText);
    return [...problems, ...targetWarnings]
      .map((p) => {
        const span = spanOf(spans, p.path);
        return { ...p, line: lineAt(jsonText, span.from), ...span };
      })
      .sort((a, b) => a.from - b.from);
  }, [mode, syntax, jsonText, problems, targetWarnings]);
  const jsonMarks: CodeProblem[] = useMemo(
    () => jsonProblems.map((p) => ({ from: p.from, to: p.to, message: p.path ? `${p.path}: ${p.message}` : p.message, severity: targetWarnings.includes(p as never) ? ("warning" as const) : ("error" as const) })),
    [jsonProblems, targetWarnings],
  );

  const summaryProblems = mode === "json" ? jsonProblems.filter((p) => !targetWarnings.some((w) => w.path === p.path && w.message === p.message)) : problems;

  return (
    <Form method="post" onSubmit={onSubmit} aria-label="Job definition" className="space-y-6" noValidate>
      <CsrfInput />
      <input type="hidden" name={INTENT_FIELD} value="save" />
      <input type="hidden" name="definition" value={text} />

      <div role="tablist" aria-label="Editor view" className="inline-flex rounded-lg border border-slate-300 p-1 dark:border-slate-600">
        {(
          [
            ["builder", "Builder"],
            ["json", "JSON"],
          ] as const
        ).map(([value, label]) => (
          <button
            key={value}
            type="button"
            role="tab"
            id={`view-${value}`}
            aria-selected={mode === value}
            aria-controls="editor-view"
            tabIndex={mode === value ? 0 : -1}
            onClick={() => (value === mode ? undefined : value === "json" ? toJson() : toBuilder())}
            onKeyDown={(event) => {
              // The tabs pattern: arrow keys move between the two views.
              if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
              event.preventDefault();
              if (mode === "builder") toJson();
              else toBuilder();
              requestAnimationFrame(() => document.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')?.focus());
            }}
            className={`rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-sky-500 ${mode === value ? "bg-slate-900 text-white dark:bg-sky-500 dark:text-slate-950" : "text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800"}`}
          >
            {label}
          </button>
        ))}
      </div>
      {switchError && (
        <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">
          {switchError}
        </p>
      )}

      {showAll && (summaryProblems.length > 0 || conflict) && (
        <div ref={summary} tabIndex={-1} role="alert" aria-labelledby="problems-title" className="rounded-xl border border-rose-300 bg-rose-50 p-4 text-sm text-rose-900 focus-visible:outline-2 focus-visible:outline-rose-500 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-100">
          <h2 id="problems-title" className="font-semibold">
            {summaryProblems.length + (conflict ? 1 : 0) === 1 ? "1 problem stops this definition from being saved" : `${summaryProblems.length + (conflict ? 1 : 0)} problems stop this definition from being saved`}
          </h2>
          <ul className="mt-2 list-disc space-y-1 pl-5" data-testid="problem-summary">
            {conflict && <li>{conflict.message}</li>}
            {summaryProblems.map((p, i) => (
              <li key={i}>
                {"line" in p ? `Line ${(p as { line: number }).line}: ` : ""}
                {p.path ? <code className="font-mono">{p.path}</code> : null}
                {p.path ? " " : ""}
                {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}

      <div id="editor-view" role="tabpanel" aria-labelledby={`view-${mode}`}>
        {mode === "builder" ? (
          <Builder
            draft={draft}
            problems={problems}
            errorsAt={errorsAt}
            shown={shown}
            targets={targets}
            targetWarning={(index) => targetWarnings.find((w) => w.path === `steps[${index}].target`)?.message ?? null}
            parameterNames={parameterNames}
            setTop={setTop}
            setParameter={setParameter}
            addParameter={addParameter}
            removeParameter={(key) => setDraft((d) => ({ ...d, parameters: d.parameters.filter((p) => p.key !== key) }))}
            setStep={setStep}
            moveStep={moveStep}
            addStep={addStep}
            duplicateStep={duplicateStep}
            removeStep={removeStep}
          />
        ) : (
          <section aria-labelledby="json-title" className={CARD}>
            <h2 id="json-title" className="text-lg font-semibold">
              Definition as JSON
            </h2>
            <p id="json-help" className={`mt-1 mb-3 text-sm ${MUTED}`}>
              Checked as you type against the job definition schema. Ctrl+Space offers the property names allowed where the cursor is.
            </p>
            <CodeEditor id="definition-json" label="Definition JSON" value={jsonText} onChange={setJsonText} language="json" jsonSchema={JSON_SCHEMA} parameters={parameterNames} problems={jsonMarks} describedBy="json-help json-problems" invalid={jsonProblems.length > 0} minLines={16} />
            <div id="json-problems" aria-live="polite" className="mt-3">
              {jsonProblems.length === 0 ? (
                <p className="text-sm text-emerald-800 dark:text-emerald-300">No problems found.</p>
              ) : (
                <ul className="space-y-1 text-sm" data-testid="json-problems">
                  {jsonProblems.map((p, i) => (
                    <li key={i} className={targetWarnings.some((w) => w.path === p.path && w.message === p.message) ? "text-amber-800 dark:text-amber-300" : "text-rose-700 dark:text-rose-300"}>
                      {`Line ${p.line}: `}
                      {p.path && (
                        <>
                          <code className="font-mono">{p.path}</code>{" "}
                        </>
                      )}
                      {p.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </section>
        )}
      </div>

      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>

      <div className="flex flex-wrap items-center gap-3">
        <SubmitButton intent="save" pendingLabel="Saving…">
          {saveLabel}
        </SubmitButton>
        <p className={`text-sm ${MUTED}`}>Saving keeps every earlier version; runs already started keep the version they started with.</p>
      </div>
    </Form>
  );
}

/** The definition text a refused save posted (conform echoes it), so its errors show only while the text is unchanged. */
export function submittedText(result: { initialValue?: Record<string, unknown> | null } | undefined): string | null {
  const value = result?.initialValue?.definition;
  return typeof value === "string" ? value : null;
}

// Two texts of the same definition compare equal however they are spaced.
function normalised(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

interface BuilderProps {
  draft: Draft;
  problems: DefinitionProblem[];
  errorsAt: (path: string) => string[];
  shown: (path: string) => boolean;
  targets: readonly TargetChoice[];
  targetWarning: (index: number) => string | null;
  parameterNames: string[];
  setTop: (field: string, value: unknown) => void;
  setParameter: (key: string, change: (p: Draft["parameters"][number]) => Draft["parameters"][number], path?: string) => void;
  addParameter: () => void;
  removeParameter: (key: string) => void;
  setStep: (index: number, change: (step: Record<string, unknown>) => Record<string, unknown>, path?: string) => void;
  moveStep: (from: number, to: number) => void;
  addStep: () => void;
  duplicateStep: (index: number) => void;
  removeStep: (index: number) => void;
}

// Problems under `prefix` that no control of the card shows: listed at the top of the card.
function OtherProblems({ problems, prefix, claimed, shown }: { problems: DefinitionProblem[]; prefix: string | null; claimed: ReadonlySet<string>; shown: boolean }) {
  if (!shown) return null;
  const own = problems.filter((p) => (prefix === null ? true : startsWithPath(p.path, prefix)) && !claimed.has(p.path));
  if (own.length === 0) return null;
  return (
    <ul className="mb-3 space-y-1 text-sm text-rose-700 dark:text-rose-300">
      {own.map((p, i) => (
        <li key={i}>
          {p.path && p.path !== prefix ? <code className="font-mono">{p.path}</code> : null} {p.message}
        </li>
      ))}
    </ul>
  );
}

function Builder(props: BuilderProps) {
  const { draft, problems, errorsAt, shown } = props;
  const name = typeof draft.top.name === "string" ? draft.top.name : "";
  const description = typeof draft.top.description === "string" ? draft.top.description : "";
  const retries = (draft.top.retries ?? undefined) as { limit?: unknown; delaySec?: unknown; backoff?: unknown } | undefined;
  const topClaimed = new Set(["name", "description", "retries.limit", "retries.delaySec", "retries.backoff"]);
  const stepPrefixes = draft.steps.map((_, i) => `steps[${i}]`);
  const topOther = problems.filter((p) => !topClaimed.has(p.path) && !p.path.startsWith("parameters") && !stepPrefixes.some((prefix) => startsWithPath(p.path, prefix)));
  return (
    <div className="space-y-6">
      <section aria-labelledby="job-title" className={CARD}>
        <h2 id="job-title" className="text-lg font-semibold">
          Job
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          <TextControl id="job-name" label="Name" value={name} errors={errorsAt("name")} onChange={(v) => props.setTop("name", v)} help="Unique; runs and schedules show it." />
          <TextAreaControl id="job-description" label="Description" value={description} errors={errorsAt("description")} onChange={(v) => props.setTop("description", v === "" ? undefined : v)} />
        </div>
        {topOther.length > 0 && shown("") && (
          <ul className="mt-3 space-y-1 text-sm text-rose-700 dark:text-rose-300">
            {topOther.map((p, i) => (
              <li key={i}>
                {p.path ? <code className="font-mono">{p.path}</code> : null} {p.message}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="parameters-title" className={CARD}>
        <h2 id="parameters-title" className="text-lg font-semibold">
          Parameters
        </h2>
        <p className={`mt-1 text-sm ${MUTED}`}>
          What a run asks for. Use one in a step as <code className="font-mono">{"{{ name }}"}</code>: its value is quoted for the step&apos;s shell.
        </p>
        <OtherProblems problems={problems.filter((p) => p.path === "parameters")} prefix="parameters" claimed={new Set()} shown={shown("")} />
        <ol className="mt-4 space-y-4">
          {draft.parameters.map((parameter, index) => (
            <ParameterCard key={parameter.key} index={index} parameter={parameter} {...props} duplicateName={draft.parameters.some((p) => p !== parameter && p.name === parameter.name)} />
          ))}
        </ol>
        {draft.parameters.length === 0 && <p className={`mt-3 text-sm ${MUTED}`}>No parameters: every run does the same thing.</p>}
        <Button variant="secondary" className="mt-4" onClick={props.addParameter}>
          Add parameter
        </Button>
      </section>

      <section aria-labelledby="steps-title" className={CARD}>
        <h2 id="steps-title" className="text-lg font-semibold">
          Steps
        </h2>
        <p className={`mt-1 text-sm ${MUTED}`}>Run in this order. Drag a step by its handle, or focus the handle and press the up and down arrow keys, to reorder.</p>
        <OtherProblems problems={problems.filter((p) => p.path === "steps")} prefix="steps" claimed={new Set()} shown={shown("")} />
        <StepList {...props} />
        <Button variant="secondary" className="mt-4" onClick={props.addStep}>
          Add step
        </Button>
      </section>

      <section aria-labelledby="retries-title" className={CARD}>
        <h2 id="retries-title" className="text-lg font-semibold">
          When a run fails
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-3">
          <NumberControl
            id="retries-limit"
            label="Retries"
            help="Further attempts of a failed run (0 to 10)."
            value={retries?.limit ?? 0}
            errors={errorsAt("retries.limit")}
            onChange={(v) => props.setTop("retries", v === undefined || v === 0 ? (retries && Object.keys(retries).some((k) => k !== "limit") ? { ...retries, limit: 0 } : undefined) : { ...retries, limit: v })}
          />
          <NumberControl id="retries-delay" label="Delay (seconds)" value={retries?.delaySec ?? ""} errors={errorsAt("retries.delaySec")} onChange={(v) => props.setTop("retries", { limit: 0, ...retries, delaySec: v })} help="Before the first retry." />
          <SwitchControl id="retries-backoff" label="Double the delay each time" checked={retries?.backoff !== false} onChange={(v) => props.setTop("retries", { limit: 0, ...retries, backoff: v })} />
        </div>
      </section>
    </div>
  );
}

function ParameterCard({ index, parameter, errorsAt, problems, shown, setParameter, removeParameter, duplicateName }: BuilderProps & { index: number; parameter: Draft["parameters"][number]; duplicateName: boolean }) {
  const view: ParameterView = parameterView(parameter.value);
  const base = `parameters.${parameter.name}`;
  const id = `param-${parameter.key}`;
  const secret = view.type === "secret";
  const kind = secret ? "string" : view.type;
  const required = view.required ?? view.default === undefined;
  const set = (field: keyof ParameterView, value: unknown) => setParameter(parameter.key, (p) => ({ ...p, value: withParameterField(p.value, field, value) }), `${base}.${field}`);
  const at = (field: string) => errorsAt(`${base}.${field}`);
  const claimed = new Set([base, ...["type", "required", "default", "description", "pattern", "min", "max", "values"].map((f) => `${base}.${f}`)]);
  const nameErrors = [...errorsAt(base), ...(duplicateName ? ["Another parameter has this name."] : [])];
  const legend = `Parameter ${index + 1}`;
  return (
    <li>
      <fieldset className="rounded-lg border border-slate-200 p-4 dark:border-slate-700">
        <legend className="px-1 text-sm font-semibold">{legend}</legend>
        <OtherProblems problems={problems} prefix={base} claimed={claimed} shown={shown(base)} />
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          <TextControl id={`${id}-name`} label="Name" value={parameter.name} errors={nameErrors} onChange={(v) => setParameter(parameter.key, (p) => ({ ...p, name: v }), base)} help="Letters, digits and _." />
          <SelectControl
            id={`${id}-type`}
            label="Type"
            value={kind}
            options={PARAMETER_TYPES}
            errors={at("type")}
            onChange={(v) =>
              setParameter(
                parameter.key,
                (p) => {
                  const next: Record<string, unknown> = { ...(parameterView(p.value) as unknown as Record<string, unknown>), type: v ?? "string" };
                  // What only fits the old type goes; the rest (description, required) stays.
                  if (v !== "enum") delete next.values;
                  if (v !== "string") delete next.pattern;
                  if (v === "boolean" || v === "enum") {
                    delete next.min;
                    delete next.max;
                  }
                  delete next.default;
                  return { ...p, value: next };
                },
                `${base}.type`,
              )
            }
          />
          {kind === "string" && (
            <SwitchControl
              id={`${id}-secret`}
              label="Secret"
              help="Asked as a password, never stored or shown; masked as *** in output."
              checked={secret}
              onChange={(on) => setParameter(parameter.key, (p) => ({ ...p, value: (() => { const next = withParameterField(p.value, "type", on ? "secret" : "string"); if (on) delete next.default; return next; })() }), `${base}.type`)}
            />
          )}
          <SwitchControl id={`${id}-required`} label="Required" checked={required} errors={at("required")} onChange={(v) => set("required", v)} help={required ? "A run must give a value." : "May be left empty."} />
          {!secret && <DefaultControl id={`${id}-default`} view={view} errors={at("default")} onChange={(v) => set("default", v)} />}
          {kind === "enum" && <LinesControl id={`${id}-values`} label="Choices" help="One per line." value={view.values} errors={at("values")} onChange={(v) => set("values", v)} />}
          {kind === "string" && <TextControl id={`${id}-pattern`} label="Pattern" help="A regular expression the whole value must match." value={view.pattern ?? ""} errors={at("pattern")} onChange={(v) => set("pattern", v === "" ? undefined : v)} />}
          {(kind === "number" || kind === "string") && (
            <>
              <NumberControl id={`${id}-min`} label={kind === "number" ? "Minimum" : "Minimum length"} value={view.min} errors={at("min")} onChange={(v) => set("min", v)} />
              <NumberControl id={`${id}-max`} label={kind === "number" ? "Maximum" : "Maximum length"} value={view.max} errors={at("max")} onChange={(v) => set("max", v)} />
            </>
          )}
          <TextControl id={`${id}-description`} label="Description" className="sm:col-span-2" value={view.description ?? ""} errors={at("description")} onChange={(v) => set("description", v === "" ? undefined : v)} help="Shown next to the field when the job is run." />
        </div>
        <Button variant="secondary" className="mt-4" onClick={() => removeParameter(parameter.key)} aria-label={`Remove parameter ${parameter.name || index + 1}`}>
          Remove parameter
        </Button>
      </fieldset>
    </li>
  );
}

function DefaultControl({ id, view, errors, onChange }: { id: string; view: ParameterView; errors: string[]; onChange: (value: unknown) => void }) {
  if (view.type === "boolean") {
    return (
      <SelectControl
        id={id}
        label="Default"
        emptyLabel="No default"
        value={view.default === undefined ? undefined : String(view.default)}
        options={[
          { value: "true", label: "Yes" },
          { value: "false", label: "No" },
        ]}
        errors={errors}
        onChange={(v) => onChange(v === undefined ? undefined : v === "true")}
      />
    );
  }
  if (view.type === "enum") {
    return <SelectControl id={id} label="Default" emptyLabel="No default" value={typeof view.default === "string" ? view.default : undefined} options={(view.values ?? []).map((v) => ({ value: v, label: v }))} errors={errors} onChange={onChange} />;
  }
  if (view.type === "number") return <NumberControl id={id} label="Default" value={view.default} errors={errors} onChange={onChange} />;
  return <TextControl id={id} label="Default" value={typeof view.default === "string" ? view.default : view.default === undefined ? "" : String(view.default)} errors={errors} onChange={(v) => onChange(v === "" ? undefined : v)} />;
}

function StepList(props: BuilderProps) {
  const { draft, moveStep } = props;
  const dragged = useRef<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const onDrop = (index: number) => (event: DragEvent) => {
    event.preventDefault();
    setOver(null);
    if (dragged.current !== null && dragged.current !== index) moveStep(dragged.current, index);
    dragged.current = null;
  };
  return (
    <ol className="mt-4 space-y-4">
      {draft.steps.map((step, index) => (
        <li
          key={step.key}
          onDragOver={(event) => {
            if (dragged.current === null) return;
            event.preventDefault();
            setOver(index);
          }}
          onDragLeave={() => setOver((current) => (current === index ? null : current))}
          onDrop={onDrop(index)}
          className={over === index ? "rounded-lg outline-2 outline-offset-2 outline-sky-500 outline-dashed" : ""}
        >
          <StepCard
            {...props}
            index={index}
            step={step}
            onDragStart={(event) => {
              dragged.current = index;
              event.dataTransfer.effectAllowed = "move";
              event.dataTransfer.setData("text/plain", String(index));
            }}
            onDragEnd={() => {
              dragged.current = null;
              setOver(null);
            }}
          />
        </li>
      ))}
    </ol>
  );
}

function StepCard({ index, step, draft, problems, errorsAt, shown, targets, targetWarning, parameterNames, setStep, moveStep, duplicateStep, removeStep, onDragStart, onDragEnd }: BuilderProps & { index: number; step: StepDraft; onDragStart: (event: DragEvent) => void; onDragEnd: () => void }) {
  const value = step.value;
  const path = `steps[${index}]`;
  const id = `step-${step.key}`;
  const type = STEP_TYPES.find((t) => t.type === value.type);
  const count = draft.steps.length;
  const set = (field: string, next: unknown) => setStep(index, (s) => withStepField(s, field, next), `${path}.${field}`);
  const at = (field: string) => errorsAt(`${path}.${field}`);
  const claimed = new Set([...["type", "name", "target", "timeoutSec", "continueOnError", "id"].map((f) => `${path}.${f}`), ...(type?.fields ?? []).map((f) => `${path}.${f.name}`)]);
  const title = typeof value.name === "string" && value.name !== "" ? value.name : typeof value.type === "string" ? value.type : "step";
  const onHandleKey = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
    event.preventDefault();
    const to = event.key === "ArrowUp" ? index - 1 : index + 1;
    moveStep(index, to);
    // The handle follows its step to the new place.
    requestAnimationFrame(() => document.getElementById(`${id}-handle`)?.focus());
  };
  const changeType = (next: string | undefined) => {
    const nextType = STEP_TYPES.find((t) => t.type === next);
    if (!nextType) return;
    setStep(
      index,
      (s) => {
        const kept: Record<string, unknown> = { type: nextType.type };
        for (const [field, v] of Object.entries(s)) if (COMMON_STEP_FIELDS.has(field) || nextType.fields.some((f) => f.name === field)) kept[field] = v;
        kept.type = nextType.type;
        return kept;
      },
      `${path}.type`,
    );
  };
  return (
    <fieldset className="min-w-0 rounded-lg border border-slate-200 p-4 dark:border-slate-700">
      <legend className="px-1 text-sm font-semibold">
        Step {index + 1}
        <span className={`font-normal ${MUTED}`}> · {title}</span>
      </legend>
      <div className="mb-3 flex flex-wrap items-center gap-2">
        {/* A span, not a <button>: browsers do not start a drag from a button. */}
        <span
          id={`${id}-handle`}
          role="button"
          tabIndex={0}
          draggable
          onDragStart={onDragStart}
          onDragEnd={onDragEnd}
          onKeyDown={onHandleKey}
          aria-label={`Reorder step ${index + 1} (drag, or press up or down)`}
          aria-roledescription="drag handle"
          className="cursor-grab rounded-md border border-slate-300 px-2 py-1 text-slate-600 select-none hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 active:cursor-grabbing dark:border-slate-600 dark:text-slate-300 dark:hover:bg-slate-800"
        >
          <span aria-hidden="true">⠿</span>
        </span>
        <Button variant="secondary" disabled={index === 0} onClick={() => moveStep(index, index - 1)} aria-label={`Move step ${index + 1} up`}>
          Up
        </Button>
        <Button variant="secondary" disabled={index === count - 1} onClick={() => moveStep(index, index + 1)} aria-label={`Move step ${index + 1} down`}>
          Down
        </Button>
        <Button variant="secondary" onClick={() => duplicateStep(index)} aria-label={`Duplicate step ${index + 1}`}>
          Duplicate
        </Button>
        <Button variant="secondary" disabled={count === 1} onClick={() => removeStep(index)} aria-label={`Remove step ${index + 1}`}>
          Remove
        </Button>
      </div>
      <OtherProblems problems={problems} prefix={path} claimed={claimed} shown={shown(path) || shown("")} />
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectControl id={`${id}-type`} label="Type" value={typeof value.type === "string" ? value.type : undefined} options={STEP_TYPES.map((t) => ({ value: t.type, label: t.type }))} errors={at("type")} onChange={changeType} help={type?.description} />
        <TextControl id={`${id}-name`} label="Name" value={typeof value.name === "string" ? value.name : ""} errors={at("name")} onChange={(v) => set("name", v === "" ? undefined : v)} />
        {(type?.requiresTarget ?? true) && (
          <TextControl
            id={`${id}-target`}
            label="Target"
            value={typeof value.target === "string" ? value.target : ""}
            suggestions={targets.map((t) => t.name)}
            errors={at("target")}
            warning={targetWarning(index)}
            onChange={(v) => set("target", v)}
            help="The name of a registered target."
          />
        )}
        {type?.fields.map((field) => <GeneratedField key={field.name} field={field} step={value} id={`${id}-${field.name}`} errors={at(field.name)} parameterNames={parameterNames} onChange={(next) => set(field.name, next)} />)}
        <NumberControl id={`${id}-timeout`} label="Timeout (seconds)" value={value.timeoutSec} errors={at("timeoutSec")} onChange={(v) => set("timeoutSec", v)} help="The step is stopped after this long (default 3600)." />
        <SwitchControl id={`${id}-continue`} label="Continue on error" checked={value.continueOnError === true} errors={at("continueOnError")} onChange={(v) => set("continueOnError", v)} help="Run the next step even if this one fails." />
        <TextControl id={`${id}-id`} label="Step id" value={typeof value.id === "string" ? value.id : ""} errors={at("id")} onChange={(v) => set("id", v === "" ? undefined : v)} help="Optional; unique within the job." />
      </div>
    </fieldset>
  );
}

function GeneratedField({ field, step, id, errors, parameterNames, onChange }: { field: StepField; step: Record<string, unknown>; id: string; errors: string[]; parameterNames: string[]; onChange: (value: unknown) => void }): ReactNode {
  const value = step[field.name];
  const help = field.description ?? (field.template ? "May use {{ parameter }} placeholders." : undefined);
  const { control } = field;
  if (control.kind === "select") {
    return <SelectControl id={id} label={field.label} value={typeof value === "string" ? value : (field.default as string | undefined)} options={control.options.map((o) => ({ value: o, label: o }))} errors={errors} onChange={onChange} help={help} />;
  }
  if (control.kind === "switch") return <SwitchControl id={id} label={field.label} checked={value === true || (value === undefined && field.default === true)} errors={errors} onChange={onChange} help={help} />;
  if (control.kind === "number") return <NumberControl id={id} label={field.label} value={value} errors={errors} onChange={onChange} help={help} min={control.min} max={control.max} />;
  if (control.multiline) {
    const language = scriptLanguage(step, field);
    return (
      <CodeControl
        id={id}
        className="sm:col-span-2"
        label={field.label}
        value={typeof value === "string" ? value : ""}
        language={language}
        parameters={field.template ? parameterNames : undefined}
        errors={errors}
        onChange={(v) => onChange(v === "" && !field.required ? undefined : v)}
        help={language === "text" ? help : `${language === "cmd" ? "cmd.exe" : "PowerShell"}${field.template ? "; type {{ to pick a parameter" : ""}.`}
        minLines={6}
      />
    );
  }
  return <TextControl id={id} label={field.label} value={typeof value === "string" ? value : ""} errors={errors} onChange={(v) => onChange(v === "" && !field.required ? undefined : v)} help={help} />;
}
