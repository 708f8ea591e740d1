// The opsconductor command line: one commander program; main() answers the exit code.
import { hostname } from "node:os";
import { readFile } from "node:fs/promises";
import { Command, CommanderError, Option } from "commander";
import { createClient, isOpsConductorError, type Job, type OpsConductorClient, type RunStatus, type Target } from "@opsconductor/sdk";
import { parse as parseYaml } from "yaml";
import { configPath, readConfig, resolveConnection, saveProfile, type ConnectionOptions } from "./config.ts";
import { describeError, EXIT, ExitError, TimeoutError, UsageError } from "./errors.ts";
import { colorEnabled, painter, write, type Io } from "./io.ts";
import { fields, json, outputFormat, table, type Column, type OutputFormat } from "./output.ts";
import { ask, askSecret } from "./prompt.ts";

const VERSION = "0.1.0";

interface GlobalOptions extends ConnectionOptions {
  output?: string;
}

/** Exit code of a finished run's status. */
export function exitCodeOf(status: RunStatus): number {
  if (status === "succeeded") return EXIT.ok;
  if (status === "canceled" || status === "timed_out") return EXIT.timeout;
  return EXIT.failed;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--param name=value` pairs as the run's parameters (a value may itself hold `=`). */
export function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--param: "${pair}" is not name=value (e.g. --param svc=Spooler)`);
    params[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return params;
}

function seconds(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name}: "${value}" is not a positive number of seconds`);
    return n;
  };
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: "${value}" is not a positive whole number`);
    return n;
  };
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

/** Runs the CLI with `argv` (without node and the script) and answers its exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const out = (text: string) => write(io.stdout, text);
  const err = (text: string) => write(io.stderr, text);
  const paintOut = painter(colorEnabled(io.stdout, io.env));
  const paintErr = painter(colorEnabled(io.stderr, io.env));

  const program = new Command("opsconductor");
  program
    .description("Drive OpsConductor from scripts and pipelines: run jobs and follow them, inspect runs, export and apply configuration.")
    .version(VERSION, "-V, --version")
    .addOption(new Option("--url <url>", "server URL (or $OPSCONDUCTOR_URL, or the profile's)"))
    .addOption(new Option("--token <token>", "API token (or $OPSCONDUCTOR_TOKEN, or the profile's)"))
    .addOption(new Option("--profile <name>", "saved profile to use (or $OPSCONDUCTOR_PROFILE; default: default)"))
    .addOption(new Option("--output <format>", "table or json (read commands)").choices(["table", "json"]))
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s), outputError: (s, w) => w(`opsconductor: ${s.replace(/^error: /, "")}`) })
    .addHelpText(
      "after",
      examples([
        "opsconductor login --url https://ops.example.com",
        "opsconductor jobs run 'Restart spooler' --param svc=Spooler --follow",
        "OPSCONDUCTOR_URL=https://ops.example.com OPSCONDUCTOR_TOKEN=oc_... opsconductor runs list --output json",
        "opsconductor export > ops.yaml && opsconductor apply -f ops.yaml --dry-run",
      ]) + "\nExit codes: 0 success, 1 failure (a run failed, the server refused), 2 usage error, 3 timeout or canceled.\n",
    );

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  const format = (cmd: Command): OutputFormat => outputFormat(globals(cmd).output);

  async function client(cmd: Command): Promise<OpsConductorClient> {
    const connection = await resolveConnection(globals(cmd), io.env);
    if (!connection.token) throw new UsageError(`no token for ${connection.url}: pass --token, set OPSCONDUCTOR_TOKEN, or run opsconductor login`);
    return createClient({ baseUrl: connection.url, token: connection.token, headers: { "user-agent": `opsconductor-cli/${VERSION}` } });
  }

  async function print<T>(cmd: Command, value: unknown, rows: T[] | undefined, columns: Column<T>[] | ((v: T) => [string, unknown][])): Promise<void> {
    if (format(cmd) === "json") return out(json(value));
    if (rows && Array.isArray(columns)) return out(table(rows, columns));
    if (!Array.isArray(columns)) return out(fields(columns(value as T)));
  }

  /** A job by id or by name (case ignored, as the API matches names). */
  async function findJob(api: OpsConductorClient, ref: string): Promise<Job> {
    const page = await api.jobs.list({ q: ref, limit: 100 });
    const byName = page.items.find((j) => j.name.toLowerCase() === ref.toLowerCase());
    if (byName) return api.jobs.get(byName.id);
    try {
      return await api.jobs.get(ref);
    } catch (error) {
      if (isOpsConductorError(error) && (error.status === 404 || error.status === 400)) throw new ExitError(EXIT.failed, `no job named or with id "${ref}"`);
      throw error;
    }
  }

  async function findTarget(api: OpsConductorClient, ref: string): Promise<Target> {
    const page = await api.targets.list({ q: ref, limit: 100 });
    const byName = page.items.find((t) => t.name.toLowerCase() === ref.toLowerCase());
    if (byName) return byName;
    try {
      return await api.targets.get(ref);
    } catch (error) {
      if (isOpsConductorError(error) && (error.status === 404 || error.status === 400)) throw new ExitError(EXIT.failed, `no target named or with id "${ref}"`);
      throw error;
    }
  }

  async function take<T>(list: AsyncIterable<T> & PromiseLike<{ items: T[] }>, all: boolean, limit: number | undefined): Promise<T[]> {
    if (!all) return (await list).items;
    const items: T[] = [];
    for await (const item of list) {
      items.push(item);
      if (limit && items.length >= limit) break;
    }
    return items;
  }

  /** Streams a run's output until its end; answers the exit code of its final status. */
  async function follow(api: OpsConductorClient, runId: string, timeoutSec: number | undefined): Promise<number> {
    const controller = new AbortController();
    const timer = timeoutSec ? setTimeout(() => controller.abort(new TimeoutError(`run ${runId} was not finished after ${timeoutSec} s (it goes on running; opsconductor runs cancel ${runId} stops it)`)), timeoutSec * 1000) : undefined;
    const steps = new Map<string, string>();
    let atLineStart = true;
    try {
      for await (const event of api.runs.events(runId, { signal: controller.signal })) {
        if (event.type === "step") {
          const prev = steps.get(event.step.id);
          steps.set(event.step.id, event.step.status);
          if (prev === event.step.status) continue;
          if (event.step.status === "running") await err(paintErr.cyan(`▶ ${event.step.name}${event.step.targetName ? ` on ${event.step.targetName}` : ""}\n`));
          else if (prev && ["succeeded", "failed", "canceled", "timed_out", "skipped"].includes(event.step.status)) {
            const paint = event.step.status === "succeeded" ? paintErr.green : event.step.status === "skipped" ? paintErr.dim : paintErr.red;
            await err(paint(`■ ${event.step.name}: ${event.step.status}${event.step.exitCode !== null ? ` (exit ${event.step.exitCode})` : ""}${event.step.error ? `: ${event.step.error}` : ""}\n`));
          }
        } else if (event.type === "output") {
          const { text, stream } = event.chunk;
          if (!text) continue;
          const shown = stream === "stderr" ? paintOut.red(text) : stream === "system" ? paintOut.dim(text) : text;
          await out(shown);
          atLineStart = text.endsWith("\n");
        } else if (event.type === "end") {
          if (!atLineStart) await out("\n");
          const paint = event.status === "succeeded" ? paintErr.green : paintErr.red;
          await err(paint(`run ${runId} ${event.status}\n`));
          return exitCodeOf(event.status);
        }
      }
      throw new ExitError(EXIT.failed, `the event stream of run ${runId} ended before the run did`);
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  // login ------------------------------------------------------------------------------------------
  program
    .command("login")
    .description("Sign in with a username and password, create an API token and save it in a profile (the password is not stored)")
    .option("--username <name>", "username (asked when left out)")
    .option("--token-name <name>", "name of the token created", `opsconductor CLI on ${hostname()}`)
    .addOption(new Option("--expires-in <days>", "days until the token expires (default: never)").argParser(positiveInt("--expires-in")))
    .addHelpText("after", examples(["opsconductor login --url https://ops.example.com", "opsconductor login --url https://staging.example.com --profile staging --expires-in 30"]))
    .action(async (opts: { username?: string; tokenName: string; expiresIn?: number }, cmd: Command) => {
      const g = globals(cmd);
      const url = g.url ?? io.env.OPSCONDUCTOR_URL ?? (await resolveConnection({ ...(g.profile ? { profile: g.profile } : {}) }, io.env).catch(() => undefined))?.url;
      if (!url) throw new UsageError("login needs the server: pass --url (or set OPSCONDUCTOR_URL)");
      const username = opts.username ?? (await ask(io, "Username: "));
      if (!username) throw new UsageError("a username is needed");
      const password = await askSecret(io, "Password: ");
      if (!password) throw new UsageError("a password is needed");
      const session = createClient({ baseUrl: url, username, password, headers: { "user-agent": `opsconductor-cli/${VERSION}` } });
      const created = await session.tokens.create({ name: opts.tokenName, ...(opts.expiresIn ? { expiresInDays: opts.expiresIn } : {}) });
      const profile = g.profile ?? io.env.OPSCONDUCTOR_PROFILE ?? "default";
      const path = await saveProfile(io.env, profile, { url, token: created.token, username, tokenId: created.id });
      await session.auth.logout().catch(() => {});
      await err(`Signed in to ${url} as ${username}; token "${created.name}" (${created.role}${created.expiresAt ? `, expires ${created.expiresAt}` : ""}) saved in profile "${profile}" (${path}).\n`);
    });

  // jobs -------------------------------------------------------------------------------------------
  const jobs = program.command("jobs").description("List, show and run jobs").addHelpText("after", examples(["opsconductor jobs list", "opsconductor jobs run Deploy --param svc=Spooler --follow"]));
  jobs
    .command("list")
    .description("List jobs")
    .option("-q, --search <text>", "only jobs whose name contains this")
    .option("--all", "every page, not only the first")
    .addOption(new Option("--limit <n>", "at most this many").argParser(positiveInt("--limit")))
    .addHelpText("after", examples(["opsconductor jobs list --search deploy", "opsconductor jobs list --all --output json | jq -r '.[].name'"]))
    .action(async (opts: { search?: string; all?: boolean; limit?: number }, cmd: Command) => {
      const api = await client(cmd);
      const items = await take(api.jobs.list({ ...(opts.search ? { q: opts.search } : {}), ...(opts.limit ? { limit: Math.min(opts.limit, 100) } : {}) }), Boolean(opts.all), opts.limit);
      await print<Job>(cmd, items, items, [
        { header: "name", value: (j) => j.name },
        { header: "version", value: (j) => j.version },
        { header: "active", value: (j) => (j.active ? "yes" : "no") },
        { header: "updated", value: (j) => j.updatedAt },
        { header: "id", value: (j) => j.id },
      ]);
    });
  jobs
    .command("get")
    .description("Show a job and its current definition")
    .argument("<job>", "job name or id")
    .addHelpText("after", examples(["opsconductor jobs get Deploy", "opsconductor jobs get Deploy --output json | jq .definition"]))
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const api = await client(cmd);
      const job = await findJob(api, ref);
      if (format(cmd) === "json") return out(json(job));
      await out(fields([["name", job.name], ["id", job.id], ["description", job.description], ["version", job.version], ["active", job.active ? "yes" : "no"], ["updated", job.updatedAt]]));
      if (job.definition) await out(`definition:\n${json(job.definition).replace(/^/gm, "  ")}`);
    });
  jobs
    .command("run")
    .description("Run a job; with --follow, stream its output and exit with the run's result")
    .argument("<job>", "job name or id")
    .option("-p, --param <name=value>", "a parameter value (repeatable)", collect, [])
    .option("-f, --follow", "stream the run's output live and exit 0 if it succeeds, 1 if it fails, 3 if it is canceled or times out")
    .option("-w, --wait", "wait for the run to finish (no output) and exit as --follow does")
    .addOption(new Option("--timeout <seconds>", "with --follow or --wait: give up after this long (exit 3)").argParser(seconds("--timeout")))
    .option("--idempotency-key <key>", "a repeated key answers the earlier run instead of starting another")
    .addHelpText(
      "after",
      examples([
        "opsconductor jobs run 'Restart spooler' --param svc=Spooler --follow",
        "opsconductor jobs run Deploy --wait --timeout 600 && echo deployed",
        "opsconductor jobs run Deploy --idempotency-key \"$CI_PIPELINE_ID\" --output json",
      ]),
    )
    .action(async (ref: string, opts: { param: string[]; follow?: boolean; wait?: boolean; timeout?: number; idempotencyKey?: string }, cmd: Command) => {
      const parameters = parseParams(opts.param);
      if (opts.timeout && !opts.follow && !opts.wait) throw new UsageError("--timeout needs --follow or --wait");
      const api = await client(cmd);
      const job = await findJob(api, ref);
      const requested = await api.jobs.run(job.id, { parameters, ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}) });
      if (opts.follow) {
        await err(paintErr.dim(`run ${requested.runId} of ${job.name}${requested.created ? "" : " (an earlier run with this idempotency key)"}\n`));
        return finish(await follow(api, requested.runId, opts.timeout));
      }
      if (opts.wait) {
        const run = await waitRun(api, requested.runId, opts.timeout);
        if (format(cmd) === "json") await out(json(run));
        else await out(`run ${run.id} ${run.status}\n`);
        return finish(exitCodeOf(run.status));
      }
      if (format(cmd) === "json") return out(json(requested));
      await out(`${requested.runId}\n`);
      await err(paintErr.dim(`queued run of ${job.name}; follow it with: opsconductor runs logs ${requested.runId} --follow\n`));
    });

  async function waitRun(api: OpsConductorClient, runId: string, timeoutSec: number | undefined) {
    try {
      return await api.runs.wait(runId, timeoutSec ? { timeoutMs: timeoutSec * 1000 } : {});
    } catch (error) {
      if (isOpsConductorError(error) && error.code === "timeout") throw new TimeoutError(`run ${runId} was not finished after ${timeoutSec} s (it goes on running)`);
      throw error;
    }
  }

  let exitCode: number = EXIT.ok;
  const finish = (code: number) => {
    exitCode = code;
  };

  // runs -------------------------------------------------------------------------------------------
  const runs = program.command("runs").description("List and inspect runs, read and follow their logs, cancel and wait").addHelpText("after", examples(["opsconductor runs list --status failed", "opsconductor runs logs <run-id> --follow"]));
  runs
    .command("list")
    .description("List runs, newest first")
    .option("--job <job>", "only runs of this job (name or id)")
    .option("--status <status...>", "only runs in these statuses (queued running succeeded failed canceled timed_out)")
    .option("--all", "every page, not only the first")
    .addOption(new Option("--limit <n>", "at most this many").argParser(positiveInt("--limit")))
    .addHelpText("after", examples(["opsconductor runs list --job Deploy --limit 5", "opsconductor runs list --status failed running --output json"]))
    .action(async (opts: { job?: string; status?: string[]; all?: boolean; limit?: number }, cmd: Command) => {
      const api = await client(cmd);
      const jobId = opts.job ? (await findJob(api, opts.job)).id : undefined;
      const statuses = opts.status?.flatMap((s) => s.split(",")).filter(Boolean) as RunStatus[] | undefined;
      const items = await take(api.runs.list({ ...(jobId ? { job: jobId } : {}), ...(statuses?.length ? { status: statuses } : {}), ...(opts.limit ? { limit: Math.min(opts.limit, 100) } : {}) }), Boolean(opts.all), opts.limit);
      const shown = opts.limit ? items.slice(0, opts.limit) : items;
      await print(cmd, shown, shown, [
        { header: "id", value: (r) => r.id },
        { header: "job", value: (r) => r.jobName },
        { header: "status", value: (r) => r.status },
        { header: "trigger", value: (r) => r.trigger },
        { header: "queued", value: (r) => r.queuedAt },
        { header: "finished", value: (r) => r.finishedAt },
      ]);
    });
  runs
    .command("get")
    .description("Show a run")
    .argument("<run>", "run id")
    .addHelpText("after", examples(["opsconductor runs get <run-id>", "opsconductor runs get <run-id> --output json | jq -r .status"]))
    .action(async (runId: string, _opts: unknown, cmd: Command) => {
      const api = await client(cmd);
      const run = await api.runs.get(runId);
      await print(cmd, run, undefined, (r: typeof run) => [
        ["id", r.id],
        ["job", `${r.jobName} (version ${r.versionNumber})`],
        ["status", r.status],
        ["trigger", r.trigger],
        ["requested by", r.requestedBy?.username],
        ["queued", r.queuedAt],
        ["started", r.startedAt],
        ["finished", r.finishedAt],
        ["parameters", r.parameters],
        ["error", r.error],
      ]);
    });
  runs
    .command("logs")
    .description("Print a run's log; with --follow, stream it live until the run ends")
    .argument("<run>", "run id")
    .option("-f, --follow", "stream the output live and exit with the run's result (0, 1, or 3)")
    .addOption(new Option("--timeout <seconds>", "with --follow: give up after this long (exit 3)").argParser(seconds("--timeout")))
    .addHelpText("after", examples(["opsconductor runs logs <run-id> > run.log", "opsconductor runs logs <run-id> --follow"]))
    .action(async (runId: string, opts: { follow?: boolean; timeout?: number }, cmd: Command) => {
      const api = await client(cmd);
      if (opts.follow) return finish(await follow(api, runId, opts.timeout));
      const stream = await api.runs.log(runId);
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) await new Promise<void>((resolve, reject) => io.stdout.write(chunk, (e) => (e ? reject(e) : resolve())));
    });
  runs
    .command("cancel")
    .description("Ask the worker to cancel a run")
    .argument("<run>", "run id")
    .addHelpText("after", examples(["opsconductor runs cancel <run-id>"]))
    .action(async (runId: string, _opts: unknown, cmd: Command) => {
      const api = await client(cmd);
      const { run } = await api.runs.cancel(runId);
      if (format(cmd) === "json") return out(json(run));
      await out(`run ${run.id} ${run.status}${run.cancelRequestedAt && run.status === "running" ? " (cancel requested)" : ""}\n`);
    });
  runs
    .command("wait")
    .description("Wait for a run to finish; exit 0 if it succeeded, 1 if it failed, 3 if it was canceled or timed out (or --timeout passed)")
    .argument("<run>", "run id")
    .addOption(new Option("--timeout <seconds>", "give up after this long (exit 3)").argParser(seconds("--timeout")))
    .addHelpText("after", examples(["opsconductor runs wait <run-id> --timeout 300"]))
    .action(async (runId: string, opts: { timeout?: number }, cmd: Command) => {
      const api = await client(cmd);
      const run = await waitRun(api, runId, opts.timeout);
      if (format(cmd) === "json") await out(json(run));
      else await out(`run ${run.id} ${run.status}\n`);
      finish(exitCodeOf(run.status));
    });

  // targets ----------------------------------------------------------------------------------------
  const targets = program.command("targets").description("List targets and test their connections").addHelpText("after", examples(["opsconductor targets list --tag web", "opsconductor targets test web-01"]));
  targets
    .command("list")
    .description("List targets")
    .option("-q, --search <text>", "only targets whose name or hostname contains this")
    .option("--tag <tag...>", "only targets with these tags")
    .option("--all", "every page, not only the first")
    .addOption(new Option("--limit <n>", "at most this many").argParser(positiveInt("--limit")))
    .addHelpText("after", examples(["opsconductor targets list", "opsconductor targets list --tag web --output json"]))
    .action(async (opts: { search?: string; tag?: string[]; all?: boolean; limit?: number }, cmd: Command) => {
      const api = await client(cmd);
      const items = await take(api.targets.list({ ...(opts.search ? { q: opts.search } : {}), ...(opts.tag ? { tag: opts.tag } : {}), ...(opts.limit ? { limit: Math.min(opts.limit, 100) } : {}) }), Boolean(opts.all), opts.limit);
      await print<Target>(cmd, items, items, [
        { header: "name", value: (t) => t.name },
        { header: "hostname", value: (t) => t.hostname },
        { header: "port", value: (t) => t.port },
        { header: "credential", value: (t) => t.credential?.name },
        { header: "tags", value: (t) => t.tags },
        { header: "last test", value: (t) => (t.lastTest ? `${t.lastTest.ok ? "ok" : "failed"} ${t.lastTest.at}` : null) },
      ]);
    });
  targets
    .command("test")
    .description("Test the WinRM connection to a target (exit 1 when it fails)")
    .argument("<target>", "target name or id")
    .addHelpText("after", examples(["opsconductor targets test web-01"]))
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const api = await client(cmd);
      const target = await findTarget(api, ref);
      const result = await api.targets.test(target.id);
      if (format(cmd) === "json") await out(json(result));
      else if (result.ok) await out(`${paintOut.green("ok")} ${target.name}: ${result.hostname} answered in ${result.latencyMs} ms\n`);
      else await out(`${paintOut.red("failed")} ${target.name}: ${result.error}${result.hint ? ` (${result.hint})` : ""}\n`);
      if (!result.ok) finish(EXIT.failed);
    });

  // schedules --------------------------------------------------------------------------------------
  const schedules = program.command("schedules").description("List schedules").addHelpText("after", examples(["opsconductor schedules list --job Deploy"]));
  schedules
    .command("list")
    .description("List schedules and their next runs")
    .option("--job <job>", "only schedules of this job (name or id)")
    .option("--all", "every page, not only the first")
    .addHelpText("after", examples(["opsconductor schedules list", "opsconductor schedules list --output json"]))
    .action(async (opts: { job?: string; all?: boolean }, cmd: Command) => {
      const api = await client(cmd);
      const jobId = opts.job ? (await findJob(api, opts.job)).id : undefined;
      const items = await take(api.schedules.list(jobId ? { jobId } : {}), Boolean(opts.all), undefined);
      await print(cmd, items, items, [
        { header: "job", value: (s) => s.jobName },
        { header: "name", value: (s) => s.name },
        { header: "cron", value: (s) => s.cron },
        { header: "timezone", value: (s) => s.timezone },
        { header: "enabled", value: (s) => (s.enabled ? "yes" : "no") },
        { header: "next run", value: (s) => s.nextRunAt },
        { header: "id", value: (s) => s.id },
      ]);
    });

  // tokens -----------------------------------------------------------------------------------------
  const tokens = program
    .command("tokens")
    .description("Create, list and revoke API tokens")
    .addHelpText("after", examples(["opsconductor tokens list", "opsconductor tokens create --name ci --role operator --expires-in 90 --username alice", "opsconductor tokens revoke <token-id>"]));
  tokens
    .command("create")
    .description("Create an API token and print it (shown this once). The server mints tokens only for a password sign-in, so this asks for your password")
    .requiredOption("--name <name>", "what the token is for")
    .addOption(new Option("--role <role>", "its role, no higher than yours").choices(["admin", "operator", "viewer"]))
    .addOption(new Option("--expires-in <days>", "days until it expires (default: never)").argParser(positiveInt("--expires-in")))
    .option("--username <name>", "your username (default: the profile's; asked when unknown)")
    .option("--service-account <id>", "admins: create it for this service account")
    .addHelpText("after", examples(["opsconductor tokens create --name 'nightly deploy' --role operator --expires-in 90", "opsconductor tokens create --name ci --output json | jq -r .token"]))
    .action(async (opts: { name: string; role?: "admin" | "operator" | "viewer"; expiresIn?: number; username?: string; serviceAccount?: string }, cmd: Command) => {
      const session = await passwordSession(cmd, opts.username);
      try {
        const created = await session.tokens.create({
          name: opts.name,
          ...(opts.role ? { role: opts.role } : {}),
          ...(opts.expiresIn ? { expiresInDays: opts.expiresIn } : {}),
          ...(opts.serviceAccount ? { userId: opts.serviceAccount } : {}),
        } as Parameters<OpsConductorClient["tokens"]["create"]>[0]);
        if (format(cmd) === "json") return await out(json(created));
        await out(`${created.token}\n`);
        await err(`token "${created.name}" (${created.role}, id ${created.id}${created.expiresAt ? `, expires ${created.expiresAt}` : ""}): copy it now, it is not shown again\n`);
      } finally {
        await session.auth.logout().catch(() => {});
      }
    });
  tokens
    .command("list")
    .description("List your API tokens (admins: --everyone for all)")
    .option("--everyone", "admins: every user's and service account's tokens")
    .option("--active", "only tokens that still work")
    .addHelpText("after", examples(["opsconductor tokens list", "opsconductor tokens list --everyone --active --output json"]))
    .action(async (opts: { everyone?: boolean; active?: boolean }, cmd: Command) => {
      const api = await client(cmd);
      const items = await take(api.tokens.list({ scope: opts.everyone ? "all" : "mine", ...(opts.active ? { active: "true" as const } : {}) }), true, undefined);
      await print(cmd, items, items, [
        { header: "id", value: (t) => t.id },
        { header: "name", value: (t) => t.name },
        { header: "owner", value: (t) => t.owner.username },
        { header: "role", value: (t) => t.role },
        { header: "status", value: (t) => t.status },
        { header: "last used", value: (t) => t.lastUsedAt },
        { header: "expires", value: (t) => t.expiresAt },
      ]);
    });
  tokens
    .command("revoke")
    .description("Revoke an API token (it stops working at once). Like create, this needs a password sign-in")
    .argument("<token-id>", "the token's id (see tokens list)")
    .option("--username <name>", "your username (default: the profile's; asked when unknown)")
    .addHelpText("after", examples(["opsconductor tokens revoke <token-id>"]))
    .action(async (tokenId: string, opts: { username?: string }, cmd: Command) => {
      const session = await passwordSession(cmd, opts.username);
      try {
        const revoked = await session.tokens.delete(tokenId);
        if (format(cmd) === "json") return await out(json(revoked));
        await out(`revoked token "${revoked.name}" (${revoked.id})\n`);
      } finally {
        await session.auth.logout().catch(() => {});
      }
    });

  /** A password client: the server creates and revokes tokens only for a signed-in person, never for a token. */
  async function passwordSession(cmd: Command, usernameOption: string | undefined): Promise<OpsConductorClient> {
    const connection = await resolveConnection(globals(cmd), io.env);
    const saved = (await readConfig(io.env)).profiles[connection.profile];
    const username = usernameOption ?? saved?.username ?? (await ask(io, "Username: "));
    if (!username) throw new UsageError("a username is needed (--username)");
    const password = await askSecret(io, `Password for ${username}: `);
    if (!password) throw new UsageError("a password is needed");
    return createClient({ baseUrl: connection.url, username, password, headers: { "user-agent": `opsconductor-cli/${VERSION}` } });
  }

  // export / apply ---------------------------------------------------------------------------------
  program
    .command("export")
    .description("Print the configuration (jobs, targets, schedules, file references; never secrets) as one YAML or JSON document")
    .addOption(new Option("--format <format>", "yaml or json (default: yaml, or json with --output json)").choices(["yaml", "json"]))
    .addHelpText("after", examples(["opsconductor export > ops.yaml", "opsconductor export --format json > ops.json"]))
    .action(async (opts: { format?: "yaml" | "json" }, cmd: Command) => {
      const api = await client(cmd);
      const docFormat = opts.format ?? (format(cmd) === "json" ? "json" : "yaml");
      const document = await api.config.export({ format: docFormat });
      await out(typeof document === "string" ? (document.endsWith("\n") ? document : `${document}\n`) : json(document));
    });
  program
    .command("apply")
    .description("Make the server hold the configuration of a document, in one transaction; --dry-run shows the changes without making them")
    .requiredOption("-f, --file <path>", "the document (YAML or JSON; - for stdin)")
    .option("--dry-run", "report what would change and change nothing")
    .option("--prune", "also delete jobs, targets and schedules the document leaves out")
    .addHelpText("after", examples(["opsconductor apply -f ops.yaml --dry-run", "opsconductor apply -f ops.yaml", "opsconductor export --url https://old.example.com | opsconductor apply -f - --url https://new.example.com --prune"]))
    .action(async (opts: { file: string; dryRun?: boolean; prune?: boolean }, cmd: Command) => {
      const text = await readDocument(opts.file);
      let document: unknown;
      try {
        document = parseYaml(text);
      } catch (error) {
        throw new UsageError(`${opts.file}: not YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
      }
      if (!document || typeof document !== "object" || Array.isArray(document)) throw new UsageError(`${opts.file}: not a configuration document (expected apiVersion: opsconductor.io/v1, kind: Configuration)`);
      const api = await client(cmd);
      const result = (await api.config.apply(document as Parameters<OpsConductorClient["config"]["apply"]>[0], { ...(opts.dryRun ? { dryRun: "true" as const } : {}), ...(opts.prune ? { prune: "true" as const } : {}) })) as unknown as ApplyResult;
      if (format(cmd) === "json") return out(json(result));
      await out(describeApply(result, paintOut));
    });

  async function readDocument(path: string): Promise<string> {
    if (path === "-") {
      let text = "";
      io.stdin.setEncoding("utf8");
      for await (const chunk of io.stdin) text += chunk;
      return text;
    }
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      throw new UsageError(`-f: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander.help is the help shown for a command group called without a subcommand: a usage error.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
      // commander has printed its message already.
      return EXIT.usage;
    }
    const { line, exitCode: code } = describeError(error);
    if (line) await err(`${paintErr.red("opsconductor:")} ${line}\n`);
    return code;
  }
}

interface ApplyChange {
  kind: string;
  name: string;
  action: "create" | "change" | "unchanged" | "delete";
  fields?: string[];
}

interface ApplyResult {
  dryRun: boolean;
  prune: boolean;
  summary: { create: number; change: number; unchanged: number; delete: number };
  changes: ApplyChange[];
}

/** The diff of an apply, one line per resource that changes, then the counts. */
export function describeApply(result: ApplyResult, paint: ReturnType<typeof painter>): string {
  const would = result.dryRun;
  const lines: string[] = [];
  for (const c of result.changes) {
    if (c.action === "unchanged") continue;
    const label = `${c.kind} ${c.name}`;
    if (c.action === "create") lines.push(paint.green(`+ ${label}${would ? " (would create)" : " created"}`));
    else if (c.action === "change") lines.push(paint.yellow(`~ ${label}${would ? " (would change" : " changed ("}${would ? ": " : ""}${c.fields?.join(", ") ?? ""})`));
    else if (c.action === "delete") lines.push(paint.red(`- ${label}${would ? " (would delete)" : " deleted"}`));
  }
  const s = result.summary;
  const total = s.create + s.change + s.delete;
  const counts = `${s.create} to create, ${s.change} to change, ${s.unchanged} unchanged, ${s.delete} to delete`;
  if (total === 0) lines.push(`No changes: ${s.unchanged} unchanged.`);
  else lines.push(would ? `Dry run: ${counts}. Nothing was changed.` : `Applied: ${s.create} created, ${s.change} changed, ${s.unchanged} unchanged, ${s.delete} deleted.`);
  return `${lines.join("\n")}\n`;
}

export { configPath };
