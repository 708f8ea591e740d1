import { useId, useState, type ChangeEvent, type ReactNode } from "react";
import { ErrorList } from "./field.tsx";
import { CONTROL, MUTED } from "./styles.ts";

interface TextFileInputProps {
  label: string;
  /** What the file picker offers (`.csv,text/csv`); anything when left out. */
  accept?: string;
  /** Larger files are refused before they are read. */
  maxBytes: number;
  /** What the line under the input says before a file is read. */
  help?: ReactNode;
  /** A reason to refuse a file's text (a public key where a private one belongs), or null to take it. */
  check?: (text: string, fileName: string) => string | null;
  /** What the line says once a file was read ("Read targets.csv." unless given). */
  readMessage?: (fileName: string) => string;
  onText: (text: string, fileName: string) => void;
}

/**
 * Reads a small local text file in the browser and hands its text to the field it fills: the input
 * has no name, so the file itself is never posted, only the text, with the form.
 */
export function TextFileInput({ label, accept, maxBytes, help = "The file is read here, in your browser; only its text is sent, with the form.", check, readMessage = (name) => `Read ${name}.`, onText }: TextFileInputProps) {
  const id = useId();
  const [problem, setProblem] = useState<string | null>(null);
  const [loaded, setLoaded] = useState<string | null>(null);
  const onChange = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    setLoaded(null);
    if (file.size > maxBytes) {
      setProblem(`${file.name} is ${Math.ceil(file.size / 1024)} KB; at most ${Math.floor(maxBytes / 1024)} KB fit here.`);
      return;
    }
    const text = await file.text();
    const refused = check?.(text, file.name) ?? null;
    setProblem(refused);
    if (refused) return;
    setLoaded(file.name);
    onText(text, file.name);
  };
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800 dark:text-slate-200">
        {label}
      </label>
      <input
        id={id}
        type="file"
        accept={accept}
        onChange={onChange}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-help ${id}-error`}
        className={`mt-1 ${CONTROL} file:mr-3 file:rounded file:border-0 file:bg-slate-100 file:px-2 file:py-1 file:text-sm file:font-medium dark:file:bg-slate-800 dark:file:text-slate-100`}
      />
      <p id={`${id}-help`} aria-live="polite" className={`mt-1 text-sm ${MUTED}`}>
        {loaded ? readMessage(loaded) : help}
      </p>
      <ErrorList id={`${id}-error`} errors={problem ? [problem] : []} />
    </div>
  );
}
