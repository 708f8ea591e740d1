// The code editor, loaded only in the browser and only on the pages that edit jobs: until
// CodeMirror has arrived (and on the server) a plain textarea with the same value, name and
// description stands in, so the page is usable at once.
import { lazy, Suspense, useEffect, useState } from "react";
import { CONTROL } from "../ui/styles.ts";
import type { CodeEditorProps } from "./code-editor.tsx";

const CodeMirrorEditor = lazy(() => import("./code-editor.tsx"));

function PlainEditor({ value, onChange, label, id, describedBy, invalid, minLines = 4 }: CodeEditorProps) {
  return (
    <textarea
      id={id}
      aria-label={label}
      aria-describedby={describedBy}
      aria-invalid={invalid || undefined}
      value={value}
      rows={minLines}
      spellCheck={false}
      onChange={(event) => onChange(event.target.value)}
      className={`font-mono text-sm ${CONTROL}`}
    />
  );
}

/** A code editor (CodeMirror once loaded, a textarea before). */
export function CodeEditor(props: CodeEditorProps) {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  if (!mounted) return <PlainEditor {...props} />;
  return (
    <Suspense fallback={<PlainEditor {...props} />}>
      <CodeMirrorEditor {...props} />
    </Suspense>
  );
}
