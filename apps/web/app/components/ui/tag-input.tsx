import { useState, type ClipboardEvent, type KeyboardEvent, type ReactNode } from "react";
import { describedBy, FieldFrame, type AnyField } from "./field.tsx";

interface TagInputProps {
  /** A conform field whose value is a list of strings. */
  meta: AnyField;
  label: ReactNode;
  help?: ReactNode;
  /** Values offered as the user types (known tags, other targets' names). */
  suggestions?: readonly string[];
  placeholder?: string;
  className?: string;
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v !== "");
  return typeof value === "string" && value !== "" ? [value] : [];
}

// Errors of the list and of its entries ("tags[1]"), each entry's named by its value.
function errorsOf(meta: AnyField, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const [name, messages] of Object.entries(meta.allErrors ?? {})) {
    const index = name === meta.name ? null : /\[(\d+)\]$/.exec(name)?.[1];
    const entry = index === undefined || index === null ? null : values[Number(index)];
    for (const message of messages) out.push(entry === null || entry === undefined ? message : `“${entry}”: ${message}`);
  }
  return out;
}

/**
 * A list of short values as removable chips: Enter, comma or leaving the field adds what was typed
 * (a pasted list is split at commas and line breaks), Backspace in the empty field removes the
 * last one. The form gets one hidden input per value under the field's name.
 */
export function TagInput(props: TagInputProps) {
  // Remounted when conform resets the form, so the chips start again from the form's values.
  return <TagInputControl key={props.meta.key} {...props} />;
}

function TagInputControl({ meta, label, help, suggestions = [], placeholder, className = "" }: TagInputProps) {
  const [values, setValues] = useState(() => listOf(meta.initialValue));
  const [draft, setDraft] = useState("");
  const errors = errorsOf(meta, values);
  const listId = `${meta.id}-suggestions`;

  const add = (text: string) => {
    const entries = text
      .split(/[,\n]/)
      .map((part) => part.trim())
      .filter(Boolean);
    if (entries.length > 0) setValues((current) => [...current, ...entries.filter((entry, i) => !current.includes(entry) && entries.indexOf(entry) === i)]);
    setDraft("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" || event.key === ",") {
      // Enter adds the value instead of submitting the form; an empty field lets Enter submit.
      if (draft.trim() === "" && event.key === "Enter") return;
      event.preventDefault();
      add(draft);
    } else if (event.key === "Backspace" && draft === "" && values.length > 0) {
      event.preventDefault();
      setValues((current) => current.slice(0, -1));
    }
  };
  const onPaste = (event: ClipboardEvent<HTMLInputElement>) => {
    const text = event.clipboardData.getData("text");
    if (!/[,\n]/.test(text)) return;
    event.preventDefault();
    add(draft + text);
  };

  return (
    <FieldFrame meta={meta} label={label} help={help} className={className} errors={errors}>
      {values.map((value) => (
        <input key={value} type="hidden" name={meta.name} value={value} />
      ))}
      <div
        className={`mt-1 flex flex-wrap items-center gap-1.5 rounded-md border bg-white p-1.5 focus-within:border-sky-500 focus-within:outline-2 focus-within:outline-offset-1 focus-within:outline-sky-500 dark:bg-slate-900 ${errors.length > 0 ? "border-rose-500 dark:border-rose-400" : "border-slate-300 dark:border-slate-600"}`}
      >
        {values.length > 0 && (
          <ul aria-label={`${typeof label === "string" ? label : "Entries"}: ${values.length}`} className="contents">
            {values.map((value) => (
              <li key={value} className="inline-flex max-w-full items-center gap-1 rounded-full bg-slate-100 py-0.5 pr-1 pl-2.5 text-sm text-slate-800 dark:bg-slate-800 dark:text-slate-100">
                <span className="truncate">{value}</span>
                <button
                  type="button"
                  aria-label={`Remove ${value}`}
                  onClick={() => setValues((current) => current.filter((v) => v !== value))}
                  className="rounded-full px-1.5 leading-5 text-slate-500 hover:bg-slate-200 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-sky-500 dark:text-slate-400 dark:hover:bg-slate-700 dark:hover:text-white"
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <input
          id={meta.id}
          value={draft}
          list={suggestions.length > 0 ? listId : undefined}
          placeholder={values.length === 0 ? placeholder : undefined}
          aria-invalid={errors.length > 0 || undefined}
          aria-describedby={describedBy(meta, help, errors.length > 0)}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => add(draft)}
          className="min-w-32 flex-1 bg-transparent px-1.5 py-1 text-slate-900 outline-none placeholder:text-slate-400 dark:text-slate-100"
        />
      </div>
      {suggestions.length > 0 && (
        <datalist id={listId}>
          {suggestions
            .filter((s) => !values.includes(s))
            .map((s) => (
              <option key={s} value={s} />
            ))}
        </datalist>
      )}
    </FieldFrame>
  );
}
