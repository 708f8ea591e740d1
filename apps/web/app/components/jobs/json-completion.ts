// Completion of property names in the JSON view: the schema of the place the cursor is at (a
// step's fields once its "type" is known), without the names the object already has.
import type { Completion, CompletionContext, CompletionResult, CompletionSource } from "@codemirror/autocomplete";
import type { EditorView } from "@codemirror/view";

/** A JSON Schema, as far as completion reads it. */
export type SchemaNode = Record<string, unknown> & { properties?: Record<string, SchemaNode>; additionalProperties?: unknown; items?: SchemaNode; anyOf?: SchemaNode[]; oneOf?: SchemaNode[]; required?: string[]; description?: string; type?: unknown; const?: unknown };

function branches(schema: SchemaNode | undefined): SchemaNode[] {
  if (!schema) return [];
  const alternatives = schema.oneOf ?? schema.anyOf;
  return alternatives ? alternatives.flatMap(branches) : [schema];
}

function childSchema(schema: SchemaNode | undefined, key: string | number): SchemaNode | undefined {
  for (const branch of branches(schema)) {
    if (typeof key === "number" && branch.items) return branch.items;
    if (typeof key === "string") {
      const property = branch.properties?.[key];
      if (property) return property;
      if (branch.additionalProperties && typeof branch.additionalProperties === "object") return branch.additionalProperties as SchemaNode;
    }
  }
  return undefined;
}

interface Frame {
  kind: "object" | "array";
  /** Where the container sits in its parent: a property name or an index. */
  at: string | number | null;
  key: string | null;
  index: number;
  expectingKey: boolean;
  keys: Set<string>;
  values: Map<string, unknown>;
}

/**
 * The object a property name is being typed in, read from the text before the cursor: its path
 * from the root, the names it already has and its string values so far. Reading the text itself,
 * rather than the parser's tree, keeps this right in half-typed JSON, where the tree's error
 * recovery may put the cursor outside the object being written.
 */
export function objectAt(text: string): { path: (string | number)[]; keys: Set<string>; values: Map<string, unknown> } | null {
  const stack: Frame[] = [];
  const top = () => stack[stack.length - 1];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "{" || ch === "[") {
      const parent = top();
      const at = parent ? (parent.kind === "object" ? parent.key : parent.index) : null;
      stack.push({ kind: ch === "{" ? "object" : "array", at, key: null, index: 0, expectingKey: ch === "{", keys: new Set(), values: new Map() });
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) return null; // inside a string that is not a name
      let value: string;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        value = text.slice(i + 1, j);
      }
      const frame = top();
      if (frame?.kind === "object") {
        if (frame.expectingKey) {
          frame.key = value;
          frame.keys.add(value);
        } else if (frame.key !== null) frame.values.set(frame.key, value);
      }
      i = j;
    } else if (ch === ":") {
      const frame = top();
      if (frame?.kind === "object") frame.expectingKey = false;
    } else if (ch === ",") {
      const frame = top();
      if (frame?.kind === "object") {
        frame.expectingKey = true;
        frame.key = null;
      } else if (frame) frame.index++;
    }
  }
  const frame = top();
  if (!frame || frame.kind !== "object" || !frame.expectingKey) return null;
  return { path: stack.slice(1).map((f) => f.at!), keys: frame.keys, values: frame.values };
}

/** Property names of the object around the cursor, from the schema of its place in the document. */
export function jsonPropertyCompletion(schema: SchemaNode): CompletionSource {
  return (context: CompletionContext): CompletionResult | null => {
    // An opened quote where a property name goes (after "{", "," or at a line's start), the text typed after it.
    const opened = context.matchBefore(/(?:^|[{,])\s*"[^"\\\n]*$/);
    const quoted = opened ? { from: opened.from + opened.text.indexOf('"'), to: opened.to, text: opened.text.slice(opened.text.indexOf('"')) } : null;
    const bare = context.matchBefore(/[{,]\s*[A-Za-z0-9_]*$/);
    if (!quoted && !bare && !context.explicit) return null;
    // A quoted string is a property name only where a name is expected: after "{" or ",".
    if (quoted) {
      const before = context.state.sliceDoc(Math.max(0, quoted.from - 200), quoted.from).trimEnd();
      if (!/[{,]$/.test(before)) return null;
    }
    const where = objectAt(context.state.sliceDoc(0, quoted ? quoted.from : context.pos));
    if (!where) return null;
    let target: SchemaNode | undefined = schema;
    for (const key of where.path) target = childSchema(target, key);
    const present = where.keys;
    const typeValue = where.values.get("type");
    let candidates = branches(target).filter((b) => b.properties);
    const matching = candidates.filter((b) => (b.properties?.type as SchemaNode | undefined)?.const === typeValue);
    if (typeValue !== undefined && matching.length > 0) candidates = matching;
    const options = new Map<string, Completion>();
    for (const branch of candidates) {
      for (const [name, property] of Object.entries(branch.properties ?? {})) {
        if (present.has(name) || options.has(name) || property.not !== undefined) continue;
        const kind = property.const !== undefined ? JSON.stringify(property.const) : Array.isArray(property.enum) ? (property.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ") : String(property.type ?? "value");
        options.set(name, { label: name, type: "property", detail: kind, info: property.description ?? (branch.required?.includes(name) ? "required" : undefined), boost: branch.required?.includes(name) ? 1 : 0 });
      }
    }
    if (options.size === 0) return null;
    // Completion filters the options by the text from `from` to the cursor: start after the quote.
    const from = quoted ? quoted.from + 1 : context.pos - /[A-Za-z0-9_]*$/.exec(bare?.text ?? "")![0].length;
    const rest = context.state.sliceDoc(context.pos, context.pos + 200);
    const closing = quoted ? (/^[^"\n]*"/.exec(rest)?.[0].length ?? 0) : 0;
    const hasColon = /^\s*:/.test(rest.slice(closing));
    const open = quoted ? "" : '"';
    // The options are matched against the text from `from` to the cursor, so the result ends at the
    // cursor; accepting one also replaces the rest of the name and its closing quote.
    return {
      from,
      options: [...options.values()].map((option) => ({
        ...option,
        apply: (view: EditorView, _completion: Completion, start: number, end: number) => {
          const insert = hasColon ? `${open}${option.label}"` : `${open}${option.label}": `;
          view.dispatch({ changes: { from: start, to: end + closing, insert }, selection: { anchor: start + insert.length }, userEvent: "input.complete" });
        },
      })),
      validFor: quoted ? /^[^"\\\n]*$/ : /^[A-Za-z0-9_]*$/,
    };
  };
}
