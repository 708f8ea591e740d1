// The builder's controls: kit-style fields (FieldFrame: label, help, errors wired for screen
// readers) whose value lives in the editor's state rather than in a conform form, because the same
// value is also edited as JSON.
import { useEffect, useState, type ReactNode } from "react";
import { describedBy, FieldFrame, type AnyField } from "../ui/field.tsx";
import { CONTROL, MUTED } from "../ui/styles.ts";
import { CodeEditor } from "./lazy-code-editor.tsx";
import type { CodeLanguage, CodeProblem } from "./code-editor.tsx";

/** The ids and errors a FieldFrame needs, for a control that is not a conform field. */
export function controlMeta(id: string, errors: readonly string[] | undefined): AnyField {
  return { id, name: id, descriptionId: `${id}-help`, errorId: `${id}-error`, errors: errors && errors.length > 0 ? [...errors] : undefined } as unknown as AnyField;
}

interface Common {
  id: string;
  label: ReactNode;
  help?: ReactNode;
  errors?: readonly string[];
  className?: string;
}

const invalidOf = (errors?: readonly string[]) => Boolean(errors && errors.length > 0);

/** A text input (with suggestions from a datalist when given). */
export function TextControl({ id, label, help, errors, className = "", value, onChange, suggestions, placeholder, warning, autoFocus }: Common & { value: string; onChange: (value: string) => void; suggestions?: readonly string[]; placeholder?: string; warning?: string | null; autoFocus?: boolean }) {
  const meta = controlMeta(id, errors);
  const warningId = `${id}-warning`;
  const described = [describedBy(meta, help), warning ? warningId : null].filter(Boolean).join(" ") || undefined;
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <input
        id={id}
        type="text"
        value={value}
        placeholder={placeholder}
        list={suggestions && suggestions.length > 0 ? `${id}-list` : undefined}
        aria-invalid={invalidOf(errors) || undefined}
        aria-describedby={described}
        autoFocus={autoFocus}
        onChange={(event) => onChange(event.target.value)}
        className={`mt-1 ${CONTROL}`}
      />
      {suggestions && suggestions.length > 0 && (
        <datalist id={`${id}-list`}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      )}
      {warning && (
        <p id={warningId} className="mt-1 text-sm text-amber-800 dark:text-amber-300">
          {warning}
        </p>
      )}
    </FieldFrame>
  );
}

/**
 * A number input that keeps what was typed: text that is not a number yet stays in the field (and
 * the definition gets it as text, which validation then names) instead of being dropped.
 */
export function NumberControl({ id, label, help, errors, className = "", value, onChange, min, max, step }: Common & { value: unknown; onChange: (value: number | string | undefined) => void; min?: number; max?: number; step?: number }) {
  const meta = controlMeta(id, errors);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        value={value === undefined || value === null ? "" : String(value)}
        aria-invalid={invalidOf(errors) || undefined}
        aria-describedby={describedBy(meta, help)}
        data-min={min}
        data-max={max}
        data-step={step}
        onChange={(event) => {
          const text = event.target.value.trim();
          if (text === "") onChange(undefined);
          else onChange(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : event.target.value);
        }}
        className={`mt-1 ${CONTROL}`}
      />
    </FieldFrame>
  );
}

/** A select; `emptyLabel` adds a first option that stands for "not set". */
export function SelectControl({ id, label, help, errors, className = "", value, onChange, options, emptyLabel }: Common & { value: string | undefined; onChange: (value: string | undefined) => void; options: readonly { value: string; label: string }[]; emptyLabel?: string }) {
  const meta = controlMeta(id, errors);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <select id={id} value={value ?? ""} aria-invalid={invalidOf(errors) || undefined} aria-describedby={describedBy(meta, help)} onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value)} className={`mt-1 ${CONTROL}`}>
        {emptyLabel !== undefined && <option value="">{emptyLabel}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

/** An on/off switch (a button with role="switch"); with `name`, the form gets "true" or "false". */
export function Switch({ id, checked, onChange, name, describedBy: described, disabled }: { id: string; checked: boolean; onChange: (checked: boolean) => void; name?: string; describedBy?: string; disabled?: boolean }) {
  return (
    <>
      {name && <input type="hidden" name={name} value={checked ? "true" : "false"} />}
      <button
        id={id}
        type="button"
        role="switch"
        aria-checked={checked}
        aria-describedby={described}
        disabled={disabled}
        onClick={() => onChange(!checked)}
        className={`relative mt-1 inline-flex h-6 w-11 shrink-0 items-center rounded-full border-2 border-transparent transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500 disabled:opacity-60 ${checked ? "bg-sky-600 dark:bg-sky-500" : "bg-slate-300 dark:bg-slate-600"}`}
      >
        <span aria-hidden="true" className={`inline-block size-5 rounded-full bg-white shadow transition-transform ${checked ? "translate-x-5" : "translate-x-0"}`} />
      </button>
    </>
  );
}

/** A labelled Switch with its help and errors. */
export function SwitchControl({ id, label, help, errors, className = "", checked, onChange, disabled }: Common & { checked: boolean; onChange: (checked: boolean) => void; disabled?: boolean }) {
  const meta = controlMeta(id, errors);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <div>
        <Switch id={id} checked={checked} onChange={onChange} describedBy={describedBy(meta, help)} disabled={disabled} />
        <span className={`ml-2 align-middle text-sm ${MUTED}`}>{checked ? "On" : "Off"}</span>
      </div>
    </FieldFrame>
  );
}

/** A list of short values, one per line (empty lines are left out of the value, not out of the text). */
export function LinesControl({ id, label, help, errors, className = "", value, onChange }: Common & { value: readonly string[] | undefined; onChange: (value: string[] | undefined) => void }) {
  const meta = controlMeta(id, errors);
  const joined = (value ?? []).join("\n");
  const [text, setText] = useState(joined);
  const entries = (t: string) => t.split("\n").filter((line) => line.trim() !== "");
  // The value changed elsewhere (the JSON view): show it.
  useEffect(() => {
    if (entries(text).join("\n") !== joined) setText(joined);
  }, [joined]);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <textarea
        id={id}
        rows={3}
        value={text}
        aria-invalid={invalidOf(errors) || undefined}
        aria-describedby={describedBy(meta, help)}
        onChange={(event) => {
          setText(event.target.value);
          const lines = entries(event.target.value);
          onChange(lines.length === 0 ? undefined : lines);
        }}
        className={`mt-1 ${CONTROL}`}
      />
    </FieldFrame>
  );
}

/** A few lines of plain text. */
export function TextAreaControl({ id, label, help, errors, className = "", value, onChange }: Common & { value: string; onChange: (value: string) => void }) {
  const meta = controlMeta(id, errors);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <textarea id={id} rows={2} value={value} aria-invalid={invalidOf(errors) || undefined} aria-describedby={describedBy(meta, help)} onChange={(event) => onChange(event.target.value)} className={`mt-1 ${CONTROL}`} />
    </FieldFrame>
  );
}

/** A multi-line text or script in the code editor. */
export function CodeControl({ id, label, help, errors, className = "", value, onChange, language, parameters, problems, minLines }: Common & { label: string; value: string; onChange: (value: string) => void; language: CodeLanguage; parameters?: readonly string[]; problems?: readonly CodeProblem[]; minLines?: number }) {
  const meta = controlMeta(id, errors);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <div className="mt-1">
        <CodeEditor id={id} label={label} value={value} onChange={onChange} language={language} parameters={parameters} problems={problems} describedBy={describedBy(meta, help)} invalid={invalidOf(errors)} minLines={minLines} />
      </div>
    </FieldFrame>
  );
}
