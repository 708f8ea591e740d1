import { describe, expect, test } from "vitest";
import { parseJobDefinition } from "./definition.ts";
import { ParameterError, resolveParameters } from "./parameters.ts";

const definition = parseJobDefinition({
  name: "Parameters",
  parameters: {
    svc: "Spooler",
    retries: { type: "number", default: 3, min: 0, max: 10 },
    force: { type: "boolean", default: false },
    mode: { type: "enum", values: ["fast", "safe"], default: "safe" },
    host: { type: "string", required: true, pattern: "[a-z0-9-]+", max: 15 },
    password: { type: "secret", required: true },
    note: { type: "string", required: false },
  },
  steps: [{ type: "winrm.exec", target: "t", command: "x" }],
});

function issues(supplied: Record<string, unknown>): string[] {
  try {
    resolveParameters(definition, supplied);
  } catch (error) {
    if (error instanceof ParameterError) return error.issues.map((issue) => issue.message);
    throw error;
  }
  throw new Error("expected a ParameterError");
}

describe("resolveParameters", () => {
  test("applies defaults and keeps supplied values", () => {
    const resolved = resolveParameters(definition, { host: "web-01", password: "hunter2", retries: 5 });
    expect(resolved.values).toEqual({ svc: "Spooler", retries: 5, force: false, mode: "safe", host: "web-01", password: "hunter2" });
  });

  test("marks secret parameters and their values for masking", () => {
    const resolved = resolveParameters(definition, { host: "web-01", password: "hunter2" });
    expect([...resolved.secretNames]).toEqual(["password"]);
    expect(resolved.secretValues).toEqual(["hunter2"]);
  });

  test("coerces form-post strings where the meaning is unambiguous", () => {
    const resolved = resolveParameters(definition, { host: "web-01", password: "p", retries: " 7 ", force: "on", mode: "fast" });
    expect(resolved.values).toMatchObject({ retries: 7, force: true, mode: "fast" });
    expect(resolveParameters(definition, { host: "h", password: "p", force: "false" }).values.force).toBe(false);
    // An empty form field means "not given" for a typed parameter, so its default applies.
    expect(resolveParameters(definition, { host: "h", password: "p", retries: "", force: "" }).values).toMatchObject({ retries: 3, force: false });
  });

  test("does not guess: numbers-like and boolean-like text that is ambiguous is rejected", () => {
    expect(issues({ host: "h", password: "p", retries: "0x10", force: "maybe" })).toEqual([
      "retries must be a number",
      "force must be true or false",
    ]);
  });

  test("rejects unknown, missing and invalid values, naming each one", () => {
    expect(issues({ svc: 42, retries: 11, mode: "slow", host: "Not Valid!", extra: 1, other: "x" })).toEqual([
      "extra is not a parameter of this job",
      "other is not a parameter of this job",
      "svc must be a string",
      "retries must be at most 10",
      'mode must be one of "fast", "safe"',
      "host must match the pattern [a-z0-9-]+",
      "password is required",
    ]);
  });

  test("an empty string does not satisfy a required parameter", () => {
    expect(issues({ host: "h", password: "" })).toEqual(["password is required"]);
  });

  test("string length limits count characters", () => {
    expect(issues({ host: "a".repeat(16), password: "p" })).toEqual(["host must be at most 15 characters long"]);
  });

  test("never repeats a secret value or its pattern in a message", () => {
    const strict = parseJobDefinition({
      name: "Secret",
      parameters: { token: { type: "secret", pattern: "tok_[a-z]+" } },
      steps: [{ type: "winrm.exec", target: "t", command: "x" }],
    });
    let caught: unknown;
    try {
      resolveParameters(strict, { token: "hunter2-wrong" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ParameterError);
    const message = (caught as ParameterError).message;
    expect(message).toBe("Invalid parameters (1 problem):\n- token does not match the required pattern");
    expect(message).not.toContain("hunter2");
  });

  test("an optional parameter without a default is simply absent", () => {
    expect(resolveParameters(definition, { host: "h", password: "p" }).values).not.toHaveProperty("note");
  });
});
