import type { Credential, OutputStream, RunnableDefinition, RunnableStep, RunResources, StepExecutor, StepOutcome, Target } from "./contracts.ts";
import { interpolate } from "./interpolate.ts";
import { createSecretMasker, type SecretMaskStream } from "./masker.ts";
import { resolveParameters } from "./parameters.ts";

/** How a step ended. */
export type StepStatus = "succeeded" | "failed" | "timed_out" | "canceled" | "skipped";
/** How a run ended. */
export type RunStatus = "succeeded" | "failed" | "timed_out" | "canceled";

interface EventBase {
  /** 1, 2, 3...: the order events were produced in. */
  seq: number;
  /** ISO 8601 time. */
  at: string;
}

/** Everything a run reports, in order; secrets are already masked. */
export type RunEvent =
  | (EventBase & { type: "run.started"; job: { name: string; version: number }; stepCount: number })
  | (EventBase & { type: "step.started"; stepIndex: number; stepId: string | null; stepName: string; stepType: string; target: string | null })
  | (EventBase & { type: "step.output"; stepIndex: number; stream: OutputStream; text: string })
  | (EventBase & {
      type: "step.finished";
      stepIndex: number;
      status: Exclude<StepStatus, "skipped">;
      exitCode: number | null;
      durationMs: number;
      error: string | null;
    })
  | (EventBase & { type: "run.finished"; status: RunStatus; durationMs: number; error: string | null });

/** One step's result. */
export interface StepResult {
  stepIndex: number;
  stepId: string | null;
  stepName: string;
  stepType: string;
  target: string | null;
  status: StepStatus;
  exitCode: number | null;
  durationMs: number;
  error: string | null;
}

/** The result of `runJob`; secrets are masked. */
export interface RunResult {
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  steps: StepResult[];
  error: string | null;
}

/** Options for `runJob`. */
export interface RunJobOptions {
  /** A parsed definition (see `parseJobDefinition`). */
  definition: RunnableDefinition;
  /** Parameter values as supplied (form strings are coerced); validated with `resolveParameters`. */
  params?: Readonly<Record<string, unknown>>;
  /** Looks a step's `target` (a name or id) up; return undefined if there is no such target. */
  resolveTarget?: (ref: string, context: { signal: AbortSignal }) => Target | undefined | Promise<Target | undefined>;
  /** Returns the target's credential with its secret decrypted, or undefined if it has none. */
  resolveCredential?: (target: Target, context: { signal: AbortSignal }) => Credential | undefined | Promise<Credential | undefined>;
  /** Executors by step type, e.g. `createWinRMExecutors({ createClient })` plus your own. */
  executors: Readonly<Record<string, StepExecutor>>;
  /** Aborting it cancels the running step and ends the run `canceled`. */
  signal?: AbortSignal;
  /** Receives every event, masked, in order. It should not throw; if it does, the run stops and `runJob` rejects with that error. */
  onEvent?: (event: RunEvent) => void;
  /** More values to mask, e.g. secrets your executors use that the engine cannot know. */
  secrets?: readonly string[];
  /** How long to let an aborted executor clean up (e.g. delete its remote shell) before the run moves on. Default 5000. */
  abortGraceMs?: number;
}

// A secret interpolated into a PowerShell command appears there with its quotes doubled; error
// messages that echo the command line would show that form.
function quotedForms(secret: string): string[] {
  const doubled = secret.replace(/['\u2018-\u201B]/g, (q) => q + q);
  return doubled === secret ? [] : [doubled];
}

function stepLabel(step: RunnableStep, index: number): string {
  return step.name ?? step.id ?? `${step.type} #${index + 1}`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === "string" ? error : "The step failed.";
}

interface OpenResource {
  value: Promise<unknown>;
  close: (value: never) => void | Promise<void>;
}

function createRunResources(): RunResources & { closeAll(withinMs: number): Promise<void> } {
  const open = new Map<string, OpenResource>();
  return {
    use<T>(key: string, opener: () => T | Promise<T>, close: (value: T) => void | Promise<void>): Promise<T> {
      const existing = open.get(key);
      if (existing) return existing.value as Promise<T>;
      const value = Promise.resolve().then(opener);
      open.set(key, { value, close: close as (value: never) => void | Promise<void> });
      value.catch(() => {
        if (open.get(key)?.value === value) open.delete(key);
      });
      return value;
    },
    // Newest first, so a shell goes before the connection it lives on. A close that hangs (an
    // unreachable host) must not hold the run's end forever.
    async closeAll(withinMs) {
      const entries = [...open.values()].reverse();
      open.clear();
      const closing = (async () => {
        for (const entry of entries) {
          try {
            await entry.close((await entry.value) as never);
          } catch {
            // The resource failed to open or to close; there is nothing left to release.
          }
        }
      })();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([closing, new Promise((resolve) => (timer = setTimeout(resolve, withinMs)))]);
      clearTimeout(timer);
    },
  };
}

class OnEventError extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super("onEvent threw");
    this.original = original;
  }
}

/**
 * Runs a job's steps in order, each under its own timeout, and reports events through the secret
 * masker. Throws only for invalid parameters or a throwing `onEvent`; step failures are results.
 */
export async function runJob(options: RunJobOptions): Promise<RunResult> {
  const { definition, executors, onEvent } = options;
  const runSignal = options.signal ?? new AbortController().signal;
  const grace = options.abortGraceMs ?? 5000;
  const resolved = resolveParameters(definition, options.params ?? {});
  const masker = createSecretMasker();
  const addSecret = (secret: string) => masker.add(secret, ...quotedForms(secret));
  for (const secret of [...resolved.secretValues, ...(options.secrets ?? [])]) addSecret(secret);

  let seq = 0;
  let eventFailure: OnEventError | undefined;
  const internal = new AbortController();
  const emit = (event: Record<string, unknown> & { type: RunEvent["type"] }): void => {
    if (eventFailure || !onEvent) return;
    const full = masker.maskDeep({ seq: ++seq, at: new Date().toISOString(), ...event }) as unknown as RunEvent;
    try {
      onEvent(full);
    } catch (error) {
      eventFailure = new OnEventError(error);
      internal.abort(eventFailure);
    }
  };

  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const results: StepResult[] = [];
  const targets = new Map<string, Promise<Target | undefined>>();
  const credentials = new Map<string, Promise<Credential | undefined>>();
  let runStatus: RunStatus = "succeeded";
  let runError: string | null = null;
  let stopped = false;

  emit({ type: "run.started", job: { name: definition.name, version: definition.version }, stepCount: definition.steps.length });

  const resources = createRunResources();
  try {
    for (const [stepIndex, step] of definition.steps.entries()) {
      const base = {
        stepIndex,
        stepId: step.id ?? null,
        stepName: stepLabel(step, stepIndex),
        stepType: step.type,
        target: step.target ?? null,
      };
      if (stopped || runSignal.aborted || internal.signal.aborted) {
        if (!stopped && runSignal.aborted) {
          runStatus = "canceled";
          runError = "The run was canceled before it started this step.";
        }
        stopped = true;
        results.push({ ...base, status: "skipped", exitCode: null, durationMs: 0, error: null });
        continue;
      }

      emit({ type: "step.started", ...base });
      const stepStart = Date.now();
      const controller = new AbortController();
      let timedOut = false;
      const cancel = () => controller.abort(runSignal.reason ?? new Error("The run was canceled."));
      runSignal.addEventListener("abort", cancel, { once: true });
      internal.signal.addEventListener("abort", cancel, { once: true });
      // onEvent may have thrown, or the caller aborted, while step.started was being delivered.
      if (runSignal.aborted || internal.signal.aborted) cancel();
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error(`The step did not finish within ${step.timeoutSec} s.`));
      }, step.timeoutSec * 1000);

      const streams = new Map<OutputStream, SecretMaskStream>();
      let open = true;
      const output = (stream: OutputStream, text: string) => {
        if (!open || typeof text !== "string" || text === "") return;
        let masking = streams.get(stream);
        if (!masking) streams.set(stream, (masking = masker.stream()));
        const visible = masking.push(text);
        if (visible !== "") emit({ type: "step.output", stepIndex, stream, text: visible });
      };

      let status: Exclude<StepStatus, "skipped">;
      let exitCode: number | null = null;
      let error: string | null = null;
      try {
        const work = (async (): Promise<StepOutcome | void> => {
          const executor = Object.hasOwn(executors, step.type) ? executors[step.type] : undefined;
          if (!executor) throw new Error(`No executor is registered for step type "${step.type}".`);
          let target: Target | undefined;
          let credential: Credential | undefined;
          if (step.target !== undefined) {
            if (!options.resolveTarget) throw new Error(`The step names target "${step.target}", but no resolveTarget was given to runJob().`);
            let pending = targets.get(step.target);
            if (!pending) targets.set(step.target, (pending = Promise.resolve(options.resolveTarget(step.target, { signal: controller.signal }))));
            target = await pending;
            if (!target) throw new Error(`Target "${step.target}" was not found.`);
            if (options.resolveCredential) {
              let pendingCredential = credentials.get(target.id);
              if (!pendingCredential) {
                credentials.set(target.id, (pendingCredential = Promise.resolve(options.resolveCredential(target, { signal: controller.signal }))));
              }
              credential = await pendingCredential;
              if (credential?.secret?.password) addSecret(credential.secret.password);
            }
          }
          controller.signal.throwIfAborted();
          return executor({
            step,
            stepIndex,
            target,
            credential,
            params: resolved.values,
            signal: controller.signal,
            timeoutSec: step.timeoutSec,
            interpolate: (template, interpolateOptions) => interpolate(template, resolved.values, interpolateOptions),
            output,
            resources,
          });
        })();
        // The executor's own settling is awaited below (within the grace period) for cleanup; this
        // keeps a late rejection from surfacing as an unhandled one.
        work.catch(() => undefined);
        const aborted = new Promise<"aborted">((resolve) => {
          if (controller.signal.aborted) resolve("aborted");
          controller.signal.addEventListener("abort", () => resolve("aborted"), { once: true });
        });
        const first = await Promise.race([work.then((outcome) => ({ outcome })), aborted]);
        if (first === "aborted") {
          await Promise.race([work.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, grace).unref?.())]);
          status = timedOut ? "timed_out" : "canceled";
          error = timedOut ? `The step did not finish within ${step.timeoutSec} s.` : "The run was canceled.";
        } else {
          const outcome = first.outcome ?? {};
          exitCode = typeof outcome.exitCode === "number" ? outcome.exitCode : null;
          status = outcome.status ?? (exitCode !== null && exitCode !== 0 ? "failed" : "succeeded");
          if (status === "failed") error = outcome.error ?? (exitCode !== null ? `The command exited with code ${exitCode}.` : "The step failed.");
        }
      } catch (caught) {
        if (controller.signal.aborted) {
          status = timedOut ? "timed_out" : "canceled";
          error = timedOut ? `The step did not finish within ${step.timeoutSec} s.` : "The run was canceled.";
        } else {
          status = "failed";
          error = errorText(caught);
        }
      } finally {
        clearTimeout(timer);
        runSignal.removeEventListener("abort", cancel);
        internal.signal.removeEventListener("abort", cancel);
      }
      for (const [stream, masking] of streams) {
        const rest = masking.flush();
        if (rest !== "") emit({ type: "step.output", stepIndex, stream, text: rest });
      }
      open = false;
      const durationMs = Date.now() - stepStart;
      error = error === null ? null : masker.mask(error);
      emit({ type: "step.finished", stepIndex, status, exitCode, durationMs, error });
      results.push({ ...base, status, exitCode, durationMs, error });

      if (status === "canceled") {
        runStatus = "canceled";
        runError = `Canceled during step ${stepIndex + 1} (${base.stepName}).`;
        stopped = true;
      } else if (status !== "succeeded" && !step.continueOnError) {
        runStatus = status;
        runError = `Step ${stepIndex + 1} (${base.stepName}) ${status === "timed_out" ? "timed out" : "failed"}: ${error}`;
        stopped = true;
      }
    }
  } finally {
    // Closed before run.finished, so a finished run has left no shell open on its targets.
    await resources.closeAll(grace);
  }

  const finished = Date.now();
  const durationMs = finished - started;
  emit({ type: "run.finished", status: runStatus, durationMs, error: runError });
  if (eventFailure) throw eventFailure.original;
  return masker.maskDeep({
    status: runStatus,
    startedAt,
    finishedAt: new Date(finished).toISOString(),
    durationMs,
    steps: results,
    error: runError,
  });
}
