import { getInputProps, getSelectProps, type FieldMetadata } from "@conform-to/react";
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";
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
