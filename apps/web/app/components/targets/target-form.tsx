// The create and edit form of a target: connection, WinRM settings (the port follows the
// transport, unencrypted traffic explains itself, a CA certificate pasted or read from a file),
// the credential picker that offers what the host's policy allows, tags and dependencies.
import { getFormProps, useForm, type SubmissionResult } from "@conform-to/react";
import { Form, useFetcher } from "@remix-run/react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { INTENT_FIELD, parseForm } from "../../lib/forms.ts";
import { DEFAULT_PORTS, TARGET_OS, targetForm, WINRM_AUTHS, WINRM_TRANSPORTS } from "../../schemas/targets.ts";
import { SubmitButton } from "../ui/button.tsx";
import { CsrfInput } from "../ui/csrf.tsx";
import { CheckboxField, ErrorList, Field, Select, TextAreaField } from "../ui/field.tsx";
import { CARD } from "../ui/styles.ts";
import { TagInput } from "../ui/tag-input.tsx";
import { TextFileInput } from "../ui/text-file-input.tsx";

/** What the credential picker offers for one host (see services/targets/queries.server.ts). */
export interface CredentialChoicesData {
  hostname: string;
  os: string;
  allowed: { id: string; name: string }[];
  outsidePolicy: { id: string; name: string }[];
  otherType: number;
  type: string;
}

/** The values a form starts from: empty for a new target, the target's own for an edit. */
export type TargetFormValues = {
  name: string;
  hostname: string;
  port: string;
  os: string;
  winrm: { transport: string; auth: string; allowUnencrypted: boolean; caCertificate: string; rejectUnauthorized: boolean };
  credentialId: string;
  /** The bound credential's name, shown even when the host's policy would no longer offer it. */
  credentialName: string | null;
  tags: string[];
  description: string;
  dependsOn: string[];
};

// The picker's options: what the host's policy allows, what an admin may bind anyway, and the bound one.
function credentialOptions(choices: CredentialChoicesData, canBindAnywhere: boolean, selected: { id: string; name: string | null } | null) {
  const options = [{ value: "", label: "No credential" }, ...choices.allowed.map((c) => ({ value: c.id, label: c.name }))];
  if (canBindAnywhere) options.push(...choices.outsidePolicy.map((c) => ({ value: c.id, label: `${c.name} (outside its usage policy)` })));
  if (selected && selected.id && !options.some((o) => o.value === selected.id)) {
    const name = selected.name ?? choices.outsidePolicy.find((c) => c.id === selected.id)?.name ?? "the chosen credential";
    options.push({ value: selected.id, label: `${name} (not allowed for ${choices.hostname || "this host"})` });
  }
  return options;
}

function credentialHelp(choices: CredentialChoicesData, canBindAnywhere: boolean, selectedOutside: boolean): string {
  const host = choices.hostname.trim();
  const parts: string[] = [];
  if (!host) parts.push("Type the host name first: only credentials whose usage policy includes it are offered.");
  else if (choices.allowed.length === 0) parts.push(`No ${choices.type} credential's usage policy includes ${host}.`);
  else parts.push(`Offered: the ${choices.type} credentials whose usage policy includes ${host}.`);
  if (host && choices.outsidePolicy.length > 0) {
    const names = choices.outsidePolicy.map((c) => c.name).join(", ");
    parts.push(
      canBindAnywhere
        ? `Outside their policy: ${names}. As an admin you may bind one anyway; that approves exactly these connection settings.`
        : `Not offered: ${names}, whose usage policy does not include ${host}. An admin can extend a policy or bind it for you.`,
    );
  }
  if (choices.otherType > 0) parts.push(`${choices.otherType} ${choices.otherType === 1 ? "credential is" : "credentials are"} of another type: a ${choices.os} target signs in with a ${choices.type} credential.`);
  if (selectedOutside && !canBindAnywhere) parts.push("The chosen credential's policy does not include this host: saving will be refused.");
  return parts.join(" ");
}

interface TargetFormProps {
  id: string;
  defaultValue: TargetFormValues;
  lastResult: SubmissionResult<string[]> | undefined;
  /** The picker's choices for the host the form starts with. */
  choices: CredentialChoicesData;
  /** Where the picker asks for the choices of another host: the page's own loader (`?host=&os=`). */
  choicesFrom: string;
  canBindAnywhere: boolean;
  /** Other targets' names, for the dependencies picker. */
  targetNames: string[];
  knownTags: string[];
  submitLabel: string;
  pendingLabel: string;
  /** Shown below the buttons: a Cancel link. */
  cancel: ReactNode;
}

const CA_FILE_MAX_BYTES = 60 * 1024;

/** The target form, for both create and edit. */
export function TargetForm({ id, defaultValue, lastResult, choices: initialChoices, choicesFrom, canBindAnywhere, targetNames, knownTags, submitLabel, pendingLabel, cancel }: TargetFormProps) {
  const [form, fields] = useForm({
    id,
    lastResult,
    defaultValue,
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, targetForm),
  });
  const winrm = fields.winrm.getFieldset();
  const [transport, setTransport] = useState(defaultValue.winrm.transport);
  const [allowUnencrypted, setAllowUnencrypted] = useState(defaultValue.winrm.allowUnencrypted);
  const [auth, setAuth] = useState(defaultValue.winrm.auth);
  const [credentialId, setCredentialId] = useState(defaultValue.credentialId);
  const portTyped = useRef(false);

  // The picker's choices follow the host name (asked for after a pause in typing) and the OS.
  const [hostname, setHostname] = useState(defaultValue.hostname);
  const [os, setOs] = useState(defaultValue.os);
  const fetcher = useFetcher<{ choices: CredentialChoicesData }>();
  const loadChoices = fetcher.load;
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      if (hostname === initialChoices.hostname && os === initialChoices.os) return;
    }
    const timer = setTimeout(() => loadChoices(`${choicesFrom}?${new URLSearchParams({ host: hostname.trim(), os })}`), 300);
    return () => clearTimeout(timer);
  }, [hostname, os, choicesFrom, loadChoices, initialChoices.hostname, initialChoices.os]);
  const choices = fetcher.data?.choices ?? initialChoices;
  const checking = fetcher.state === "loading";
  const selected = credentialId ? { id: credentialId, name: credentialId === defaultValue.credentialId ? defaultValue.credentialName : null } : null;
  const options = credentialOptions(choices, canBindAnywhere, selected);
  const selectedOutside = Boolean(credentialId) && !choices.allowed.some((c) => c.id === credentialId);

  const onTransport = (next: string) => {
    const port = String(form.value?.port ?? "");
    const previousDefault = String(DEFAULT_PORTS[transport as keyof typeof DEFAULT_PORTS] ?? "");
    // The port follows the transport unless the user typed a port of their own.
    if (port === "" || port === previousDefault || !portTyped.current) {
      form.update({ name: fields.port.name, value: String(DEFAULT_PORTS[next as keyof typeof DEFAULT_PORTS]) });
      portTyped.current = false;
    }
    setTransport(next);
  };
  const plainBasic = transport === "http" && auth === "basic";

  return (
    <Form method="post" {...getFormProps(form)} className="space-y-6">
      <CsrfInput />
      <input type="hidden" name={INTENT_FIELD} value="save" />

      <section aria-labelledby={`${id}-host`} className={CARD}>
        <h2 id={`${id}-host`} className="text-lg font-semibold">
          Host
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          <Field meta={fields.name} label="Name" help="Unique; jobs name their target by it." autoComplete="off" />
          <Field meta={fields.hostname} label="Host name" help="DNS name or IP address of the Windows host." autoComplete="off" onChange={(event) => setHostname(event.target.value)} />
          <Select meta={fields.os} label="Operating system" options={TARGET_OS.map((value) => ({ value, label: value === "windows" ? "Windows" : "Linux" }))} onChange={(event) => setOs(event.target.value)} />
          <TextAreaField meta={fields.description} label="Description" rows={2} className="sm:col-span-2" />
        </div>
      </section>

      <section aria-labelledby={`${id}-winrm`} className={CARD}>
        <h2 id={`${id}-winrm`} className="text-lg font-semibold">
          WinRM connection
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-3">
          <Select meta={winrm.transport} label="Transport" options={WINRM_TRANSPORTS.map((value) => ({ value, label: value === "https" ? "HTTPS" : "HTTP" }))} onChange={(event) => onTransport(event.target.value)} />
          <Field meta={fields.port} label="Port" type="number" inputMode="numeric" min={1} max={65535} help={`Default ${DEFAULT_PORTS.http} for HTTP, ${DEFAULT_PORTS.https} for HTTPS.`} onInput={() => (portTyped.current = true)} />
          <Select meta={winrm.auth} label="Authentication" options={WINRM_AUTHS.map((value) => ({ value, label: value === "ntlm" ? "NTLM (Negotiate)" : "Basic" }))} onChange={(event) => setAuth(event.target.value)} />
        </div>
        <div className="mt-4 space-y-4">
          <CheckboxField
            meta={winrm.allowUnencrypted}
            label="Allow unencrypted traffic"
            onChange={setAllowUnencrypted}
            help="Off: over HTTP, NTLM seals every message and nothing else is accepted. On: the host's commands and output cross the network readable by anyone on the path, and with Basic auth so does the password. Needed only for Basic auth over HTTP; prefer HTTPS."
          />
          {(allowUnencrypted || plainBasic) && (
            <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950/50 dark:text-amber-200">
              {plainBasic
                ? allowUnencrypted
                  ? "Basic auth over HTTP sends the password base64-encoded, which anyone on the network can read. Use HTTPS or NTLM if the host allows it."
                  : "Basic auth over HTTP sends the password readably: the target is refused unless unencrypted traffic is allowed. Use HTTPS or NTLM instead."
                : "Unencrypted traffic is allowed: a listener that accepts it lets anyone on the path read commands and their output."}
            </p>
          )}
          {/* Hidden, not removed, over HTTP: the stored HTTPS settings are posted back unchanged. */}
          <div hidden={transport !== "https"} className="space-y-4">
            <CheckboxField
              meta={winrm.rejectUnauthorized}
              label="Verify the listener's TLS certificate"
              help="Turn off only for a test listener with a self-signed certificate: without verification anyone in between can pose as the host and read the password."
            />
            <TextAreaField
              meta={winrm.caCertificate}
              label="CA certificate (PEM)"
              mono
              rows={5}
              help="The certificate of the CA that issued the listener's certificate, if the system does not trust it. Paste it, or read it from a file below."
            />
            <TextFileInput label="Read the CA certificate from a file" accept=".pem,.crt,.cer,.txt" maxBytes={CA_FILE_MAX_BYTES} onText={(text) => form.update({ name: winrm.caCertificate.name, value: text })} />
          </div>
        </div>
      </section>

      <section aria-labelledby={`${id}-credential`} className={CARD}>
        <h2 id={`${id}-credential`} className="text-lg font-semibold">
          Signing in
        </h2>
        <div className="mt-4 space-y-4">
          <Select
            meta={fields.credentialId}
            label="Credential"
            options={options}
            onChange={(event) => setCredentialId(event.target.value)}
            aria-busy={checking || undefined}
            help={`${checking ? "Checking which credentials may go to this host… " : ""}${credentialHelp(choices, canBindAnywhere, selectedOutside)}`}
          />
        </div>
      </section>

      <section aria-labelledby={`${id}-relations`} className={CARD}>
        <h2 id={`${id}-relations`} className="text-lg font-semibold">
          Tags and dependencies
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          <TagInput meta={fields.tags} label="Tags" help="Press Enter or comma after each; no spaces. Lists filter by tag." suggestions={knownTags} />
          <TagInput meta={fields.dependsOn} label="Depends on" help="Targets that must be up before this one; type a target's name." suggestions={targetNames} />
        </div>
      </section>

      <ErrorList id={form.errorId} errors={form.errors} className="empty:hidden" />
      <div className="flex flex-wrap items-center gap-3">
        <SubmitButton intent="save" pendingLabel={pendingLabel}>
          {submitLabel}
        </SubmitButton>
        {cancel}
      </div>
    </Form>
  );
}
