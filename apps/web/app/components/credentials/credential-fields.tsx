// The fields of a credential's secret, by type, shared by the create form and the rotate form, and
// the textarea they need. Secrets are write-only: these fields start empty and never get a value
// from the server.
import type { CredentialType } from "../../schemas/credentials.ts";
import { Field, TextAreaField, type AnyField } from "../ui/field.tsx";
import { TextFileInput } from "../ui/text-file-input.tsx";
import { TagInput } from "../ui/tag-input.tsx";

// A private key file is a few kilobytes; anything much larger is the wrong file.
const KEY_FILE_MAX_BYTES = 64 * 1024;
const PUBLIC_KEY = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-|sk-(ssh|ecdsa))/;

// A private key read from a local file, in the browser; a public key is refused with the reason.
function KeyFileInput({ onKey }: { onKey: (text: string) => void }) {
  return (
    <TextFileInput
      label="Or read the private key from a file"
      maxBytes={KEY_FILE_MAX_BYTES}
      check={(text, name) => (PUBLIC_KEY.test(text.trim()) ? `${name} holds a public key. Pick the private key: the file of the same name without .pub.` : null)}
      readMessage={(name) => `Read ${name} into the key field.`}
      onText={onKey}
    />
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
