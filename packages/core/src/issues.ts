import type * as z from "zod";

/** One validation problem: where it is (JSON path such as `steps[0].timeoutSec`) and a sentence a person understands. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Formats a property path the way people write it in JavaScript: `steps[0].timeoutSec`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else {
      const name = String(key);
      if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) out += out === "" ? name : `.${name}`;
      else out += `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

const typeNames: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  record: "an object",
};

function describeValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

// Messages written in our schemas are predicates ("must be between 1 and 86400") and start in
// lower case; zod's own defaults ("Invalid input: ...", "Too big: ...") start with a capital.
function isOwnPredicate(message: string): boolean {
  return /^[a-z]/.test(message);
}

function predicate(issue: z.core.$ZodIssue): string {
  if (isOwnPredicate(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      if (/received undefined$/.test(issue.message)) return "is required";
      return `must be ${typeNames[issue.expected] ?? issue.expected}`;
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") return min <= 1 ? "must not be empty" : `must be at least ${min} characters long`;
      if (issue.origin === "array") return min <= 1 ? "must have at least one entry" : `must have at least ${min} entries`;
      return issue.inclusive ? `must be at least ${min}` : `must be greater than ${min}`;
    }
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "string") return `must be at most ${max} characters long`;
      if (issue.origin === "array") return `must have at most ${max} entries`;
      return issue.inclusive ? `must be at most ${max}` : `must be less than ${max}`;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${describeValue(issue.values[0])}`
        : `must be one of ${issue.values.map(describeValue).join(", ")}`;
    case "unrecognized_keys":
      return issue.keys.length === 1
        ? `has an unknown field "${issue.keys[0]}"`
        : `has unknown fields ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_format":
      return `must be a valid ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "invalid_union":
      if ((issue as { discriminator?: string }).discriminator !== undefined) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return `must be one of ${options.map(describeValue).join(", ")}`;
      }
      return "has an invalid value";
    case "invalid_key": {
      // Record keys are checked by their own schema, whose message says what a valid key is.
      const inner = issue.issues[0];
      return inner && isOwnPredicate(inner.message) ? inner.message : "has an invalid key";
    }
    case "invalid_element":
      return "has an invalid entry";
    default:
      return issue.message;
  }
}

function collect(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[], out: ValidationIssue[], root: string): void {
  const path = [...prefix, ...issue.path];
  // A union of "shorthand value or declaration object" fails on every branch; report the branch
  // the input was evidently aiming for instead of "Invalid input".
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const meaningful = issue.errors.filter(
      (branch) => !branch.every((sub) => sub.code === "invalid_type" && sub.path.length === 0),
    );
    if (meaningful.length === 1) {
      for (const sub of meaningful[0]!) collect(sub, path, out, root);
      return;
    }
  }
  const where = formatPath(path);
  const text = predicate(issue);
  out.push({ path: where, message: `${where === "" ? root : where} ${text}` });
}

/**
 * Turns zod issues into `{ path, message }` pairs with whole sentences, e.g.
 * `{ path: "steps[0].timeoutSec", message: "steps[0].timeoutSec must be between 1 and 86400" }`;
 * `root` names the whole value in problems that concern it rather than one field.
 */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], root = "The value"): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) collect(issue, [], out, root);
  return out;
}
