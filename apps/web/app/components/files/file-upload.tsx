// Uploading to the file library from the browser: the file goes straight from disk to the streaming
// POST /api/files in one XMLHttpRequest (the only browser API that reports upload progress), signed
// in by the session cookies and carrying the oc_csrf cookie's value in X-CSRF-Token.
import { getFormProps, getInputProps, useForm, type SubmissionResult } from "@conform-to/react";
import { useContext, useEffect, useMemo, useRef, useState } from "react";
import { fieldMessage, parseForm, sentence } from "../../lib/forms.ts";
import { uploadFormFor } from "../../schemas/files.ts";
import { Button } from "../ui/button.tsx";
import { CsrfContext } from "../ui/csrf.tsx";
import { describedBy, ErrorList, Field, FieldFrame } from "../ui/field.tsx";
import { CONTROL, MUTED } from "../ui/styles.ts";
import { Toast, type ToastMessage } from "../ui/toast.tsx";
import { formatBytes, shortDigest } from "./format.ts";

/** What POST /api/files answers about the stored file. */
export interface UploadedFile {
  id: string;
  name: string;
  size: number;
  sha256: string;
}

interface Progress {
  name: string;
  loaded: number;
  total: number;
}

interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: { path: string; message: string }[] };
}

function csrfCookie(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "oc_csrf") return decodeURIComponent(rest.join("="));
  }
  return null;
}

// The access cookie lasts minutes and pages renew it as they load; an upload started long after
// the page loaded renews it first, so hundreds of megabytes are not sent only to be refused.
async function ensureSession(): Promise<boolean> {
  const me = await fetch("/api/users/me", { credentials: "same-origin", headers: { accept: "application/json" } });
  if (me.status !== 401) return true;
  const refreshed = await fetch("/api/refresh", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: "{}" });
  return refreshed.ok;
}

// Where the server's refusal belongs: next to the file, next to the name, or under the form.
function refusal(status: number, body: ApiErrorBody | null, maxBytes: number): Record<string, string[]> {
  const error = body?.error;
  if (status === 413) return { file: [`Too large: the library takes files of at most ${formatBytes(maxBytes)} (${maxBytes.toLocaleString("en")} bytes). Nothing was stored.`] };
  if (status === 401) return { "": ["Your session has ended. Sign in again, then upload the file."] };
  const named = (error?.details ?? []).filter((d) => d.path === "query.name" || d.path.startsWith("headers."));
  if (named.length > 0) return { name: named.map((d) => fieldMessage(d.message, d.path)) };
  if (status === 403 && error?.code === "csrf_failed") return { "": ["The upload did not carry this browser's security token. Reload the page and try again."] };
  return { "": [error?.message ? `${sentence(error.message)}` : `The upload failed (HTTP ${status}); nothing was stored.`] };
}

/** The upload form of the Files page: choose a file, name it, watch it go, cancel it if need be. */
export function FileUpload({ maxBytes, onUploaded }: { maxBytes: number; onUploaded: (file: UploadedFile) => void }) {
  const schema = useMemo(() => uploadFormFor(maxBytes, `Too large: the library takes files of at most ${formatBytes(maxBytes)}.`), [maxBytes]);
  const pageToken = useContext(CsrfContext);
  const [result, setResult] = useState<SubmissionResult<string[]> | undefined>(undefined);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [toast, setToast] = useState<ToastMessage | null>(null);
  const request = useRef<XMLHttpRequest | null>(null);
  // The name the last picked file suggested: replaced by the next pick unless the user changed it.
  const suggested = useRef("");

  useEffect(() => () => request.current?.abort(), []);

  const fail = (name: string, error: Record<string, string[]>) => setResult({ status: "error", initialValue: { name }, error });

  const cancelled = () => {
    setProgress(null);
    setResult(undefined);
    setToast({ kind: "error", message: "Upload cancelled; nothing was stored." });
  };

  const send = async (file: File, name: string) => {
    setResult(undefined);
    setProgress({ name, loaded: 0, total: file.size });
    const xhr = new XMLHttpRequest();
    request.current = xhr;
    let aborted = false;
    xhr.onabort = () => {
      aborted = true;
      request.current = null;
      cancelled();
    };
    const signedIn = await ensureSession().catch(() => false);
    if (aborted) return;
    if (!signedIn) {
      request.current = null;
      setProgress(null);
      fail(name, { "": ["Your session has ended. Sign in again, then upload the file."] });
      return;
    }
    request.current = xhr;
    xhr.open("POST", `/api/files?name=${encodeURIComponent(name)}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", csrfCookie() ?? pageToken ?? "");
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => setProgress({ name, loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
    xhr.onload = () => {
      request.current = null;
      setProgress(null);
      if (xhr.status === 201 && xhr.response) {
        const stored = xhr.response as UploadedFile;
        form.reset();
        suggested.current = "";
        setResult(undefined);
        setToast({ kind: "success", message: `Uploaded ${stored.name} (${formatBytes(stored.size)}), SHA-256 ${shortDigest(stored.sha256)}…` });
        onUploaded(stored);
        return;
      }
      fail(name, refusal(xhr.status, xhr.response as ApiErrorBody | null, maxBytes));
    };
    xhr.onerror = () => {
      request.current = null;
      setProgress(null);
      fail(name, { "": ["The connection broke off during the upload; nothing was stored. Try again."] });
    };
    xhr.send(file);
  };

  const [form, fields] = useForm({
    id: "upload",
    lastResult: result,
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseForm(formData, schema),
    onSubmit(event, { submission }) {
      event.preventDefault();
      if (submission?.status !== "success" || progress) return;
      void send(submission.value.file, submission.value.name);
    },
  });

  const onPick = (file: File | undefined) => {
    if (!file) return;
    // A fresh pick names the upload after the file, unless the user typed a name of their own.
    const typed = fields.name.value ?? "";
    if (typed === "" || typed === suggested.current) {
      form.update({ name: fields.name.name, value: file.name });
      suggested.current = file.name;
    }
  };

  const { key: fileKey, ...fileProps } = getInputProps(fields.file, { type: "file", ariaAttributes: false });
  const fileHelp = `Up to ${formatBytes(maxBytes)}. Files of hundreds of megabytes stream straight into the library.`;
  const uploading = progress !== null;
  const percent = progress && progress.total > 0 ? Math.floor((progress.loaded / progress.total) * 100) : 0;

  return (
    <form {...getFormProps(form)} aria-labelledby="upload-title" className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2">
        <FieldFrame meta={fields.file} label="File" help={fileHelp} className="">
          <input
            key={fileKey}
            {...fileProps}
            disabled={uploading}
            onChange={(event) => onPick(event.target.files?.[0])}
            aria-invalid={fields.file.errors?.length ? true : undefined}
            aria-describedby={describedBy(fields.file, fileHelp)}
            className={`mt-1 ${CONTROL} file:mr-3 file:rounded file:border-0 file:bg-slate-100 file:px-2 file:py-1 file:text-sm file:font-medium dark:file:bg-slate-800 dark:file:text-slate-100`}
          />
        </FieldFrame>
        <Field meta={fields.name} label="Name in the library" help="Steps copy the file by this name; a newer upload under the same name is what new job versions get." autoComplete="off" disabled={uploading} />
      </div>
      <ErrorList id={form.errorId} errors={form.errors} />
      {progress ? (
        <div className="space-y-2 rounded-md border border-slate-200 p-3 dark:border-slate-700" data-testid="upload-progress">
          <label htmlFor="upload-progress-bar" className="block text-sm font-medium break-words">
            Uploading {progress.name}
          </label>
          <progress
            id="upload-progress-bar"
            max={progress.total || 1}
            value={progress.loaded}
            className="h-2 w-full appearance-none overflow-hidden rounded bg-slate-200 dark:bg-slate-700 [&::-moz-progress-bar]:bg-sky-600 [&::-webkit-progress-bar]:bg-slate-200 dark:[&::-webkit-progress-bar]:bg-slate-700 [&::-webkit-progress-value]:bg-sky-600 dark:[&::-webkit-progress-value]:bg-sky-400"
          />
          <div className="flex flex-wrap items-center justify-between gap-2">
            <p className={`text-sm tabular-nums ${MUTED}`} data-testid="upload-progress-text">
              {percent}% · {formatBytes(progress.loaded)} of {formatBytes(progress.total)}
            </p>
            <Button variant="secondary" onClick={() => request.current?.abort()}>
              Cancel upload
            </Button>
          </div>
        </div>
      ) : (
        <Button type="submit">Upload</Button>
      )}
      <Toast toast={toast} />
    </form>
  );
}
