import { describe, expect, expectTypeOf, test } from "vitest";
import * as z from "zod";
import {
  createStepTypeRegistry,
  defineStepType,
  jobDefinitionJsonSchema,
  jobDefinitionSchema,
  JobDefinitionError,
  parseJobDefinition,
  type CustomJobDefinition,
  type JobDefinition,
  type WinRMCopyStep,
  type WinRMExecStep,
} from "./definition.ts";
import type { ParameterDeclaration } from "./contracts.ts";
import { interpolate } from "./interpolate.ts";

const sample = {
  name: "Sample Windows Service Restart",
  version: 1,
  parameters: { svc: "Spooler" },
  steps: [
    {
      type: "winrm.exec",
      shell: "powershell",
      target: "sample-windows-server",
      command: "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status",
      timeoutSec: 90,
    },
  ],
};

function problems(input: unknown): string[] {
  try {
    parseJobDefinition(input);
  } catch (error) {
    if (error instanceof JobDefinitionError) return error.issues.map((issue) => issue.message);
    throw error;
  }
  throw new Error("expected a JobDefinitionError");
}

describe("parseJobDefinition", () => {
  test("the issue's sample parses unchanged and interpolates safely", () => {
    const input = JSON.parse(JSON.stringify(sample)) as unknown;
    const definition = parseJobDefinition(input);
    expect(input).toEqual(sample);
    expect(definition.parameters).toEqual({ svc: { type: "string", required: false, default: "Spooler" } });
    const step = definition.steps[0]!;
    expect(step).toMatchObject({ type: "winrm.exec", shell: "powershell", target: "sample-windows-server", timeoutSec: 90, continueOnError: false });
    if (step.type !== "winrm.exec") throw new Error("expected a winrm.exec step");
    expect(interpolate(step.command, { svc: "Spooler" }, { shell: step.shell })).toBe(
      "Restart-Service 'Spooler'; (Get-Service 'Spooler').Status",
    );
  });

  test("defaults are applied: version 1, no parameters, 3600 s timeout, powershell, no overwrite", () => {
    const definition = parseJobDefinition({
      name: "Defaults",
      steps: [
        { type: "winrm.exec", target: "web-01", command: "hostname" },
        { type: "winrm.copy", target: "web-01", content: "hello", destination: "C:\\hello.txt" },
      ],
    });
    expect(definition.version).toBe(1);
    expect(definition.parameters).toEqual({});
    expect(definition.steps[0]).toMatchObject({ shell: "powershell", timeoutSec: 3600, continueOnError: false });
    expect(definition.steps[1]).toMatchObject({ encoding: "text", overwrite: false });
  });

  test("full parameter declarations of every type are accepted", () => {
    const definition = parseJobDefinition({
      name: "Typed",
      parameters: {
        svc: { type: "string", required: true, pattern: "[A-Za-z]+", description: "Service name" },
        retries: { type: "number", default: 3, min: 0, max: 10 },
        force: { type: "boolean", default: false },
        mode: { type: "enum", values: ["fast", "safe"], default: "safe" },
        token: { type: "secret" },
      },
      steps: [{ type: "winrm.exec", target: "t", command: "Do-It {{ svc }} {{ retries }} {{ force }} {{ mode }} {{ token }}" }],
    });
    expect(definition.parameters.svc).toEqual({ type: "string", required: true, pattern: "[A-Za-z]+", description: "Service name" });
    expect(definition.parameters.retries).toEqual({ type: "number", required: false, default: 3, min: 0, max: 10 });
    expect(definition.parameters.token).toEqual({ type: "secret", required: true });
    expectTypeOf(definition.parameters.svc!).toEqualTypeOf<ParameterDeclaration>();
  });

  test("every problem is reported at once, each with its path and a sentence", () => {
    const messages = problems({
      name: "",
      version: 0,
      parameters: { svc: { type: "strin" }, "bad-name": "x", n: { type: "number", min: 5, max: 1, default: "x" } },
      steps: [
        { type: "winrm.exec", shell: "bash", command: "x {{ nope }}", timeoutSec: 0, extra: 1 },
        { type: "nope" },
        { type: "winrm.copy", target: "t", destination: "C:\\x" },
        { type: "winrm.exec", target: "t", command: "{{ svc | upper }}", timeoutSec: 90_000 },
      ],
    });
    expect(messages).toEqual(
      expect.arrayContaining([
        "name must not be empty",
        "version must be 1 or greater",
        'parameters.svc.type must be one of "string", "number", "boolean", "enum", "secret"',
        "parameters[\"bad-name\"] is not a valid parameter name: use letters, digits and '_', starting with a letter or '_' (at most 64)",
        "parameters.n.min must not be greater than max",
        "parameters.n.default must be a number",
        "steps[0].target must name a target (its name or id)",
        "steps[0].timeoutSec must be between 1 and 86400",
        'steps[0].shell must be "powershell" or "cmd"',
        'steps[0] has an unknown field "extra"',
        'steps[0].command uses {{ nope }}, but the job declares no parameter "nope"',
        'steps[1].type must be one of "winrm.exec", "winrm.copy"',
        'steps[2] must have exactly one of "content" or "file"',
        "steps[3].timeoutSec must be between 1 and 86400",
        expect.stringMatching(/^steps\[3\]\.command is not a valid template: .*unknown filter "upper"/),
      ]),
    );
    expect(messages).toHaveLength(15);
  });

  test("the error message lists the problems and the error carries paths", () => {
    let caught: unknown;
    try {
      parseJobDefinition({ name: "x", steps: [{ type: "winrm.exec", target: "t", command: "x", timeoutSec: 1.5 }] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(JobDefinitionError);
    const error = caught as JobDefinitionError;
    expect(error.issues).toEqual([{ path: "steps[0].timeoutSec", message: "steps[0].timeoutSec must be a whole number of seconds" }]);
    expect(error.message).toBe("The job definition is invalid (1 problem):\n- steps[0].timeoutSec must be a whole number of seconds");
  });

  test.each([
    ["a non-object", "hello", "The job definition must be an object"],
    ["no steps", { name: "x", steps: [] }, "steps must have at least one step"],
    ["a parameter that is neither a default nor a declaration", { name: "x", parameters: { p: null }, steps: [{ type: "winrm.exec", target: "t", command: "x" }] }, 'parameters.p must be a default value (text, a number, true or false) or a declaration such as { "type": "string" }'],
    ["a missing name", { steps: [{ type: "winrm.exec", target: "t", command: "x" }] }, "name is required"],
    ["a secret default", { name: "x", parameters: { p: { type: "secret", default: "hunter2" } }, steps: [{ type: "winrm.exec", target: "t", command: "x" }] }, "parameters.p.default is not allowed on a secret parameter"],
    ["an enum without values", { name: "x", parameters: { p: { type: "enum" } }, steps: [{ type: "winrm.exec", target: "t", command: "x" }] }, "parameters.p.values must list the allowed values of an enum parameter"],
    ["an invalid pattern", { name: "x", parameters: { p: { type: "string", pattern: "(" } }, steps: [{ type: "winrm.exec", target: "t", command: "x" }] }, "parameters.p.pattern is not a valid regular expression"],
    ["a default outside the enum", { name: "x", parameters: { p: { type: "enum", values: ["a"], default: "b" } }, steps: [{ type: "winrm.exec", target: "t", command: "x" }] }, 'parameters.p.default must be one of "a"'],
    ["a repeated step id", { name: "x", steps: [{ id: "a", type: "winrm.exec", target: "t", command: "x" }, { id: "a", type: "winrm.exec", target: "t", command: "y" }] }, "steps[1].id repeats the id of steps[0]"],
    ["bad base64 content", { name: "x", steps: [{ type: "winrm.copy", target: "t", content: "not base64!", encoding: "base64", destination: "C:\\x" }] }, 'steps[0].content must be valid base64 when encoding is "base64"'],
    ["a local source path", { name: "x", steps: [{ type: "winrm.copy", target: "t", source: "/proc/self/environ", destination: "C:\\x" }] }, 'steps[0].source is a local path, which is not accepted: name an uploaded file in "file", or give inline "content"'],
    ["a local source path next to content", { name: "x", steps: [{ type: "winrm.copy", target: "t", source: "/etc/passwd", content: "x", destination: "C:\\x" }] }, "steps[0].source is a local path, which is not accepted"],
    ["both content and file", { name: "x", steps: [{ type: "winrm.copy", target: "t", file: "tool.exe", content: "x", destination: "C:\\x" }] }, 'steps[0] must have exactly one of "content" or "file"'],
    ["a digest that is not SHA-256", { name: "x", steps: [{ type: "winrm.copy", target: "t", file: "tool.exe", sha256: "abc", destination: "C:\\x" }] }, "steps[0].sha256 must be 64 lower-case hexadecimal digits"],
    ["a digest with inline content", { name: "x", steps: [{ type: "winrm.copy", target: "t", content: "x", sha256: "a".repeat(64), destination: "C:\\x" }] }, 'steps[0].sha256 is only allowed with "file"'],
  ])("rejects %s", (_, input, message) => {
    expect(problems(input)).toEqual([expect.stringContaining(message)]);
  });

  test("step types can be added by embedders, with their own fields and executor", async () => {
    const httpStep = defineStepType({
      type: "http.get",
      fields: { url: z.string().regex(/^https?:\/\//, "must start with http:// or https://") },
      templateFields: ["url"],
      executor: async () => ({ exitCode: 0 }),
    });
    const stepTypes = createStepTypeRegistry().with(httpStep);
    const definition = parseJobDefinition(
      { name: "Ping", parameters: { host: "example.org" }, steps: [{ type: "http.get", url: "https://{{ host }}/" }, { type: "winrm.exec", target: "t", command: "x" }] },
      { stepTypes },
    );
    expect(definition.steps[0]).toMatchObject({ type: "http.get", url: "https://{{ host }}/", timeoutSec: 3600 });
    expect(Object.keys(stepTypes.executors())).toEqual(["http.get"]);
    expect(() => parseJobDefinition({ name: "Ping", steps: [{ type: "http.get", url: "nope" }] }, { stepTypes })).toThrow("steps[0].url must start with http:// or https://");
    // The built-in registry does not know the new type.
    expect(problems({ name: "Ping", steps: [{ type: "http.get", url: "https://x/" }] })).toEqual([
      'steps[0].type must be one of "winrm.exec", "winrm.copy"',
    ]);
  });

  test("a step type name must be usable in JSON", () => {
    expect(() => createStepTypeRegistry([defineStepType({ type: "no spaces", fields: {} })])).toThrow(/Step type name "no spaces" is invalid/);
  });

  test("the schema is a zod schema usable on its own", () => {
    expect(jobDefinitionSchema.safeParse(sample).success).toBe(true);
  });

  test("parsed definitions are precisely typed", () => {
    expectTypeOf<JobDefinition["name"]>().toEqualTypeOf<string>();
    expectTypeOf<WinRMExecStep["shell"]>().toEqualTypeOf<"powershell" | "cmd">();
    expectTypeOf<WinRMExecStep["target"]>().toEqualTypeOf<string>();
    expectTypeOf<WinRMCopyStep["encoding"]>().toEqualTypeOf<"text" | "base64">();
    expectTypeOf(parseJobDefinition(sample)).toEqualTypeOf<JobDefinition>();
    expectTypeOf(parseJobDefinition(sample, { stepTypes: createStepTypeRegistry() })).toEqualTypeOf<CustomJobDefinition>();
  });
});

describe("jobDefinitionJsonSchema", () => {
  test("describes the definition as written, for editors and OpenAPI", () => {
    const schema = jobDefinitionJsonSchema() as {
      $schema: string;
      required: string[];
      properties: { steps: { items: { oneOf: { properties: { type: { const: string }; timeoutSec: unknown } }[] } } };
    };
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required).toEqual(["name", "steps"]);
    const steps = schema.properties.steps.items.oneOf;
    expect(steps.map((step) => step.properties.type.const)).toEqual(["winrm.exec", "winrm.copy"]);
    expect(steps[0]!.properties.timeoutSec).toEqual({ default: 3600, type: "integer", minimum: 1, maximum: 86400 });
  });

  test("includes embedder step types", () => {
    const stepTypes = createStepTypeRegistry().with(defineStepType({ type: "custom.noop", fields: {} }));
    expect(JSON.stringify(jobDefinitionJsonSchema({ stepTypes }))).toContain('"const":"custom.noop"');
  });
});

test("a job may declare how failed runs are retried, within bounds", () => {
  const base = { name: "retrying", steps: [{ type: "winrm.exec", target: "t", command: "hostname" }] };
  expect(parseJobDefinition({ ...base, retries: { limit: 2 } }).retries).toEqual({ limit: 2, delaySec: 30, backoff: true });
  expect(parseJobDefinition(base).retries).toBeUndefined();
  expect(() => parseJobDefinition({ ...base, retries: { limit: 11, delaySec: 0 } })).toThrow(/retries\.limit must be between 0 and 10[\s\S]*retries\.delaySec must be between 1 and 3600/);
});
