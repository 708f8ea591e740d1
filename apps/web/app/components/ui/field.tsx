import { getInputProps, getSelectProps, getTextareaProps, type FieldMetadata } from "@conform-to/react";
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from "react";
import { CONTROL, MUTED } from "./styles.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a field of any form's schema
export type AnyField = FieldMetadata<any, any, string[]>;

/** The messages under a field or form, announced to screen readers as they appear. */
export function ErrorList({ id, errors, className = "" }: { id?: string; errors?: readonly string[] | null; className?: string }) {
  const shown = errors?.filter(Boolean) ?? [];
  return (
    <div id={id} aria-live="polite" className={className}>
      {shown.map((message) => (
        <p key={message} className="mt-1 text-sm text-rose-700 dark:text-rose-300">
          {message}
        </p>
      ))}
    </div>
  );
}

/** The ids a control's aria-describedby names: its help line and, when it has errors, their list. */
export function describedBy(meta: AnyField, help: ReactNode | undefined, hasErrors = Boolean(meta.errors?.length)): string | undefined {
  const ids = [help ? meta.descriptionId : null, hasErrors ? meta.errorId : null].filter(Boolean);
  return ids.length > 0 ? ids.join(" ") : undefined;
}

function Label({ htmlFor, children }: { htmlFor: string; children: ReactNode }) {
  return (
    <label htmlFor={htmlFor} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
      {children}
    </label>
  );
}

type InputType = "text" | "email" | "password" | "search" | "url" | "number" | "tel";

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "type" | "name" | "id" | "defaultValue" | "form"> {
  meta: AnyField;
  label: ReactNode;
  help?: ReactNode;
  type?: InputType;
}

/** The label, help line and errors around one control, the same for every kind of control of the kit. */
export function FieldFrame({ meta, label, help, className, errors = meta.errors, children }: { meta: AnyField; label: ReactNode; help?: ReactNode; className: string; errors?: readonly string[] | undefined; children: ReactNode }) {
  return (
    <div className={className}>
      <Label htmlFor={meta.id}>{label}</Label>
      {children}
      {help && (
        <p id={meta.descriptionId} className={`mt-1 text-sm ${MUTED}`}>
          {help}
        </p>
      )}
      <ErrorList id={meta.errorId} errors={errors} />
    </div>
  );
}

/** A labelled input with its help line and errors, wired with aria-describedby and aria-invalid. */
export function Field({ meta, label, help, type = "text", className = "", ...rest }: FieldProps) {
  const { key, ...props } = getInputProps(meta, { type, ariaAttributes: false });
  const invalid = Boolean(meta.errors?.length);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <input key={key} {...props} {...rest} aria-invalid={invalid || undefined} aria-describedby={describedBy(meta, help)} className={`mt-1 ${CONTROL}`} />
    </FieldFrame>
  );
}

interface SelectProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, "name" | "id" | "defaultValue" | "form"> {
  meta: AnyField;
  label: ReactNode;
  help?: ReactNode;
  options: readonly { value: string; label: string }[];
}

/** A labelled select with its help line and errors, wired like Field. */
export function Select({ meta, label, help, options, className = "", ...rest }: SelectProps) {
  const { key, ...props } = getSelectProps(meta, { ariaAttributes: false });
  const invalid = Boolean(meta.errors?.length);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <select key={key} {...props} {...rest} aria-invalid={invalid || undefined} aria-describedby={describedBy(meta, help)} className={`mt-1 ${CONTROL}`}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "name" | "id" | "defaultValue" | "form"> {
  meta: AnyField;
  label: ReactNode;
  help?: ReactNode;
  /** A fixed-width font, for keys, certificates and CSV. */
  mono?: boolean;
}

/** A labelled textarea with its help line and errors, wired like Field. */
export function TextAreaField({ meta, label, help, mono = false, className = "", ...rest }: TextAreaFieldProps) {
  const { key, ...props } = getTextareaProps(meta, { ariaAttributes: false });
  const invalid = Boolean(meta.errors?.length);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <textarea key={key} spellCheck={false} {...props} {...rest} aria-invalid={invalid || undefined} aria-describedby={describedBy(meta, help)} className={`mt-1 ${CONTROL} ${mono ? "font-mono text-sm" : ""}`} />
    </FieldFrame>
  );
}

/** A labelled checkbox with its help line and errors; `onChange` hears each change. */
export function CheckboxField({ meta, label, help, onChange }: { meta: AnyField; label: ReactNode; help?: ReactNode; onChange?: (checked: boolean) => void }) {
  const { key, ...props } = getInputProps(meta, { type: "checkbox", ariaAttributes: false });
  return (
    <div>
      <div className="flex items-start gap-2">
        <input
          key={key}
          {...props}
          onChange={(event) => onChange?.(event.target.checked)}
          aria-invalid={meta.errors?.length ? true : undefined}
          aria-describedby={describedBy(meta, help)}
          className="mt-1 size-4 shrink-0 rounded border-slate-300 accent-sky-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-500 dark:border-slate-600"
        />
        <Label htmlFor={meta.id}>{label}</Label>
      </div>
      {help && (
        <p id={meta.descriptionId} className={`mt-1 ml-6 text-sm ${MUTED}`}>
          {help}
        </p>
      )}
      <ErrorList id={meta.errorId} errors={meta.errors} className="ml-6" />
    </div>
  );
}
