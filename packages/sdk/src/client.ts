// createClient: one namespace per area of the API, each method one operation of /api/openapi.json
// (OPERATION_METHODS says which; the drift test holds the two together).
import { OpsConductorError } from "./errors.ts";
import { OPERATIONS, type OperationId, type Operations } from "./generated/api.ts";
import { PagedList, type Page } from "./pages.ts";
import { readSse } from "./sse.ts";
import { Transport, sleep, type CallOptions, type ClientOptions } from "./transport.ts";
import type {
  ApiToken,
  AuditEntry,
  ConnectionTestResult,
  Credential,
  Job,
  JobVersion,
  JsonObject,
  LibraryFile,
  OutputChunk,
  Role,
  Run,
  RunEvent,
  RunRequested,
  RunStatus,
  RunStep,
  RunSummary,
  Schedule,
  ServiceAccount,
  SignedIn,
  Target,
  TokenCreated,
  User,
} from "./types.ts";

type Query<K extends OperationId> = Operations[K]["query"];
type Body<K extends OperationId> = NonNullable<Operations[K]["body"]>;
/** A list call's options: the operation's query (without the cursor, which the list follows) and the call options. */
export type ListQuery<K extends OperationId> = Omit<Query<K>, "cursor"> & { cursor?: string } & CallOptions;

/** Options of runs.events. */
export interface RunEventsOptions extends Omit<CallOptions, "timeoutMs"> {
  /** Resume after this output event id (sequence): output up to it is not sent again. */
  lastEventId?: number;
  /** Reconnects allowed in a row without progress before giving up (default 10). */
  maxReconnects?: number;
}

/** Options of runs.wait. */
export interface RunWaitOptions {
  signal?: AbortSignal;
  /** Give up (OpsConductorError code `timeout`) after this many ms (default: no limit). */
  timeoutMs?: number;
}

/** Options of jobs.run. */
export interface RunJobOptions extends CallOptions {
  /** Values of the job's parameters. */
  parameters?: Record<string, unknown>;
  /** A key that makes a repeated request answer the earlier run instead of queuing another. */
  idempotencyKey?: string;
}

/** What files.upload sends: a stream, a Blob/File, bytes or text. */
export type UploadBody = ReadableStream<Uint8Array> | Blob | ArrayBuffer | Uint8Array | string;

/** The SDK method (namespace.method) that calls each API operation. */
export const OPERATION_METHODS = {
  postApply: "config.apply",
  getAudit: "audit.list",
  getCredentials: "credentials.list",
  postCredentials: "credentials.create",
  getCredentialsById: "credentials.get",
  putCredentialsById: "credentials.update",
  deleteCredentialsById: "credentials.delete",
  getExecutorStatus: "executor.status",
  getExport: "config.export",
  getFiles: "files.list",
  postFiles: "files.upload",
  getFilesById: "files.get",
  deleteFilesById: "files.delete",
  getJobs: "jobs.list",
  postJobs: "jobs.create",
  getJobsById: "jobs.get",
  putJobsById: "jobs.update",
  patchJobsById: "jobs.patch",
  deleteJobsById: "jobs.delete",
  postJobsByIdRun: "jobs.run",
  getJobsByIdVersions: "jobs.versions",
  getJobsByIdVersionsByNumber: "jobs.version",
  postLogin: "auth.login",
  postLogout: "auth.logout",
  getMetrics: "metrics.get",
  getOpenapiJson: "meta.openapi",
  postRefresh: "auth.refresh",
  postRegister: "auth.register",
  postRevokeAll: "auth.revokeAll",
  getRuns: "runs.list",
  getRunsById: "runs.get",
  postRunsByIdCancel: "runs.cancel",
  getRunsByIdEvents: "runs.events",
  getRunsByIdLog: "runs.logLines",
  getRunsByIdLogTxt: "runs.log",
  getRunsByIdLogSearch: "runs.searchLog",
  getRunsByIdLogSections: "runs.logSections",
  postRunsByIdRerun: "runs.rerun",
  getRunsByIdSteps: "runs.steps",
  postSchedulerStart: "scheduler.start",
  getSchedulerStatus: "scheduler.status",
  postSchedulerStop: "scheduler.stop",
  getSchedules: "schedules.list",
  postSchedules: "schedules.create",
  getSchedulesById: "schedules.get",
  patchSchedulesById: "schedules.update",
  deleteSchedulesById: "schedules.delete",
  getServiceAccounts: "serviceAccounts.list",
  postServiceAccounts: "serviceAccounts.create",
  getServiceAccountsById: "serviceAccounts.get",
  deleteServiceAccountsById: "serviceAccounts.delete",
  getTargets: "targets.list",
  postTargets: "targets.create",
  getTargetsById: "targets.get",
  putTargetsById: "targets.update",
  deleteTargetsById: "targets.delete",
  postTargetsByIdTestWinrm: "targets.test",
  getTokens: "tokens.list",
  postTokens: "tokens.create",
  getTokensById: "tokens.get",
  deleteTokensById: "tokens.delete",
  getUsers: "users.list",
  postUsers: "users.create",
  getUsersById: "users.get",
  putUsersById: "users.update",
  patchUsersById: "users.patch",
  deleteUsersById: "users.delete",
  getUsersMe: "users.me",
  patchUsersMe: "users.updateMe",
  postUsersMePassword: "users.changePassword",
  getVerify: "auth.verify",
} as const satisfies Record<OperationId, string>;

const CALL_KEYS = new Set(["signal", "timeoutMs", "headers"]);
const MAX_SEQUENCE = 2_147_483_647;

/** Splits call options (signal, timeoutMs, headers) from the rest (a query). */
function split(options: object | undefined): { call: CallOptions; rest: Record<string, unknown> } {
  const call: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options ?? {})) (CALL_KEYS.has(k) ? call : rest)[k] = v;
  return { call: call as CallOptions, rest };
}

function parseEvent(event: string, data: string): RunEvent | OpsConductorError | undefined {
  const value = JSON.parse(data) as Record<string, unknown>;
  switch (event) {
    case "run":
      return { type: "run", run: value as unknown as Run };
    case "step":
      return { type: "step", step: value as unknown as RunStep };
    case "output":
      return { type: "output", chunk: value as unknown as OutputChunk };
    case "end":
      return { type: "end", runId: value.runId as string, status: value.status as RunStatus, lastSequence: (value.lastSequence as number | null) ?? null };
    case "error": {
      const error = (value.error ?? {}) as { code?: string; message?: string };
      return new OpsConductorError(200, error.code ?? "stream_error", error.message ?? "the run's event stream ended with an error");
    }
    default:
      return undefined;
  }
}

/** Builds the client: `createClient({ baseUrl, token })` or `createClient({ baseUrl, username, password })`. */
export function createClient(options: ClientOptions) {
  const t = new Transport(options);

  function call<K extends OperationId, T>(id: K, input: { params?: Record<string, string | number>; query?: Record<string, unknown>; json?: unknown; body?: BodyInit; headers?: Record<string, string> } & CallOptions = {}): Promise<T> {
    const { method, path } = OPERATIONS[id];
    const spec = { method, path, ...input, authenticate: OPERATIONS[id].permission !== "public" || id === "postLogout" ? id !== "postLogout" : false };
    return t.json<T>(spec);
  }

  function list<K extends OperationId, T>(id: K, options: object | undefined, params?: Record<string, string>): PagedList<T> {
    const { call: callOptions, rest } = split(options);
    const { cursor, ...query } = rest as { cursor?: string };
    return new PagedList<T>((next) => call<K, Page<T>>(id, { ...callOptions, ...(params ? { params } : {}), query: { ...query, ...(next ? { cursor: next } : {}) } }), cursor);
  }

  const id = (value: string) => ({ id: value });

  async function* events(runId: string, opts: RunEventsOptions = {}): AsyncGenerator<RunEvent, void, undefined> {
    let last = opts.lastEventId;
    let retryMs = 1000;
    let failures = 0;
    const maxReconnects = opts.maxReconnects ?? 10;
    for (;;) {
      let res: Response;
      try {
        res = await t.send({
          method: "GET",
          path: OPERATIONS.getRunsByIdEvents.path,
          params: id(runId),
          headers: { accept: "text/event-stream", ...opts.headers, ...(last !== undefined ? { "last-event-id": String(last) } : {}) },
          stream: true,
          timeoutMs: 0,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (error) {
        if (opts.signal?.aborted || !(error instanceof OpsConductorError) || error.status !== 0 || ++failures > maxReconnects) throw error;
        await sleep(retryMs, opts.signal);
        continue;
      }
      const before = last;
      try {
        for await (const message of readSse(res.body!, (ms) => (retryMs = ms))) {
          const event = parseEvent(message.event, message.data);
          if (event instanceof OpsConductorError) throw event;
          if (!event) continue;
          if (event.type === "output") {
            // After a reconnect the server resumes after Last-Event-ID; never hand out a chunk twice.
            if (last !== undefined && event.chunk.sequence <= last) continue;
            last = event.chunk.sequence;
          }
          yield event;
          if (event.type === "end") return;
        }
      } catch (error) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (error instanceof OpsConductorError) throw error;
        // The connection broke mid-stream: reconnect below.
      }
      // Only new output counts as progress: the run and step snapshots come again on every connect.
      const progressed = last !== before;
      failures = progressed ? 0 : failures + 1;
      if (failures > maxReconnects) throw new OpsConductorError(0, "network_error", `the event stream of run ${runId} kept closing without progress`);
      await sleep(progressed ? 0 : retryMs, opts.signal);
    }
  }

  const auth = {
    /** Signs in with the client's username and password now (it also does so by itself when needed). */
    login: (body?: Body<"postLogin">, opts?: CallOptions) => call<"postLogin", SignedIn>("postLogin", { ...opts, json: body }),
    /** Ends the session: the password client's own unless a refresh token is given. */
    logout: async (body?: Body<"postLogout">, opts?: CallOptions) => {
      const refreshToken = body?.refreshToken ?? t.refreshToken();
      await call<"postLogout", void>("postLogout", { ...opts, json: refreshToken ? { refreshToken } : {} });
      if (!body?.refreshToken) t.forgetSession();
    },
    /** Exchanges a refresh token for a new pair (the client refreshes its own session by itself). */
    refresh: (body: Body<"postRefresh">, opts?: CallOptions) => call<"postRefresh", SignedIn>("postRefresh", { ...opts, json: body }),
    /** Registers an account (where the server allows it). */
    register: (body: Body<"postRegister">, opts?: CallOptions) => call<"postRegister", JsonObject>("postRegister", { ...opts, json: body }),
    /** Who the credentials belong to. */
    verify: (opts?: CallOptions) => call<"getVerify", { user: { id: string; username: string; role: Role } & JsonObject } & JsonObject>("getVerify", opts),
    /** Revokes every session of the caller (or, admins, of `userId`). */
    revokeAll: (body?: Body<"postRevokeAll">, opts?: CallOptions) => call<"postRevokeAll", JsonObject>("postRevokeAll", { ...opts, json: body ?? {} }),
  };

  const users = {
    list: (query?: ListQuery<"getUsers">) => list<"getUsers", User>("getUsers", query),
    get: (userId: string, opts?: CallOptions) => call<"getUsersById", User>("getUsersById", { ...opts, params: id(userId) }),
    create: (body: Body<"postUsers">, opts?: CallOptions) => call<"postUsers", User>("postUsers", { ...opts, json: body }),
    update: (userId: string, body: Body<"putUsersById">, opts?: CallOptions) => call<"putUsersById", User>("putUsersById", { ...opts, params: id(userId), json: body }),
    patch: (userId: string, body: Body<"patchUsersById">, opts?: CallOptions) => call<"patchUsersById", User>("patchUsersById", { ...opts, params: id(userId), json: body }),
    delete: (userId: string, opts?: CallOptions) => call<"deleteUsersById", void>("deleteUsersById", { ...opts, params: id(userId) }),
    me: (opts?: CallOptions) => call<"getUsersMe", User>("getUsersMe", opts),
    updateMe: (body: Body<"patchUsersMe">, opts?: CallOptions) => call<"patchUsersMe", User>("patchUsersMe", { ...opts, json: body }),
    changePassword: (body: Body<"postUsersMePassword">, opts?: CallOptions) => call<"postUsersMePassword", JsonObject>("postUsersMePassword", { ...opts, json: body }),
  };

  const credentials = {
    list: (query?: ListQuery<"getCredentials">) => list<"getCredentials", Credential>("getCredentials", query),
    get: (credentialId: string, opts?: CallOptions) => call<"getCredentialsById", Credential>("getCredentialsById", { ...opts, params: id(credentialId) }),
    create: (body: Body<"postCredentials">, opts?: CallOptions) => call<"postCredentials", Credential>("postCredentials", { ...opts, json: body }),
    update: (credentialId: string, body: Body<"putCredentialsById">, opts?: CallOptions) => call<"putCredentialsById", Credential>("putCredentialsById", { ...opts, params: id(credentialId), json: body }),
    delete: (credentialId: string, opts?: CallOptions) => call<"deleteCredentialsById", void>("deleteCredentialsById", { ...opts, params: id(credentialId) }),
  };

  const targets = {
    list: (query?: ListQuery<"getTargets">) => list<"getTargets", Target>("getTargets", query),
    get: (targetId: string, opts?: CallOptions) => call<"getTargetsById", Target>("getTargetsById", { ...opts, params: id(targetId) }),
    create: (body: Body<"postTargets">, opts?: CallOptions) => call<"postTargets", Target>("postTargets", { ...opts, json: body }),
    update: (targetId: string, body: Body<"putTargetsById">, opts?: CallOptions) => call<"putTargetsById", Target>("putTargetsById", { ...opts, params: id(targetId), json: body }),
    delete: (targetId: string, opts?: CallOptions) => call<"deleteTargetsById", void>("deleteTargetsById", { ...opts, params: id(targetId) }),
    /** Tests the WinRM connection to the target with its credential. */
    test: (targetId: string, opts?: CallOptions) => call<"postTargetsByIdTestWinrm", ConnectionTestResult>("postTargetsByIdTestWinrm", { ...opts, params: id(targetId) }),
  };

  const files = {
    list: (query?: ListQuery<"getFiles">) => list<"getFiles", LibraryFile>("getFiles", query),
    get: (fileId: string, opts?: CallOptions) => call<"getFilesById", LibraryFile>("getFilesById", { ...opts, params: id(fileId) }),
    /** Uploads a file to the library under `name`; a stream is sent as it is read. */
    upload: (name: string, body: UploadBody, opts?: CallOptions) =>
      call<"postFiles", LibraryFile>("postFiles", { timeoutMs: 0, ...opts, query: { name }, body: body as BodyInit, headers: { "content-type": "application/octet-stream", ...opts?.headers } }),
    delete: (fileId: string, opts?: CallOptions) => call<"deleteFilesById", void>("deleteFilesById", { ...opts, params: id(fileId) }),
  };

  const jobs = {
    list: (query?: ListQuery<"getJobs">) => list<"getJobs", Job>("getJobs", query),
    get: (jobId: string, opts?: CallOptions) => call<"getJobsById", Job>("getJobsById", { ...opts, params: id(jobId) }),
    /** Creates a job from a definition (its first version). */
    create: (definition: Body<"postJobs">, opts?: CallOptions) => call<"postJobs", Job>("postJobs", { ...opts, json: definition }),
    /** Saves a new version of the job's definition. */
    update: (jobId: string, definition: Body<"putJobsById">, opts?: CallOptions) => call<"putJobsById", Job>("putJobsById", { ...opts, params: id(jobId), json: definition }),
    patch: (jobId: string, body: Body<"patchJobsById">, opts?: CallOptions) => call<"patchJobsById", Job>("patchJobsById", { ...opts, params: id(jobId), json: body }),
    delete: (jobId: string, opts?: CallOptions) => call<"deleteJobsById", void>("deleteJobsById", { ...opts, params: id(jobId) }),
    /** Queues a run of the job's current version. */
    run: (jobId: string, opts: RunJobOptions = {}) => {
      const { call: callOptions, rest } = split(opts);
      return call<"postJobsByIdRun", RunRequested>("postJobsByIdRun", { ...callOptions, params: id(jobId), json: rest as Body<"postJobsByIdRun"> });
    },
    versions: (jobId: string, query?: ListQuery<"getJobsByIdVersions">) => list<"getJobsByIdVersions", JobVersion>("getJobsByIdVersions", query, id(jobId)),
    version: (jobId: string, number: number, opts?: CallOptions) => call<"getJobsByIdVersionsByNumber", JobVersion>("getJobsByIdVersionsByNumber", { ...opts, params: { id: jobId, number } }),
  };

  const runs = {
    list: (query?: ListQuery<"getRuns">) => list<"getRuns", RunSummary>("getRuns", query),
    get: (runId: string, opts?: CallOptions) => call<"getRunsById", Run>("getRunsById", { ...opts, params: id(runId) }),
    /** Asks the worker to cancel the run; answers the run as it is now. */
    cancel: (runId: string, opts?: CallOptions) => call<"postRunsByIdCancel", { run: Run }>("postRunsByIdCancel", { ...opts, params: id(runId) }),
    /** Queues a fresh run of the same job version with the same parameters. */
    rerun: (runId: string, opts?: CallOptions) => call<"postRunsByIdRerun", { runId: string; status: RunStatus }>("postRunsByIdRerun", { ...opts, params: id(runId) }),
    steps: (runId: string, query?: Query<"getRunsByIdSteps"> & CallOptions) => {
      const { call: callOptions, rest } = split(query);
      return call<"getRunsByIdSteps", JsonObject>("getRunsByIdSteps", { ...callOptions, params: id(runId), query: rest });
    },
    /** Live events of the run until its end; reconnects with Last-Event-ID, so no output is missed or repeated. */
    events,
    /** Waits until the run is final and answers it. */
    wait: async (runId: string, opts: RunWaitOptions = {}): Promise<Run> => {
      const controller = new AbortController();
      const onAbort = () => controller.abort(opts.signal!.reason);
      if (opts.signal?.aborted) throw opts.signal.reason;
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const timer = opts.timeoutMs ? setTimeout(() => controller.abort(new OpsConductorError(0, "timeout", `run ${runId} was not finished after ${opts.timeoutMs} ms`)), opts.timeoutMs) : undefined;
      try {
        // Resuming after the highest possible sequence: the server sends state and the end, no output.
        for await (const event of events(runId, { lastEventId: MAX_SEQUENCE, signal: controller.signal })) {
          if (event.type === "end") break;
        }
        return await runs.get(runId, { signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) throw controller.signal.reason;
        throw error;
      } finally {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      }
    },
    /** The run's whole output as plain text, streamed (every stream in the order written). */
    log: async (runId: string, opts?: CallOptions): Promise<ReadableStream<Uint8Array>> => {
      const res = await t.send({ ...opts, method: "GET", path: OPERATIONS.getRunsByIdLogTxt.path, params: id(runId), headers: { accept: "text/plain", ...opts?.headers }, stream: true });
      return res.body ?? new ReadableStream({ start: (c) => c.close() });
    },
    /** Lines of the run's log, by line number. */
    logLines: (runId: string, query?: Query<"getRunsByIdLog"> & CallOptions) => {
      const { call: callOptions, rest } = split(query);
      return call<"getRunsByIdLog", JsonObject>("getRunsByIdLog", { ...callOptions, params: id(runId), query: rest });
    },
    searchLog: (runId: string, query: Query<"getRunsByIdLogSearch"> & CallOptions) => {
      const { call: callOptions, rest } = split(query);
      return call<"getRunsByIdLogSearch", JsonObject>("getRunsByIdLogSearch", { ...callOptions, params: id(runId), query: rest });
    },
    logSections: (runId: string, opts?: CallOptions) => call<"getRunsByIdLogSections", JsonObject>("getRunsByIdLogSections", { ...opts, params: id(runId) }),
  };

  const schedules = {
    list: (query?: ListQuery<"getSchedules">) => list<"getSchedules", Schedule>("getSchedules", query),
    get: (scheduleId: string, opts?: CallOptions) => call<"getSchedulesById", Schedule>("getSchedulesById", { ...opts, params: id(scheduleId) }),
    create: (body: Body<"postSchedules">, opts?: CallOptions) => call<"postSchedules", Schedule>("postSchedules", { ...opts, json: body }),
    update: (scheduleId: string, body: Body<"patchSchedulesById">, opts?: CallOptions) => call<"patchSchedulesById", Schedule>("patchSchedulesById", { ...opts, params: id(scheduleId), json: body }),
    delete: (scheduleId: string, opts?: CallOptions) => call<"deleteSchedulesById", void>("deleteSchedulesById", { ...opts, params: id(scheduleId) }),
  };

  const scheduler = {
    status: (opts?: CallOptions) => call<"getSchedulerStatus", JsonObject>("getSchedulerStatus", opts),
    start: (opts?: CallOptions) => call<"postSchedulerStart", JsonObject>("postSchedulerStart", opts),
    stop: (opts?: CallOptions) => call<"postSchedulerStop", JsonObject>("postSchedulerStop", opts),
  };

  const executor = { status: (opts?: CallOptions) => call<"getExecutorStatus", JsonObject>("getExecutorStatus", opts) };

  const audit = { list: (query?: ListQuery<"getAudit">) => list<"getAudit", AuditEntry>("getAudit", query) };

  const tokens = {
    list: (query?: ListQuery<"getTokens">) => list<"getTokens", ApiToken>("getTokens", query),
    get: (tokenId: string, opts?: CallOptions) => call<"getTokensById", ApiToken>("getTokensById", { ...opts, params: id(tokenId) }),
    /** Creates a token; its value is in the answer this once. Needs a password session (a token cannot mint tokens). */
    create: (body: Body<"postTokens">, opts?: CallOptions) => call<"postTokens", TokenCreated>("postTokens", { ...opts, json: body }),
    /** Revokes a token; answers its view with status revoked. */
    delete: (tokenId: string, opts?: CallOptions) => call<"deleteTokensById", ApiToken>("deleteTokensById", { ...opts, params: id(tokenId) }),
  };
  /** The same as tokens.delete, named as the UI and CLI say it. */
  const revokeToken = tokens.delete;

  const serviceAccounts = {
    list: (query?: ListQuery<"getServiceAccounts">) => list<"getServiceAccounts", ServiceAccount>("getServiceAccounts", query),
    get: (accountId: string, opts?: CallOptions) => call<"getServiceAccountsById", ServiceAccount>("getServiceAccountsById", { ...opts, params: id(accountId) }),
    create: (body: Body<"postServiceAccounts">, opts?: CallOptions) => call<"postServiceAccounts", ServiceAccount>("postServiceAccounts", { ...opts, json: body }),
    delete: (accountId: string, opts?: CallOptions) => call<"deleteServiceAccountsById", void>("deleteServiceAccountsById", { ...opts, params: id(accountId) }),
  };

  const config = {
    /** The configuration as one document: parsed JSON, or the YAML text with `format: "yaml"`. */
    export: async (query: Query<"getExport"> & CallOptions = {}): Promise<unknown> => {
      const { call: callOptions, rest } = split(query);
      // The server's default is YAML: ask for JSON unless YAML was asked for.
      if (rest.format !== "yaml") return call<"getExport", unknown>("getExport", { ...callOptions, query: { ...rest, format: "json" } });
      const res = await t.send({ ...callOptions, method: "GET", path: OPERATIONS.getExport.path, query: rest, headers: { accept: "application/yaml, text/yaml, */*", ...callOptions.headers } });
      return res.text();
    },
    /** Applies a configuration document (dryRun: "true" only reports the changes). */
    apply: (document: Body<"postApply">, query: Query<"postApply"> & CallOptions = {}) => {
      const { call: callOptions, rest } = split(query);
      return call<"postApply", JsonObject>("postApply", { ...callOptions, query: rest, json: document });
    },
  };

  const meta = { openapi: (opts?: CallOptions) => call<"getOpenapiJson", JsonObject>("getOpenapiJson", opts) };
  const metrics = { get: (opts?: CallOptions) => call<"getMetrics", JsonObject>("getMetrics", opts) };

  return { auth, users, credentials, targets, files, jobs, runs, schedules, scheduler, executor, audit, tokens: { ...tokens, revoke: revokeToken }, serviceAccounts, config, meta, metrics };
}

/** The client createClient returns. */
export type OpsConductorClient = ReturnType<typeof createClient>;
