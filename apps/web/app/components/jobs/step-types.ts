// What the builder's step forms are made from: each step type of core's registry and the JSON
// Schema of its own fields, so a step type added to the registry gets a form with no UI code.
// Browser-safe.
import { defaultStepTypes, type StepTypeRegistry } from "@opsconductor/core/schema";
import { z } from "zod";

/** How one field of a step type is edited. */
export type FieldControl =
  | { kind: "select"; options: string[] }
  | { kind: "switch" }
  | { kind: "number"; min?: number; max?: number; integer: boolean }
  | { kind: "text"; multiline: boolean; maxLength?: number };

/** One field of a step type's form. */
export interface StepField {
  name: string;
  label: string;
  control: FieldControl;
  required: boolean;
  default?: unknown;
  description?: string;
  /** Its text may hold `{{ name }}` placeholders. */
  template: boolean;
}

/** A step type as the builder offers it. */
export interface StepTypeForm {
  type: string;
  description?: string;
  requiresTarget: boolean;
  fields: StepField[];
}

interface JsonSchemaField {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  not?: unknown;
  /** A hint a step type may give with zod's `.meta({ multiline: true })`. */
  multiline?: boolean;
}

// Text that is a script or file content rather than a one-line value.
const MULTILINE_NAMES = new Set(["command", "script", "content"]);

/** "timeoutSec" → "Timeout sec", "continueOnError" → "Continue on error". */
export function labelOf(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function controlOf(name: string, schema: JsonSchemaField): FieldControl | null {
  if (schema.not !== undefined) return null; // a field the type only keeps in order to refuse it
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === "string")) return { kind: "select", options: schema.enum as string[] };
  if (schema.type === "boolean") return { kind: "switch" };
  if (schema.type === "integer" || schema.type === "number") return { kind: "number", min: schema.minimum, max: schema.maximum, integer: schema.type === "integer" };
  const multiline = schema.multiline === true || MULTILINE_NAMES.has(name) || (schema.maxLength ?? 0) > 10_000;
  return { kind: "text", multiline, maxLength: schema.maxLength };
}

/** The forms of a registry's step types (the built-in ones unless given). */
export function stepTypeForms(registry: StepTypeRegistry = defaultStepTypes): StepTypeForm[] {
  return registry.list().map((stepType) => {
    const schema = z.toJSONSchema(z.object(stepType.fields), { io: "input", unrepresentable: "any" }) as { properties?: Record<string, JsonSchemaField>; required?: string[] };
    const required = new Set(schema.required ?? []);
    const templates = new Set(stepType.templateFields ?? []);
    const fields: StepField[] = [];
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      const control = controlOf(name, field);
      if (!control) continue;
      fields.push({ name, label: labelOf(name), control, required: required.has(name), default: field.default, description: field.description, template: templates.has(name) });
    }
    return { type: stepType.type, description: stepType.description, requiresTarget: stepType.requiresTarget === true, fields };
  });
}

/** The language a step's script is highlighted as: its `shell` when it has one. */
export function scriptLanguage(step: Record<string, unknown>, field: StepField): "powershell" | "cmd" | "text" {
  if (field.name !== "command" && field.name !== "script") return "text";
  return step.shell === "cmd" ? "cmd" : "powershell";
}
