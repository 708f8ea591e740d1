// The job editor's model: one definition seen two ways. The builder edits a draft (ordered
// parameters and steps with stable keys); the JSON view edits text. Both turn into the same plain
// definition object, which core's own schema validates in the browser exactly as the server does.
// Fields the builder has no control for travel along untouched, so switching views loses nothing.
// Browser-safe.
import { formatPath, formatZodIssues, jobDefinitionSchema, type ParameterType } from "@opsconductor/core/schema";
import { fieldMessage } from "../../lib/forms.ts";

/** A problem of the definition: where (`steps[0].command`) and what, as a sentence for that field. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

/** One declared parameter in the builder: its name and its declaration as written (shorthand or object). */
export interface ParameterDraft {
  key: string;
  name: string;
  value: unknown;
}

/** One step in the builder: its fields as written. */
export interface StepDraft {
  key: string;
  value: Record<string, unknown>;
}

/** The builder's view of a definition. */
export interface Draft {
  /** Every top-level field except parameters and steps, as written. */
  top: Record<string, unknown>;
  /** The order of the top-level fields, parameters and steps included. */
  order: string[];
  parameters: ParameterDraft[];
  steps: StepDraft[];
}

let keys = 0;
/** A key no other draft item has (React lists and drag-and-drop need one that survives reordering). */
export const newKey = () => `k${++keys}`;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** The builder's draft of a definition, or why the builder cannot show it (the JSON view still can). */
export function toDraft(definition: unknown): { draft: Draft } | { error: string } {
  if (!isRecord(definition)) return { error: "The definition must be a JSON object to be shown in the builder." };
  const { parameters = {}, steps = [], ...top } = definition;
  if (!isRecord(parameters)) return { error: "“parameters” must be an object (name → declaration) to be shown in the builder." };
  if (!Array.isArray(steps) || !steps.every(isRecord)) return { error: "“steps” must be a list of objects to be shown in the builder." };
  return {
    draft: {
      top,
      order: Object.keys(definition),
      parameters: Object.entries(parameters).map(([name, value]) => ({ key: newKey(), name, value })),
      steps: steps.map((value) => ({ key: newKey(), value })),
    },
  };
}

/** Why a draft cannot become a definition without losing something (two parameters with one name), or null. */
export function draftConflict(draft: Draft): { path: string; message: string } | null {
  const seen = new Set<string>();
  for (const parameter of draft.parameters) {
    if (seen.has(parameter.name)) return { path: `parameters.${parameter.key}.name`, message: `Two parameters are named “${parameter.name}”: rename one.` };
    seen.add(parameter.name);
  }
  return null;
}

/** The definition a draft stands for, its fields in their original order (new ones last). */
export function fromDraft(draft: Draft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const parameters = Object.fromEntries(draft.parameters.map((p) => [p.name, p.value]));
  const steps = draft.steps.map((s) => s.value);
  const order = [...draft.order];
  for (const key of ["name", "description", "parameters", "steps", ...Object.keys(draft.top)]) if (!order.includes(key)) order.push(key);
  for (const key of order) {
    if (key === "parameters") {
      if (draft.parameters.length > 0 || draft.order.includes("parameters")) out.parameters = parameters;
    } else if (key === "steps") out.steps = steps;
    else if (draft.top[key] !== undefined) out[key] = draft.top[key];
  }
  return out;
}

/** A definition as the JSON view shows it. */
export const toJsonText = (definition: unknown) => JSON.stringify(definition, null, 2);

/** The JSON view's text parsed, or where and why it is not JSON. */
export function parseJsonText(text: string): { value: unknown } | { syntax: { message: string; offset: number } } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const message = error instanceof Error ? error.message : "not valid JSON";
    // V8 says "... at position 42" (and sometimes "(line 3 column 5)"); without it, the end of the text.
    const at = /position (\d+)/.exec(message);
    return { syntax: { message: message.replace(/^JSON\.parse: /, ""), offset: at ? Number(at[1]) : text.length } };
  }
}

/** Every problem core's job definition schema finds, each with its path and a sentence for its field. */
export function validateDefinition(definition: unknown): DefinitionProblem[] {
  const result = jobDefinitionSchema.safeParse(definition);
  if (result.success) return [];
  return formatZodIssues(result.error.issues, "The job definition").map((issue) => ({ path: issue.path, message: fieldMessage(issue.message, issue.path) }));
}

/** A path as core writes it (`steps[0].command`, `parameters["a-b"]`) split into keys and indexes. */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const pattern = /([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\./g;
  for (const match of path.matchAll(pattern)) {
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else if (match[3] !== undefined) out.push(JSON.parse(match[3]) as string);
  }
  return out;
}

/** A parameter declaration in its full form, whether it was written as one or as a shorthand default. */
export interface ParameterView {
  type: ParameterType;
  required?: boolean;
  default?: string | number | boolean;
  description?: string;
  pattern?: string;
  min?: number;
  max?: number;
  values?: string[];
}

/** How a parameter as written reads as a declaration (`"Spooler"` is a string with that default). */
export function parameterView(value: unknown): ParameterView {
  if (typeof value === "string") return { type: "string", default: value };
  if (typeof value === "number") return { type: "number", default: value };
  if (typeof value === "boolean") return { type: "boolean", default: value };
  if (isRecord(value)) return value as unknown as ParameterView;
  return { type: "string" };
}

/** A parameter with one field changed (undefined removes it); a shorthand becomes a full declaration. */
export function withParameterField(value: unknown, field: keyof ParameterView, next: unknown): Record<string, unknown> {
  const declaration: Record<string, unknown> = { ...(parameterView(value) as unknown as Record<string, unknown>) };
  if (next === undefined) delete declaration[field];
  else declaration[field] = next;
  return declaration;
}

/** A step with one field changed (undefined removes it). */
export function withStepField(step: Record<string, unknown>, field: string, next: unknown): Record<string, unknown> {
  const out = { ...step };
  if (next === undefined) delete out[field];
  else out[field] = next;
  return out;
}

/** `items` with the entry at `from` moved to `to`. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  if (to < 0 || to >= items.length || from === to) return [...items];
  const out = [...items];
  const [moved] = out.splice(from, 1);
  out.splice(to, 0, moved!);
  return out;
}

/** A new job's first definition: a name to fill in and one empty PowerShell step. */
export function blankDefinition(): Record<string, unknown> {
  return { name: "", parameters: {}, steps: [{ type: "winrm.exec", name: "Step 1", target: "", shell: "powershell", command: "" }] };
}

/** Where a value sits in JSON text: its span, and the span of its property name when it has one. */
export interface JsonSpan {
  from: number;
  to: number;
  keyFrom?: number;
}

/**
 * The span of every value of a (valid) JSON text by its path (`steps[0].command`), so a problem
 * found in the parsed value can be shown at its line.
 */
export function jsonSpans(text: string): Map<string, JsonSpan> {
  const spans = new Map<string, JsonSpan>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: (string | number)[], keyFrom?: number): void => {
    ws();
    const from = i;
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      while (i < text.length && text[i] !== "}") {
        const at = i;
        const key = string();
        ws();
        i++; // ':'
        value([...path, key], at);
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (ch === "[") {
      i++;
      ws();
      let index = 0;
      while (i < text.length && text[i] !== "]") {
        value([...path, index++]);
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (ch === '"') string();
    else while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    spans.set(formatPath(path), { from, to: i, ...(keyFrom !== undefined ? { keyFrom } : {}) });
  };
  try {
    value([]);
  } catch {
    // Not valid JSON: whatever was found so far.
  }
  return spans;
}

/**
 * Where to show a problem about `path`: the nearest part of the text that exists (a missing field
 * is shown at the object that lacks it), from its property name when it has one.
 */
export function spanOf(spans: Map<string, JsonSpan>, path: string): { from: number; to: number } {
  let parts = splitPath(path);
  for (;;) {
    const span = spans.get(formatPath(parts));
    if (span) {
      const from = span.keyFrom ?? span.from;
      // A whole object or list: mark its first line only, not every line inside it.
      return { from, to: Math.max(from + 1, span.keyFrom !== undefined && span.to - from > 200 ? span.from + 1 : span.to) };
    }
    if (parts.length === 0) return { from: 0, to: 1 };
    parts = parts.slice(0, -1);
  }
}

/** The 1-based line of an offset in a text. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
