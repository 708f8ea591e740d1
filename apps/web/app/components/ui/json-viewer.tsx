import { useState } from "react";
import { Button } from "./button.tsx";

const OPEN_DEPTH = 2;

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="text-slate-500 dark:text-slate-400">null</span>;
  if (typeof value === "string") return <span className="break-all text-emerald-800 dark:text-emerald-300">“{value}”</span>;
  if (typeof value === "number") return <span className="text-sky-800 dark:text-sky-300">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="text-violet-800 dark:text-violet-300">{String(value)}</span>;
  return <span className="text-slate-500 dark:text-slate-400">{String(value)}</span>;
}

function Node({ name, value, depth }: { name: string | null; value: unknown; depth: number }) {
  const key = name === null ? null : <span className="text-slate-700 dark:text-slate-300">{name}: </span>;
  if (value === null || typeof value !== "object") {
    return (
      <li className="pl-4">
        {key}
        <Scalar value={value} />
      </li>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const size = Array.isArray(value) ? `${entries.length} ${entries.length === 1 ? "item" : "items"}` : `${entries.length} ${entries.length === 1 ? "key" : "keys"}`;
  const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <li className="pl-4">
        {key}
        <span className="text-slate-500 dark:text-slate-400">{brackets.join("")}</span>
      </li>
    );
  }
  return (
    <li className="pl-4">
      <details open={depth < OPEN_DEPTH}>
        <summary className="-ml-4 cursor-pointer rounded pl-0.5 focus-visible:outline-2 focus-visible:outline-sky-500">
          {key}
          <span className="text-slate-500 dark:text-slate-400">
            {brackets[0]} {size} {brackets[1]}
          </span>
        </summary>
        <ul>
          {entries.map(([childName, child]) => (
            <Node key={childName} name={childName} value={child} depth={depth + 1} />
          ))}
        </ul>
      </details>
    </li>
  );
}

/** Any JSON value as a tree whose objects and arrays fold open and shut (keyboard: the summaries), with a copy button. */
export function JsonViewer({ value, label }: { value: unknown; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(JSON.stringify(value, null, 2));
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <div role="group" aria-label={label} className="relative rounded-lg border border-slate-200 bg-slate-50 p-3 font-mono text-xs leading-5 dark:border-slate-800 dark:bg-slate-950">
      <div className="absolute top-2 right-2">
        <Button variant="secondary" className="px-2 py-1 text-xs" onClick={() => void copy()} aria-label={`Copy ${label} as JSON`}>
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      <ul className="-ml-4 overflow-x-auto pr-16">
        <Node name={null} value={value} depth={0} />
      </ul>
    </div>
  );
}
