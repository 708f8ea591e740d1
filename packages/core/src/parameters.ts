import type { ParameterDeclaration, ParameterValue, RunnableDefinition } from "./contracts.ts";
import type { ValidationIssue } from "./issues.ts";

/** Parameters ready for interpolation, with the names of the secret ones so later stages can mask them. */
export interface ResolvedParameters {
  values: Record<string, ParameterValue>;
  /** Names of parameters declared `secret`; their values must never be shown. */
  secretNames: ReadonlySet<string>;
  /** The values of secret parameters, for the secret masker. */
  secretValues: readonly string[];
}

/** Thrown by `resolveParameters`; `issues` names every unknown, missing and invalid parameter. */
export class ParameterError extends Error {
  override readonly name = "ParameterError";
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(`Invalid parameters (${issues.length} ${issues.length === 1 ? "problem" : "problems"}):\n${issues.map((i) => `- ${i.message}`).join("\n")}`);
    this.issues = issues;
  }
}

function lengthRule(decl: ParameterDeclaration, value: string): string | undefined {
  const length = [...value].length;
  if (decl.min !== undefined && length < decl.min) return `must be at least ${decl.min} characters long`;
  if (decl.max !== undefined && length > decl.max) return `must be at most ${decl.max} characters long`;
  return undefined;
}

/**
 * Checks a value against a declaration and returns a predicate sentence ("must be ...") when it
 * does not fit. Secret values never appear in the sentence.
 */
export function checkParameterValue(decl: ParameterDeclaration, value: unknown): string | undefined {
  switch (decl.type) {
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return "must be a number";
      if (decl.min !== undefined && value < decl.min) return `must be at least ${decl.min}`;
      if (decl.max !== undefined && value > decl.max) return `must be at most ${decl.max}`;
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "enum":
      if (typeof value !== "string" || !decl.values?.includes(value)) {
        return `must be one of ${(decl.values ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
      }
      return undefined;
    case "string":
    case "secret": {
      if (typeof value !== "string") return "must be a string";
      const length = lengthRule(decl, value);
      if (length) return length;
      // A pattern must match the whole value, not a part of it.
      if (decl.pattern !== undefined && !new RegExp(`^(?:${decl.pattern})$`, "u").test(value)) {
        return decl.type === "secret" ? "does not match the required pattern" : `must match the pattern ${decl.pattern}`;
      }
      return undefined;
    }
  }
}

const numberText = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const trueWords = new Set(["true", "on", "yes", "1"]);
const falseWords = new Set(["false", "off", "no", "0"]);

// Form posts deliver every value as text. Convert only where the text can mean exactly one thing.
function coerce(decl: ParameterDeclaration, value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (decl.type === "number") {
    const text = value.trim();
    return numberText.test(text) ? Number(text) : value;
  }
  if (decl.type === "boolean") {
    const word = value.trim().toLowerCase();
    if (trueWords.has(word)) return true;
    if (falseWords.has(word)) return false;
  }
  return value;
}

function isBlank(decl: ParameterDeclaration, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  // An empty form field means "not given" where an empty string could never be a valid value.
  return value === "" && (decl.type === "number" || decl.type === "boolean" || decl.type === "enum");
}

/**
 * Applies defaults, coerces form-post strings where that is unambiguous, and rejects unknown,
 * missing and invalid values, naming each one. Throws `ParameterError`.
 */
export function resolveParameters(
  definition: Pick<RunnableDefinition, "parameters">,
  supplied: Readonly<Record<string, unknown>> = {},
): ResolvedParameters {
  const issues: ValidationIssue[] = [];
  const values: Record<string, ParameterValue> = {};
  const secretNames = new Set<string>();
  const secretValues: string[] = [];
  const declared = definition.parameters;

  for (const name of Object.keys(supplied)) {
    if (!Object.hasOwn(declared, name)) {
      issues.push({ path: name, message: `${name} is not a parameter of this job` });
    }
  }
  for (const [name, decl] of Object.entries(declared)) {
    if (decl.type === "secret") secretNames.add(name);
    const given = Object.hasOwn(supplied, name) ? supplied[name] : undefined;
    if (isBlank(decl, given)) {
      if (decl.default !== undefined) values[name] = decl.default;
      else if (decl.required) issues.push({ path: name, message: `${name} is required` });
      continue;
    }
    if (decl.required && given === "") {
      issues.push({ path: name, message: `${name} is required` });
      continue;
    }
    const value = coerce(decl, given);
    const problem = checkParameterValue(decl, value);
    if (problem !== undefined) {
      issues.push({ path: name, message: `${name} ${problem}` });
      continue;
    }
    values[name] = value as ParameterValue;
    if (decl.type === "secret" && typeof value === "string" && value !== "") secretValues.push(value);
  }
  if (issues.length > 0) throw new ParameterError(issues);
  return { values, secretNames, secretValues };
}
