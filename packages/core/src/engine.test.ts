import { describe, expect, test } from "vitest";
import { parseJobDefinition } from "./definition.ts";
import type { RunnableDefinition, StepExecutor, Target } from "./contracts.ts";
import { runJob, type RunEvent, type RunJobOptions } from "./engine.ts";
import { ParameterError } from "./parameters.ts";

const target: Target = { id: "t-1", name: "web-01", hostname: "web-01.example.test" };
const resolveTarget = (ref: string) => (ref === "web-01" || ref === "t-1" ? target : undefined);

// Executors written for the tests: they print the interpolated command and exit with a code
// taken from it, or wait for the step's signal.
const echo: StepExecutor = async ({ step, interpolate, output }) => {
  const command = interpolate(String(step.command), { shell: "powershell" });
  output("stdout", `${command}\n`);
  const code = /exit (\d+)/.exec(command);
  return { exitCode: code ? Number(code[1]) : 0 };
};

const waitForAbort: StepExecutor = ({ signal, output }) =>
  new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    output("stdout", "waiting\n");
  });

function definition(steps: Record<string, unknown>[], parameters: Record<string, unknown> = {}) {
  return parseJobDefinition({ name: "Test job", version: 3, parameters, steps: steps.map((step) => ({ type: "winrm.exec", target: "web-01", ...step })) });
}

async function run(options: Partial<RunJobOptions> & Pick<RunJobOptions, "definition">) {
  const events: RunEvent[] = [];
  const result = await runJob({
    resolveTarget,
    executors: { "winrm.exec": echo, wait: waitForAbort },
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { result, events };
}

const summary = (events: RunEvent[]) =>
  events.map((event) => {
    switch (event.type) {
      case "step.started":
        return `${event.type} ${event.stepIndex}`;
      case "step.output":
        return `${event.type} ${event.stepIndex} ${event.stream} ${JSON.stringify(event.text)}`;
      case "step.finished":
        return `${event.type} ${event.stepIndex} ${event.status}`;
      default:
        return `${event.type}${event.type === "run.finished" ? ` ${event.status}` : ""}`;
    }
  });

describe("runJob", () => {
  test("runs steps in order and reports every event in order", async () => {
    const { result, events } = await run({
      definition: definition([{ command: "Restart-Service {{ svc }}", name: "restart" }, { command: "Get-Service {{ svc }}", id: "check" }], { svc: "Spooler" }),
    });
    expect(summary(events)).toEqual([
      "run.started",
      "step.started 0",
      `step.output 0 stdout "Restart-Service 'Spooler'\\n"`,
      "step.finished 0 succeeded",
      "step.started 1",
      `step.output 1 stdout "Get-Service 'Spooler'\\n"`,
      "step.finished 1 succeeded",
      "run.finished succeeded",
    ]);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events[0]).toMatchObject({ type: "run.started", job: { name: "Test job", version: 3 }, stepCount: 2 });
    expect(events[1]).toMatchObject({ stepId: null, stepName: "restart", stepType: "winrm.exec", target: "web-01" });
    expect(events[3]).toMatchObject({ exitCode: 0, error: null, durationMs: expect.any(Number) });
    expect(result).toMatchObject({ status: "succeeded", error: null });
    expect(result.steps.map((step) => [step.stepName, step.status, step.exitCode])).toEqual([
      ["restart", "succeeded", 0],
      ["check", "succeeded", 0],
    ]);
  });

  test("passes the resolved target and its credential to the executor", async () => {
    const seen: unknown[] = [];
    await run({
      definition: definition([{ command: "x", target: "t-1" }]),
      resolveCredential: (t) => ({ id: "c", name: "admin", type: "password", username: `admin@${t.name}`, secret: { password: "pw" } }),
      executors: { "winrm.exec": async ({ target: t, credential }) => void seen.push(t?.hostname, credential?.username) },
    });
    expect(seen).toEqual(["web-01.example.test", "admin@web-01"]);
  });

  test("a failed step stops the run and the rest are skipped", async () => {
    const { result, events } = await run({ definition: definition([{ command: "exit 3" }, { command: "never" }]) });
    expect(summary(events).slice(-2)).toEqual(["step.finished 0 failed", "run.finished failed"]);
    expect(events.at(-2)).toMatchObject({ exitCode: 3, error: "The command exited with code 3." });
    expect(result.status).toBe("failed");
    expect(result.error).toBe("Step 1 (winrm.exec #1) failed: The command exited with code 3.");
    expect(result.steps.map((step) => step.status)).toEqual(["failed", "skipped"]);
  });

  test("continueOnError lets the run go on after a failed step", async () => {
    const { result } = await run({ definition: definition([{ command: "exit 1", continueOnError: true }, { command: "exit 0" }]) });
    expect(result.steps.map((step) => step.status)).toEqual(["failed", "succeeded"]);
    expect(result.status).toBe("succeeded");
  });

  test("an executor that throws fails its step with the error's message", async () => {
    const { result } = await run({
      definition: definition([{ command: "x" }]),
      executors: { "winrm.exec": async () => { throw new Error("connection refused"); } },
    });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "connection refused" });
  });

  test("an unknown target or a step type without executor fails the step clearly", async () => {
    const missing = await run({ definition: definition([{ command: "x", target: "db-09" }]) });
    expect(missing.result.steps[0]!.error).toBe('Target "db-09" was not found.');
    const noExecutor = await run({ definition: definition([{ command: "x" }]), executors: {} });
    expect(noExecutor.result.steps[0]!.error).toBe('No executor is registered for step type "winrm.exec".');
  });

  test("invalid parameters reject before anything runs", async () => {
    const events: RunEvent[] = [];
    const promise = runJob({ definition: definition([{ command: "x" }], { n: { type: "number" } }), params: { n: "abc" }, executors: {}, onEvent: (e) => events.push(e) });
    await expect(promise).rejects.toBeInstanceOf(ParameterError);
    await expect(promise).rejects.toThrow("n must be a number");
    expect(events).toEqual([]);
  });

  test("a step past its timeout is aborted and ends timed_out", async () => {
    let aborted = false;
    const slow: RunnableDefinition = {
      name: "slow",
      version: 1,
      parameters: {},
      steps: [
        { type: "wait", timeoutSec: 0.05, continueOnError: false },
        { type: "winrm.exec", command: "never", timeoutSec: 10, continueOnError: false },
      ],
    };
    const { result, events } = await run({
      definition: slow,
      executors: {
        wait: async (context) => {
          context.signal.addEventListener("abort", () => (aborted = true));
          return waitForAbort(context);
        },
        "winrm.exec": echo,
      },
    });
    expect(aborted).toBe(true);
    expect(summary(events)).toEqual(["run.started", "step.started 0", 'step.output 0 stdout "waiting\\n"', "step.finished 0 timed_out", "run.finished timed_out"]);
    expect(result.steps[0]).toMatchObject({ status: "timed_out", error: "The step did not finish within 0.05 s." });
    expect(result.steps[1]!.status).toBe("skipped");
    expect(result.status).toBe("timed_out");
  });

  test("an executor that ignores its signal cannot hold the run past the grace period", async () => {
    const stuck: RunnableDefinition = { name: "stuck", version: 1, parameters: {}, steps: [{ type: "stuck", timeoutSec: 0.02, continueOnError: false }] };
    const started = Date.now();
    const { result } = await run({ definition: stuck, executors: { stuck: () => new Promise(() => {}) }, abortGraceMs: 20 });
    expect(result.status).toBe("timed_out");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("aborting the signal cancels the running step and ends the run canceled", async () => {
    const controller = new AbortController();
    const job: RunnableDefinition = {
      name: "cancel",
      version: 1,
      parameters: {},
      steps: [
        { type: "wait", timeoutSec: 60, continueOnError: true },
        { type: "winrm.exec", command: "never", timeoutSec: 60, continueOnError: false },
      ],
    };
    const events: RunEvent[] = [];
    const { result } = await run({
      definition: job,
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type === "step.output") controller.abort();
      },
    });
    expect(summary(events)).toEqual(["run.started", "step.started 0", 'step.output 0 stdout "waiting\\n"', "step.finished 0 canceled", "run.finished canceled"]);
    expect(result.status).toBe("canceled");
    expect(result.steps.map((step) => step.status)).toEqual(["canceled", "skipped"]);
    expect(result.error).toBe("Canceled during step 1 (wait #1).");
  });

  test("a signal aborted before the run starts skips every step", async () => {
    const { result, events } = await run({ definition: definition([{ command: "x" }]), signal: AbortSignal.abort() });
    expect(summary(events)).toEqual(["run.started", "run.finished canceled"]);
    expect(result.steps.map((step) => step.status)).toEqual(["skipped"]);
  });

  test("secrets are masked in output (even split across chunks), errors and the result", async () => {
    const { result, events } = await run({
      definition: definition([{ command: "Connect {{ token }}", continueOnError: true }, { command: "x" }], { token: { type: "secret" } }),
      params: { token: "s3cr'et" },
      resolveCredential: () => ({ id: "c", name: "admin", type: "password", username: "admin", secret: { password: "P@ssw0rd" } }),
      executors: {
        "winrm.exec": async ({ step, interpolate, output }) => {
          if (step.command === "x") throw new Error("login failed for admin with P@ssw0rd");
          const command = interpolate(String(step.command), { shell: "powershell" });
          // PowerShell echoes a failing line with the value as quoted in the script.
          output("stderr", `At line:1 char:1\n+ ${command}\n`);
          output("stdout", "token is s3c");
          output("stdout", "r'et; password is P@ss");
          output("stdout", "w0rd.\n");
          return { exitCode: 1, error: "Connect failed for s3cr'et" };
        },
      },
    });
    const visible = JSON.stringify({ events, result });
    expect(visible).not.toContain("s3cr");
    expect(visible).not.toContain("P@ssw0rd");
    const output = events.filter((event) => event.type === "step.output").map((event) => event.text).join("");
    expect(output).toBe("At line:1 char:1\n+ Connect '***'\ntoken is ***; password is ***.\n");
    expect(result.steps.map((step) => step.error)).toEqual(["Connect failed for ***", "login failed for admin with ***"]);
  });

  test("an onEvent that throws stops the run and runJob rejects with its error", async () => {
    const failure = new Error("subscriber broke");
    let calls = 0;
    const ran: string[] = [];
    await expect(
      runJob({
        definition: definition([{ command: "a" }, { command: "b" }]),
        resolveTarget,
        executors: { "winrm.exec": async ({ step }) => void ran.push(String(step.command)) },
        onEvent: (event) => {
          calls++;
          if (event.type === "step.started") throw failure;
        },
      }),
    ).rejects.toBe(failure);
    // Nothing more is delivered once the subscriber failed, and no step ran.
    expect(calls).toBe(2);
    expect(ran).toEqual([]);
  });
});
