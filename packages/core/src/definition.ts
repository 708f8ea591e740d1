import * as z from "zod";
import { parameterTypes, type ParameterDeclaration, type ParameterType, type RunnableStep, type StepExecutor } from "./contracts.ts";
import { formatZodIssues, type ValidationIssue } from "./issues.ts";
import { listPlaceholders, InterpolationError } from "./interpolate.ts";
import { checkParameterValue } from "./parameters.ts";

const MAX_TIMEOUT_SEC = 86_400;
const timeoutMessage = `must be between 1 and ${MAX_TIMEOUT_SEC}`;
const parameterNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The full form of a parameter declaration, as written in a job definition. */
export const parameterDeclarationSchema = z
  .strictObject({
    type: z.enum(parameterTypes, { error: `must be one of ${parameterTypes.map((t) => `"${t}"`).join(", ")}` }),
    required: z.boolean().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    description: z.string().max(2000).optional(),
    pattern: z.string().min(1).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    values: z.array(z.string()).optional(),
  })
  .superRefine((decl, ctx) => {
    if (decl.type === "enum") {
      if (!decl.values || decl.values.length === 0) {
        ctx.addIssue({ code: "custom", path: ["values"], message: "must list the allowed values of an enum parameter" });
      } else if (new Set(decl.values).size !== decl.values.length) {
        ctx.addIssue({ code: "custom", path: ["values"], message: "must not repeat a value" });
      }
    } else if (decl.values !== undefined) {
      ctx.addIssue({ code: "custom", path: ["values"], message: 'is only allowed on parameters of type "enum"' });
    }
    if (decl.pattern !== undefined) {
      if (decl.type !== "string" && decl.type !== "secret") {
        ctx.addIssue({ code: "custom", path: ["pattern"], message: 'is only allowed on "string" and "secret" parameters' });
      } else {
        try {
          new RegExp(decl.pattern, "u");
        } catch {
          ctx.addIssue({ code: "custom", path: ["pattern"], message: "is not a valid regular expression" });
        }
      }
    }
    for (const bound of ["min", "max"] as const) {
      if (decl[bound] !== undefined && (decl.type === "boolean" || decl.type === "enum")) {
        ctx.addIssue({ code: "custom", path: [bound], message: `is not allowed on "${decl.type}" parameters` });
      }
    }
    if (decl.min !== undefined && decl.max !== undefined && decl.min > decl.max) {
      ctx.addIssue({ code: "custom", path: ["min"], message: "must not be greater than max" });
    }
    if (decl.default !== undefined) {
      if (decl.type === "secret") {
        ctx.addIssue({
          code: "custom",
          path: ["default"],
          message: "is not allowed on a secret parameter: supply the value when the job runs, so it is never stored in the definition",
        });
        return;
      }
      const problem = checkParameterValue(normaliseDeclaration(decl), decl.default);
      if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["default"], message: problem });
    }
  });

function normaliseDeclaration(decl: z.output<typeof parameterDeclarationSchema>): ParameterDeclaration {
  const out: ParameterDeclaration = { type: decl.type, required: decl.required ?? decl.default === undefined };
  if (decl.default !== undefined) out.default = decl.default;
  if (decl.description !== undefined) out.description = decl.description;
  if (decl.pattern !== undefined) out.pattern = decl.pattern;
  if (decl.min !== undefined) out.min = decl.min;
  if (decl.max !== undefined) out.max = decl.max;
  if (decl.values !== undefined) out.values = decl.values;
  return out;
}

/**
 * One parameter: either the original product's shorthand (the default value itself, e.g.
 * `"svc": "Spooler"`) or a full declaration.
 */
export const parameterSchema = z
  .union([z.string(), z.number(), z.boolean(), parameterDeclarationSchema], {
    error: 'must be a default value (text, a number, true or false) or a declaration such as { "type": "string" }',
  })
  .transform((value): ParameterDeclaration => {
    if (typeof value === "object") return normaliseDeclaration(value);
    const type: ParameterType = typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "string";
    return { type, required: false, default: value };
  });

/** Fields every step has, whatever its type. */
export const stepBaseShape = {
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1 to 64 letters, digits, '.', '_' or '-'")
    .optional(),
  name: z.string().min(1).max(200).optional(),
  target: z.string().min(1, "must name a target (its name or id)").optional(),
  timeoutSec: z
    .number({ error: `must be a whole number of seconds between 1 and ${MAX_TIMEOUT_SEC}` })
    .int("must be a whole number of seconds")
    .min(1, timeoutMessage)
    .max(MAX_TIMEOUT_SEC, timeoutMessage)
    .default(3600),
  continueOnError: z.boolean().default(false),
};

/** A step type: its name, its own fields, and optionally the executor that runs it. */
export interface StepType {
  /** The value of a step's `type` field, e.g. `"winrm.exec"`. */
  readonly type: string;
  readonly description?: string;
  /** The step's own fields (a zod object shape); the common fields are added for you. */
  readonly fields: z.ZodRawShape;
  /** Fields whose text may contain `{{ name }}` placeholders; definitions are checked for unknown names. */
  readonly templateFields?: readonly string[];
  /** Whether a step of this type must name a target. */
  readonly requiresTarget?: boolean;
  readonly executor?: StepExecutor;
}

/** Declares a step type for a registry (identity function that keeps the type checked). */
export function defineStepType<const T extends StepType>(stepType: T): T {
  return stepType;
}

/** The built-in `winrm.exec` step: runs a PowerShell script or a cmd command line on a Windows target. */
export const winrmExecStepType = defineStepType({
  type: "winrm.exec",
  description: "Runs a PowerShell script or a cmd.exe command on a Windows target over WinRM.",
  requiresTarget: true,
  templateFields: ["command"],
  fields: {
    shell: z.enum(["powershell", "cmd"], { error: 'must be "powershell" or "cmd"' }).default("powershell"),
    command: z.string().min(1, "must not be empty").max(1_000_000),
  },
});

const sha256Pattern = /^[0-9a-f]{64}$/;

/**
 * The built-in `winrm.copy` step: writes inline text or base64 bytes, or a named file, to a path on
 * the target. `file` is resolved by the executor's `openFile`; there is no local-path source.
 */
export const winrmCopyStepType = defineStepType({
  type: "winrm.copy",
  description: "Copies inline content (text or base64) or a named file to a path on a Windows target.",
  requiresTarget: true,
  templateFields: ["destination"],
  fields: {
    content: z.string().optional(),
    encoding: z.enum(["text", "base64"], { error: 'must be "text" or "base64"' }).default("text"),
    file: z.string().min(1, "must not be empty").max(1024, "must be at most 1024 characters long").optional(),
    // Kept only to refuse it with a message that says what to do instead (see LOCAL_SOURCE_MESSAGE).
    source: z.never({ error: () => LOCAL_SOURCE_MESSAGE }).optional(),
    sha256: z.string().regex(sha256Pattern, "must be 64 lower-case hexadecimal digits (a SHA-256 digest)").optional(),
    destination: z.string().min(1, "must not be empty"),
    overwrite: z.boolean().default(false),
  },
});

/** An ordered set of step types; `with()` returns a new registry that also knows the given types. */
export interface StepTypeRegistry {
  get(type: string): StepType | undefined;
  list(): readonly StepType[];
  /** Returns a new registry with these step types added (a same-named type replaces the old one). */
  with(...stepTypes: StepType[]): StepTypeRegistry;
  /** The executors of every registered type that has one, keyed by type. */
  executors(): Record<string, StepExecutor>;
}

/** Creates a step-type registry; without arguments it holds the built-in WinRM step types. */
export function createStepTypeRegistry(stepTypes: readonly StepType[] = [winrmExecStepType, winrmCopyStepType]): StepTypeRegistry {
  const byType = new Map<string, StepType>();
  for (const stepType of stepTypes) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(stepType.type)) {
      throw new TypeError(`Step type name "${stepType.type}" is invalid: use letters, digits, '.', '_' or '-', starting with a letter.`);
    }
    byType.set(stepType.type, stepType);
  }
  const list = Object.freeze([...byType.values()]);
  return Object.freeze({
    get: (type: string) => byType.get(type),
    list: () => list,
    with: (...more: StepType[]) => createStepTypeRegistry([...list, ...more]),
    executors: () => {
      const out: Record<string, StepExecutor> = {};
      for (const stepType of list) if (stepType.executor) out[stepType.type] = stepType.executor;
      return out;
    },
  });
}

/** The registry with the built-in step types, used when no other is given. */
export const defaultStepTypes: StepTypeRegistry = createStepTypeRegistry();

const requiredTarget = {
  target: z.string({ error: "must name a target (its name or id)" }).min(1, "must name a target (its name or id)"),
};

function stepSchemaFor(stepType: StepType) {
  const target = stepType.requiresTarget ? requiredTarget : {};
  return z.strictObject({ ...stepBaseShape, ...target, ...stepType.fields, type: z.literal(stepType.type) });
}

// The built-in step schemas, spelled out so their fields keep precise types in `JobDefinition`.
function builtinStepSchema<const T extends StepType>(stepType: T) {
  return z.strictObject({ ...stepBaseShape, ...requiredTarget, ...(stepType.fields as T["fields"]), type: z.literal(stepType.type as T["type"]) });
}

/** Builds the job definition schema for a registry of step types. */
export function createJobDefinitionSchema(registry: StepTypeRegistry = defaultStepTypes) {
  const stepSchemas = registry.list().map(stepSchemaFor);
  if (stepSchemas.length === 0) throw new TypeError("A step type registry must hold at least one step type.");
  const stepSchema = z.discriminatedUnion("type", stepSchemas as [ReturnType<typeof stepSchemaFor>, ...ReturnType<typeof stepSchemaFor>[]]);
  return definitionSchema(stepSchema, registry);
}

/** How a failed run is tried again: `limit` more attempts, `delaySec` apart (doubling when `backoff`). */
export const retryPolicySchema = z.strictObject({
  limit: z.number().int("must be a whole number").min(0, "must be between 0 and 10").max(10, "must be between 0 and 10"),
  delaySec: z.number().int("must be a whole number").min(1, "must be between 1 and 3600").max(3600, "must be between 1 and 3600").default(30),
  backoff: z.boolean().default(true),
});

/** A job's retry policy after defaults. */
export type RetryPolicy = z.output<typeof retryPolicySchema>;

function definitionSchema<S extends z.ZodType>(stepSchema: S, registry: StepTypeRegistry) {
  return z
    .strictObject({
      name: z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") }).trim().min(1, "must not be empty").max(200),
      version: z.number().int("must be a whole number").min(1, "must be 1 or greater").default(1),
      description: z.string().max(10_000).optional(),
      parameters: z
        .record(
          z.string().regex(parameterNamePattern, "is not a valid parameter name: use letters, digits and '_', starting with a letter or '_' (at most 64)"),
          parameterSchema,
        )
        .default({}),
      steps: z.array(stepSchema).min(1, "must have at least one step"),
      retries: retryPolicySchema.optional(),
    })
    // Runs even when other fields are invalid (`when`), so one parse reports every problem; the
    // value may then be partly unparsed, hence the defensive checks.
    .superRefine(
      (def, ctx) => {
        const parameters: Record<string, unknown> =
          def.parameters !== null && typeof def.parameters === "object" ? (def.parameters as Record<string, unknown>) : {};
        const steps: unknown[] = Array.isArray(def.steps) ? def.steps : [];
        const seenIds = new Map<string, number>();
        steps.forEach((step, index) => {
          if (step === null || typeof step !== "object") return;
          const s = step as Record<string, unknown>;
          if (typeof s.id === "string") {
            const first = seenIds.get(s.id);
            if (first !== undefined) {
              ctx.addIssue({ code: "custom", path: ["steps", index, "id"], message: `repeats the id of steps[${first}]` });
            } else seenIds.set(s.id, index);
          }
          if (s.type === "winrm.copy" && registry.get("winrm.copy") === winrmCopyStepType) {
            const hasContent = typeof s.content === "string";
            const hasFile = typeof s.file === "string";
            if (hasContent === hasFile && s.source === undefined) {
              ctx.addIssue({ code: "custom", path: ["steps", index], message: 'must have exactly one of "content" or "file"' });
            }
            if (hasContent && s.encoding === "base64" && !isBase64(s.content as string)) {
              ctx.addIssue({ code: "custom", path: ["steps", index, "content"], message: 'must be valid base64 when encoding is "base64"' });
            }
            if (hasContent && s.sha256 !== undefined) {
              ctx.addIssue({ code: "custom", path: ["steps", index, "sha256"], message: 'is only allowed with "file"' });
            }
          }
          const stepType = typeof s.type === "string" ? registry.get(s.type) : undefined;
          for (const field of stepType?.templateFields ?? []) {
            const template = s[field];
            if (typeof template !== "string") continue;
            try {
              for (const placeholder of listPlaceholders(template)) {
                if (!Object.hasOwn(parameters, placeholder.name)) {
                  ctx.addIssue({
                    code: "custom",
                    path: ["steps", index, field],
                    message: `uses {{ ${placeholder.name} }}, but the job declares no parameter "${placeholder.name}"`,
                  });
                }
              }
            } catch (error) {
              if (!(error instanceof InterpolationError)) throw error;
              ctx.addIssue({ code: "custom", path: ["steps", index, field], message: `is not a valid template: ${error.message}` });
            }
          }
        });
      },
      { when: () => true },
    );
}

// Local paths were removed on purpose: a path read by the worker could be any of its files
// (/proc/self/environ holds its keys).
const LOCAL_SOURCE_MESSAGE = 'is a local path, which is not accepted: name an uploaded file in "file", or give inline "content"';

function isBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, "");
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

/** The zod schema of a job definition with the built-in step types. */
export const jobDefinitionSchema = definitionSchema(
  z.discriminatedUnion("type", [builtinStepSchema(winrmExecStepType), builtinStepSchema(winrmCopyStepType)]),
  defaultStepTypes,
);

/** A job definition as written (before defaults are applied). */
export type JobDefinitionInput = z.input<typeof jobDefinitionSchema>;
/** A parsed job definition: defaults applied, parameters in their full form. */
export type JobDefinition = z.output<typeof jobDefinitionSchema>;
/** A parsed step of any built-in type. */
export type JobStep = JobDefinition["steps"][number];
/** A parsed `winrm.exec` step. */
export type WinRMExecStep = Extract<JobStep, { type: "winrm.exec" }>;
/** A parsed `winrm.copy` step. */
export type WinRMCopyStep = Extract<JobStep, { type: "winrm.copy" }>;
/** A parsed job definition whose steps may be of embedder-defined types. */
export type CustomJobDefinition = Omit<JobDefinition, "steps"> & { steps: RunnableStep[] };

/** Thrown by `parseJobDefinition`; `issues` lists every problem with its path. */
export class JobDefinitionError extends Error {
  override readonly name = "JobDefinitionError";
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    const lines = issues.map((issue) => `- ${issue.message}`).join("\n");
    super(`The job definition is invalid (${issues.length} ${issues.length === 1 ? "problem" : "problems"}):\n${lines}`);
    this.issues = issues;
  }
}

/** Options for `parseJobDefinition`. */
export interface ParseJobDefinitionOptions {
  /** The step types the definition may use; defaults to the built-in ones. */
  stepTypes?: StepTypeRegistry;
}

const schemaCache = new WeakMap<StepTypeRegistry, z.ZodType>();

function schemaFor(registry: StepTypeRegistry): z.ZodType {
  if (registry === defaultStepTypes) return jobDefinitionSchema;
  let schema = schemaCache.get(registry);
  if (!schema) {
    schema = createJobDefinitionSchema(registry);
    schemaCache.set(registry, schema);
  }
  return schema;
}

/** Validates a job definition and applies its defaults; throws `JobDefinitionError` listing every problem. */
export function parseJobDefinition(input: unknown): JobDefinition;
/** Validates a job definition that may use the step types of `options.stepTypes`. */
export function parseJobDefinition(input: unknown, options: ParseJobDefinitionOptions): CustomJobDefinition;
export function parseJobDefinition(input: unknown, options: ParseJobDefinitionOptions = {}): JobDefinition | CustomJobDefinition {
  const result = schemaFor(options.stepTypes ?? defaultStepTypes).safeParse(input);
  if (!result.success) throw new JobDefinitionError(formatZodIssues(result.error.issues, "The job definition"));
  return result.data as JobDefinition | CustomJobDefinition;
}

/** The JSON Schema (draft 2020-12) of a job definition as written, for editors and OpenAPI. */
export function jobDefinitionJsonSchema(options: ParseJobDefinitionOptions = {}): Record<string, unknown> {
  return z.toJSONSchema(schemaFor(options.stepTypes ?? defaultStepTypes), { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
