// The job editor's model without a browser: a definition survives builder ↔ JSON untouched (fields
// the builder has no control for included), problems are located at their line, and a step type
// added to core's registry gets its form from its field schema alone.
import { createStepTypeRegistry, defineStepType, winrmCopyStepType, winrmExecStepType } from "@opsconductor/core/schema";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { draftConflict, fromDraft, jsonSpans, lineAt, moveItem, parameterView, spanOf, splitPath, toDraft, toJsonText, validateDefinition, withParameterField } from "../app/components/jobs/definition-model.ts";
import { stepTypeForms } from "../app/components/jobs/step-types.ts";

const sample = {
  name: "Restart spooler",
  version: 3,
  description: "Restarts a service",
  parameters: { svc: "Spooler", force: { type: "boolean", default: false } },
  steps: [{ type: "winrm.exec", target: "srv-1", command: "Restart-Service {{ svc }}", futureField: { kept: true } }],
  retries: { limit: 2 },
};

describe("the editor's draft", () => {
  test("turns back into the same definition, in the same field order, unknown fields included", () => {
    const made = toDraft(sample);
    if (!("draft" in made)) throw new Error(made.error);
    expect(toJsonText(fromDraft(made.draft))).toBe(toJsonText(sample));
    expect(made.draft.parameters.map((p) => p.name)).toEqual(["svc", "force"]);
  });

  test("refuses what the builder cannot show, and two parameters of one name", () => {
    expect(toDraft([1, 2])).toEqual({ error: expect.stringContaining("must be a JSON object") });
    expect(toDraft({ name: "x", steps: "nope" })).toEqual({ error: expect.stringContaining("“steps” must be a list of objects") });
    expect(toDraft({ name: "x", parameters: [], steps: [] })).toEqual({ error: expect.stringContaining("“parameters” must be an object") });
    const made = toDraft(sample);
    if (!("draft" in made)) throw new Error(made.error);
    const clash = { ...made.draft, parameters: made.draft.parameters.map((p) => ({ ...p, name: "svc" })) };
    expect(draftConflict(clash)?.message).toBe("Two parameters are named “svc”: rename one.");
    expect(draftConflict(made.draft)).toBeNull();
  });

  test("reads a shorthand parameter as a declaration and writes the full form once it is edited", () => {
    expect(parameterView("Spooler")).toEqual({ type: "string", default: "Spooler" });
    expect(parameterView(3)).toEqual({ type: "number", default: 3 });
    expect(withParameterField("Spooler", "description", "The service")).toEqual({ type: "string", default: "Spooler", description: "The service" });
    expect(withParameterField({ type: "string", pattern: "x" }, "pattern", undefined)).toEqual({ type: "string" });
    expect(moveItem(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(moveItem(["a", "b"], 0, 5)).toEqual(["a", "b"]);
  });
});

describe("problems in the JSON view", () => {
  test("are core's own, each at the line of the field it concerns (a missing field at its object)", () => {
    const text = toJsonText({ name: "x", steps: [{ type: "winrm.exec", target: "srv-1", command: "{{ nope }}", timeoutSec: 0 }, { type: "winrm.exec", command: "hostname" }] });
    const problems = validateDefinition(JSON.parse(text));
    const spans = jsonSpans(text);
    const located = problems.map((p) => `${lineAt(text, spanOf(spans, p.path).from)} ${p.path}: ${p.message}`).sort();
    expect(located).toEqual([
      "10 steps[1].target: Must name a target (its name or id).",
      '7 steps[0].command: Uses {{ nope }}, but the job declares no parameter "nope".',
      "8 steps[0].timeoutSec: Must be between 1 and 86400.",
    ]);
  });

  test("paths as core writes them split into keys and indexes", () => {
    expect(splitPath("steps[0].command")).toEqual(["steps", 0, "command"]);
    expect(splitPath('parameters["a-b"].default')).toEqual(["parameters", "a-b", "default"]);
    expect(splitPath("")).toEqual([]);
  });
});

describe("step forms", () => {
  test("are generated from each registered step type's field schema", () => {
    const forms = stepTypeForms();
    const exec = forms.find((f) => f.type === "winrm.exec")!;
    expect(exec.requiresTarget).toBe(true);
    expect(exec.fields.map((f) => [f.name, f.control.kind, f.template])).toEqual([
      ["shell", "select", false],
      ["command", "text", true],
    ]);
    expect(exec.fields[1]!.control).toMatchObject({ kind: "text", multiline: true });
    const copy = forms.find((f) => f.type === "winrm.copy")!;
    // `source` exists only to be refused: it gets no control.
    expect(copy.fields.map((f) => f.name)).toEqual(["content", "encoding", "file", "sha256", "destination", "overwrite"]);
    expect(copy.fields.find((f) => f.name === "overwrite")!.control.kind).toBe("switch");
  });

  test("a step type an embedder adds gets a form without any UI code", () => {
    const http = defineStepType({
      type: "http.request",
      description: "Calls a URL.",
      templateFields: ["url"],
      fields: { url: z.string().min(1), method: z.enum(["GET", "POST"]).default("GET"), attempts: z.number().int().min(1).max(5).default(1), verbose: z.boolean().default(false), body: z.string().max(100_000).optional() },
    });
    const forms = stepTypeForms(createStepTypeRegistry([winrmExecStepType, winrmCopyStepType, http]));
    const form = forms.find((f) => f.type === "http.request")!;
    expect(form).toMatchObject({ description: "Calls a URL.", requiresTarget: false });
    expect(form.fields.map((f) => ({ name: f.name, label: f.label, kind: f.control.kind, required: f.required, template: f.template }))).toEqual([
      { name: "url", label: "Url", kind: "text", required: true, template: true },
      { name: "method", label: "Method", kind: "select", required: false, template: false },
      { name: "attempts", label: "Attempts", kind: "number", required: false, template: false },
      { name: "verbose", label: "Verbose", kind: "switch", required: false, template: false },
      { name: "body", label: "Body", kind: "text", required: false, template: false },
    ]);
    expect(form.fields.find((f) => f.name === "attempts")!.control).toEqual({ kind: "number", min: 1, max: 5, integer: true });
    expect(form.fields.find((f) => f.name === "body")!.control).toMatchObject({ multiline: true });
  });
});

describe("property names in the JSON view", () => {
  test("are offered from the schema of the place the cursor is at, without those already there", async () => {
    const { CompletionContext } = await import("@codemirror/autocomplete");
    const { json } = await import("@codemirror/lang-json");
    const { EditorState } = await import("@codemirror/state");
    const { jobDefinitionJsonSchema } = await import("@opsconductor/core/schema");
    const { jsonPropertyCompletion } = await import("../app/components/jobs/json-completion.ts");
    const source = jsonPropertyCompletion(jobDefinitionJsonSchema() as never);
    const offered = async (text: string, explicit = true) => {
      const pos = text.indexOf("|");
      const doc = text.replace("|", "");
      const state = EditorState.create({ doc, extensions: [json()] });
      const result = await source(new CompletionContext(state, pos, explicit));
      return result ? { labels: result.options.map((o) => o.label).sort(), from: result.from, to: result.to ?? pos } : null;
    };
    const inStep = await offered('{\n  "name": "x",\n  "steps": [\n    {\n      "type": "winrm.exec",\n      "|"');
    expect(inStep?.labels).toEqual(["command", "continueOnError", "id", "name", "shell", "target", "timeoutSec"]);
    // Options are matched against the text after the quote, up to the cursor.
    expect(inStep && [inStep.from, inStep.to]).toEqual([71, 71]);
    const copy = await offered('{ "steps": [ { "type": "winrm.copy", "target": "a", "|" } ] }');
    expect(copy?.labels).toEqual(expect.arrayContaining(["destination", "content", "overwrite"]));
    expect(copy?.labels).not.toContain("target");
    expect(copy?.labels).not.toContain("source");
    const top = await offered('{ "name": "x", | }');
    expect(top?.labels).toEqual(["description", "parameters", "retries", "steps", "version"]);
    // A string value is not a property name.
    expect(await offered('{ "name": "|" }', false)).toBeNull();
  });
});
