// CodeMirror 6 for the job editor: scripts (PowerShell or cmd highlighting) and the definition's
// JSON. Placeholders `{{ name }}` are completed from the declared parameters and an unknown name is
// marked as you type; in JSON, property names are completed from core's JSON Schema and the
// problems the page found are marked at their place. Loaded lazily: it is the biggest part of the
// editor page (see lazy-code-editor.tsx).
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult, type CompletionSource } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { json } from "@codemirror/lang-json";
import { bracketMatching, HighlightStyle, indentOnInput, StreamLanguage, syntaxHighlighting, type StreamParser } from "@codemirror/language";
import { powerShell } from "@codemirror/legacy-modes/mode/powershell";
import { forceLinting, linter, lintGutter, lintKeymap, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { listPlaceholders } from "@opsconductor/core/schema";
import { useEffect, useRef } from "react";
import { jsonPropertyCompletion, type SchemaNode } from "./json-completion.ts";

/** What the editor highlights its text as. */
export type CodeLanguage = "powershell" | "cmd" | "json" | "text";

/** A problem to mark in the text, by offset. */
export interface CodeProblem {
  from: number;
  to: number;
  message: string;
  severity?: "error" | "warning";
}

export interface CodeEditorProps {
  value: string;
  onChange: (value: string) => void;
  language: CodeLanguage;
  /** The editor's accessible name (its visible label's text). */
  label: string;
  id?: string;
  describedBy?: string;
  invalid?: boolean;
  /** Declared parameter names: completed after `{{`, and any other name is marked. */
  parameters?: readonly string[];
  /** Problems found outside the editor (the definition's validation), marked in the text. */
  problems?: readonly CodeProblem[];
  /** For JSON: the schema whose property names are offered. */
  jsonSchema?: Record<string, unknown>;
  minLines?: number;
}

// cmd.exe has no CodeMirror mode: comments, labels, %variables%, strings and the usual commands.
const CMD_KEYWORDS = /^(?:if|else|for|in|do|goto|call|exit|set|setlocal|endlocal|echo|not|exist|defined|errorlevel|equ|neq|lss|leq|gtr|geq|shift|pushd|popd|cd|chdir|start|title|pause|cls|del|erase|copy|xcopy|robocopy|move|mkdir|md|rd|rmdir|type|ren|rename|choice|timeout|net|sc|where|findstr|find)$/i;
const cmdParser: StreamParser<{ command: boolean }> = {
  name: "cmd",
  startState: () => ({ command: true }),
  token(stream, state) {
    if (stream.sol()) state.command = true;
    if (stream.eatSpace()) return null;
    if (state.command && (stream.match(/^@?rem(?=\s|$)/i) || stream.match("::"))) {
      stream.skipToEnd();
      return "comment";
    }
    if (state.command && stream.match(/^:[A-Za-z_][\w.-]*/)) return "def";
    if (stream.match(/^%%~?[A-Za-z]/) || stream.match(/^%~?[0-9*]/) || stream.match(/^%[^%\s]+%/) || stream.match(/^![^!\s]+!/)) return "variable-2";
    if (stream.match(/^"(?:[^"]|"")*"?/)) return "string";
    if (stream.match(/^(?:&&|\|\||[&|<>()^]|2>&1|>>)/)) {
      state.command = true;
      return "operator";
    }
    if (stream.match(/^\d+(?=[\s&|<>)]|$)/)) return "number";
    const word = stream.match(/^[^\s&|<>()"%!^]+/) as RegExpMatchArray | null;
    if (word) {
      const wasCommand = state.command;
      state.command = false;
      if (CMD_KEYWORDS.test(word[0]) || (wasCommand && /^[@]?[A-Za-z][\w.-]*$/.test(word[0]) && CMD_KEYWORDS.test(word[0].replace(/^@/, "")))) return "keyword";
      return wasCommand ? "builtin" : null;
    }
    stream.next();
    return null;
  },
};

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.operatorKeyword], color: "var(--cm-keyword)", fontWeight: "600" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "var(--cm-comment)", fontStyle: "italic" },
  { tag: [t.string, t.special(t.string)], color: "var(--cm-string)" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "var(--cm-number)" },
  { tag: [t.variableName, t.special(t.variableName)], color: "var(--cm-variable)" },
  { tag: [t.standard(t.variableName), t.function(t.variableName), t.definition(t.variableName), t.labelName], color: "var(--cm-builtin)" },
  { tag: [t.propertyName], color: "var(--cm-property)" },
  { tag: [t.operator, t.punctuation, t.bracket], color: "var(--cm-punctuation)" },
  { tag: t.invalid, color: "var(--cm-invalid)" },
]);

const baseTheme = EditorView.theme({
  "&": { fontSize: "0.875rem", backgroundColor: "var(--cm-bg)", color: "var(--cm-fg)", borderRadius: "0.375rem", border: "1px solid var(--cm-border)" },
  "&.cm-focused": { outline: "2px solid #0ea5e9", outlineOffset: "1px" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.5" },
  ".cm-content": { caretColor: "var(--cm-fg)" },
  ".cm-cursor": { borderLeftColor: "var(--cm-fg)" },
  ".cm-gutters": { backgroundColor: "var(--cm-gutter-bg)", color: "var(--cm-gutter-fg)", borderRight: "1px solid var(--cm-border)", borderRadius: "0.375rem 0 0 0.375rem" },
  ".cm-activeLine": { backgroundColor: "var(--cm-active-line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--cm-active-line)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": { backgroundColor: "var(--cm-selection) !important" },
  ".cm-tooltip": { backgroundColor: "var(--cm-bg)", color: "var(--cm-fg)", border: "1px solid var(--cm-border)" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "var(--cm-selection)", color: "var(--cm-fg)" },
});

/** The colours of the editor in both themes, as CSS variables on its frame. */
export const EDITOR_COLOURS =
  "[--cm-bg:var(--color-white)] [--cm-fg:var(--color-slate-900)] [--cm-border:var(--color-slate-300)] [--cm-gutter-bg:var(--color-slate-50)] [--cm-gutter-fg:var(--color-slate-600)] [--cm-active-line:rgb(14_165_233/0.07)] [--cm-selection:rgb(14_165_233/0.25)] [--cm-keyword:var(--color-violet-700)] [--cm-comment:var(--color-slate-600)] [--cm-string:var(--color-emerald-800)] [--cm-number:var(--color-sky-800)] [--cm-variable:var(--color-rose-800)] [--cm-builtin:var(--color-blue-800)] [--cm-property:var(--color-indigo-800)] [--cm-punctuation:var(--color-slate-700)] [--cm-invalid:var(--color-rose-700)] " +
  "dark:[--cm-bg:var(--color-slate-900)] dark:[--cm-fg:var(--color-slate-100)] dark:[--cm-border:var(--color-slate-600)] dark:[--cm-gutter-bg:var(--color-slate-800)] dark:[--cm-gutter-fg:var(--color-slate-400)] dark:[--cm-keyword:var(--color-violet-300)] dark:[--cm-comment:var(--color-slate-400)] dark:[--cm-string:var(--color-emerald-300)] dark:[--cm-number:var(--color-sky-300)] dark:[--cm-variable:var(--color-rose-300)] dark:[--cm-builtin:var(--color-blue-300)] dark:[--cm-property:var(--color-indigo-300)] dark:[--cm-punctuation:var(--color-slate-300)] dark:[--cm-invalid:var(--color-rose-300)]";

function languageExtension(language: CodeLanguage): Extension {
  if (language === "json") return json();
  if (language === "powershell") return StreamLanguage.define(powerShell);
  if (language === "cmd") return StreamLanguage.define(cmdParser);
  return [];
}

// `{{ na|` offers the declared names; accepting one closes the placeholder unless it already is.
function placeholderCompletion(names: () => readonly string[]): CompletionSource {
  return (context: CompletionContext): CompletionResult | null => {
    const before = context.matchBefore(/\{\{\s*[A-Za-z0-9_]*$/);
    if (!before) return null;
    const typed = /[A-Za-z0-9_]*$/.exec(before.text)![0];
    const from = context.pos - typed.length;
    const closed = /^\s*(\|[^}]*)?\}\}/.test(context.state.sliceDoc(context.pos, context.pos + 40));
    const spaced = /\s$/.test(before.text.slice(0, before.text.length - typed.length));
    const options: Completion[] = names().map((name) => ({ label: name, type: "variable", detail: "parameter", apply: closed ? name : `${spaced ? "" : " "}${name} }}` }));
    return { from, options, validFor: /^[A-Za-z0-9_]*$/ };
  };
}

// Unknown placeholder names, found as core finds them.
function placeholderProblems(text: string, names: readonly string[]): Diagnostic[] {
  try {
    return listPlaceholders(text)
      .filter((p) => !names.includes(p.name))
      .map((p) => ({ from: p.start, to: p.end, severity: "error" as const, message: `No parameter named “${p.name}” is declared: declare it, or fix the name.` }));
  } catch (error) {
    return [{ from: 0, to: Math.min(1, text.length), severity: "error", message: error instanceof Error ? error.message : "Not a valid template." }];
  }
}

/** A CodeMirror editor for a script or for JSON, kept in step with `value`. */
export default function CodeEditor({ value, onChange, language, label, id, describedBy, invalid, parameters, problems, jsonSchema, minLines = 4 }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef({ onChange, parameters, problems });
  latest.current = { onChange, parameters, problems };
  const languageSlot = useRef(new Compartment());
  const attributesSlot = useRef(new Compartment());

  useEffect(() => {
    const names = () => latest.current.parameters ?? [];
    const sources: CompletionSource[] = [placeholderCompletion(names)];
    if (jsonSchema) sources.unshift(jsonPropertyCompletion(jsonSchema as SchemaNode));
    const checkPlaceholders = language !== "json" && parameters !== undefined;
    const extensions: Extension[] = [
      lineNumbers(),
      history(),
      drawSelection(),
      highlightActiveLine(),
      bracketMatching(),
      // Brackets close by themselves only in JSON: in a script, typing "{{" must give "{{", not "{{}}".
      language === "json" ? closeBrackets() : [],
      indentOnInput(),
      EditorView.lineWrapping,
      syntaxHighlighting(highlight),
      baseTheme,
      languageSlot.current.of(languageExtension(language)),
      attributesSlot.current.of([]),
      autocompletion({ override: sources, icons: false }),
      linter((v) => [...(checkPlaceholders ? placeholderProblems(v.state.doc.toString(), names()) : []), ...(latest.current.problems ?? []).filter((p) => p.to <= v.state.doc.length).map((p) => ({ ...p, severity: p.severity ?? "error" }))], { delay: 150 }),
      language === "json" ? lintGutter() : [],
      keymap.of([...(language === "json" ? closeBracketsKeymap : []), ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap]),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) latest.current.onChange(update.state.doc.toString());
      }),
      EditorView.theme({ ".cm-content, .cm-gutter": { minHeight: `${minLines * 1.5}em` } }),
    ];
    const created = new EditorView({ parent: host.current!, state: EditorState.create({ doc: value, extensions }) });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // The editor is made once; later changes of these props are dispatched by the effects below.
  }, [jsonSchema]);

  useEffect(() => {
    const current = view.current;
    if (current && current.state.doc.toString() !== value) current.dispatch({ changes: { from: 0, to: current.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: languageSlot.current.reconfigure(languageExtension(language)) });
  }, [language]);

  useEffect(() => {
    const attributes: Record<string, string> = { "aria-label": label };
    if (id) attributes.id = id;
    if (describedBy) attributes["aria-describedby"] = describedBy;
    if (invalid) attributes["aria-invalid"] = "true";
    view.current?.dispatch({ effects: attributesSlot.current.reconfigure(EditorView.contentAttributes.of(attributes)) });
  }, [label, id, describedBy, invalid]);

  useEffect(() => {
    if (view.current) forceLinting(view.current);
  }, [problems, parameters]);

  return <div ref={host} data-code-editor={language} className={EDITOR_COLOURS} />;
}
