// The fields of a credential's secret, by type, shared by the create form and the rotate form, and
// the textarea they need. Secrets are write-only: these fields start empty and never get a value
// from the server.
import { getTextareaProps } from "@conform-to/react";
import { useId, useState, type ChangeEvent, type ReactNode, type TextareaHTMLAttributes } from "react";
import type { CredentialType } from "../../schemas/credentials.ts";
import { describedBy, ErrorList, Field, FieldFrame, type AnyField } from "../ui/field.tsx";
import { CONTROL, MUTED } from "../ui/styles.ts";
import { TagInput } from "../ui/tag-input.tsx";

interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "name" | "id" | "defaultValue" | "form"> {
  meta: AnyField;
  label: ReactNode;
  help?: ReactNode;
  /** A fixed-width font, for keys and certificates. */
  mono?: boolean;
}

/** A labelled textarea with its help line and errors, wired like the kit's Field. */
export function TextAreaField({ meta, label, help, mono = false, className = "", ...rest }: TextAreaFieldProps) {
  const { key, ...props } = getTextareaProps(meta, { ariaAttributes: false });
  const invalid = Boolean(meta.errors?.length);
  return (
    <FieldFrame meta={meta} label={label} help={help} className={className}>
      <textarea key={key} {...props} {...rest} aria-invalid={invalid || undefined} aria-describedby={describedBy(meta, help)} className={`mt-1 ${CONTROL} ${mono ? "font-mono text-sm" : ""}`} />
    </FieldFrame>
  );
}

// A private key file is a few kilobytes; anything much larger is the wrong file.
const KEY_FILE_MAX_BYTES = 64 * 1024;
const PUBLIC_KEY = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-|sk-(ssh|ecdsa))/;

/**
 * Reads a private key from a local file into the key field, in the browser: the file input has no
 * name, so the file itself is never sent; only the text it holds is, with the form.
 */
function KeyFileInput({ onKey }: { onKey: (text: string) => void }) {
  const id = useId();
  const [problem, setProblem] = useState<string | null>(null);
  const [loaded, setLoaded] = useState<string | null>(null);
  const onChange = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    setLoaded(null);
    if (file.size > KEY_FILE_MAX_BYTES) {
      setProblem(`${file.name} is ${Math.round(file.size / 1024)} KB; a private key file is a few KB. Pick the key itself (such as id_ed25519).`);
      return;
    }
    const text = await file.text();
    if (PUBLIC_KEY.test(text.trim())) {
      setProblem(`${file.name} holds a public key. Pick the private key: the file of the same name without .pub.`);
      return;
    }
    setProblem(null);
    setLoaded(file.name);
    onKey(text);
  };
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
        Or read the private key from a file
      </label>
      <input
        id={id}
        type="file"
        onChange={onChange}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-help ${id}-error`}
        className={`mt-1 ${CONTROL} file:mr-3 file:rounded file:border-0 file:bg-slate-100 file:px-2 file:py-1 file:text-sm file:font-medium dark:file:bg-slate-800 dark:file:text-slate-100`}
      />
      <p id={`${id}-help`} className={`mt-1 text-sm ${MUTED}`}>
        {loaded ? `Read ${loaded} into the key field.` : "The file is read here, in your browser; only its text is sent, with the form."}
      </p>
      <ErrorList id={`${id}-error`} errors={problem ? [problem] : []} />
    </div>
  );
}

interface SecretFieldsProps {
  type: CredentialType;
  /** The fieldset of the form's `secret` object. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the secret fieldset of either form
  fields: Record<string, AnyField | any>;
  /** Replacing a stored secret ("New password") rather than giving the first one. */
  replacing?: boolean;
  /** Puts a key read from a file into the private key field. */
  onKeyFile: (text: string) => void;
}

/** The secret's fields for a credential type: a password, a private key and its passphrase, or an API key. */
export function SecretFields({ type, fields, replacing = false, onKeyFile }: SecretFieldsProps) {
  // "Password" becomes "New password"; an initialism stays as it is ("New API key").
  const fresh = (label: string) => (replacing ? `New ${/^[A-Z][a-z]/.test(label) ? label.charAt(0).toLowerCase() + label.slice(1) : label}` : label);
  switch (type) {
    case "winrm":
      return <Field meta={fields.password} label={fresh("Password")} type="password" autoComplete="new-password" help="Stored encrypted; it can be replaced, never read back." />;
    case "ssh":
      return (
        <div className="space-y-4">
          <TextAreaField
            meta={fields.privateKey}
            label={fresh("Private key")}
            rows={6}
            spellCheck={false}
            autoComplete="off"
            mono
            help="The whole key, from -----BEGIN to END-----, in OpenSSH or PEM format."
          />
          <KeyFileInput onKey={onKeyFile} />
          <Field meta={fields.passphrase} label={fresh("Passphrase")} type="password" autoComplete="new-password" help="Only if the key is encrypted with one." />
        </div>
      );
    case "api_key":
      return <Field meta={fields.apiKey} label={fresh("API key")} type="password" autoComplete="off" help="Stored encrypted; it can be replaced, never read back." />;
  }
}

/** What an entry of a usage policy may be, said next to the field. */
export const POLICY_HELP =
  "Hosts this credential may be sent to, one entry each: a host name (web-01.corp.example), a wildcard (*.corp.example), an IP address (10.0.0.5) or a CIDR range (10.0.0.0/24). Enter or a comma adds an entry. Empty: only an administrator can bind it to a target.";

/** The usage policy of a credential as a list of host patterns. */
export function PolicyField({ meta }: { meta: AnyField }) {
  return <TagInput meta={meta} label="Allowed hosts" help={POLICY_HELP} placeholder="*.corp.example, 10.0.0.0/24" />;
}
