// Live run events for browsers and SDK clients: one LISTEN connection per process fans the worker's
// NOTIFY notices out to every open Server-Sent Events stream. A notice only says that something
// changed; each stream re-reads the rows, so a missed or duplicated notice costs a query, never data.
import pg from "pg";
import { RUN_EVENTS_CHANNEL, type Db, type RunNotice } from "@opsconductor/db";
import { env } from "../env.server.ts";
import { INT4_MAX, INT4_MIN } from "./api.server.ts";
import { ApiError } from "./errors.server.ts";
import { getRun, listSteps, TERMINAL_STATUSES, type RunView } from "./runs.server.ts";

/** Comment line sent this often so proxies and clients keep an idle stream open. */
export const HEARTBEAT_MS = 15_000;
/** Reconnect delay suggested to EventSource clients. */
const RETRY_MS = 3_000;
const CHUNK_BATCH = 500;

type Listener = (notice: RunNotice | null) => void;

/** The process's one LISTEN connection on RUN_EVENTS_CHANNEL; reconnects when it drops. */
class RunEventHub {
  private readonly subscribers = new Map<string, Set<Listener>>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;

  /** Calls `listener` on every notice for `runId` (and with null after a reconnect, when notices may have been missed). Resolves once listening. */
  async subscribe(runId: string, listener: Listener): Promise<() => void> {
    let set = this.subscribers.get(runId);
    if (!set) this.subscribers.set(runId, (set = new Set()));
    set.add(listener);
    const unsubscribe = () => {
      const current = this.subscribers.get(runId);
      current?.delete(listener);
      if (current?.size === 0) this.subscribers.delete(runId);
    };
    try {
      await this.connect();
    } catch (error) {
      // The stream still works from its periodic re-read; the hub keeps trying in the background.
      console.warn(`[run-events] cannot listen for run events: ${(error as Error).message}`);
      this.scheduleReconnect();
    }
    return unsubscribe;
  }

  private connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = pg.Client;
      const connection = new client({ connectionString: env().DATABASE_URL, application_name: "opsconductor-web-run-events" });
      connection.on("notification", (message) => this.dispatch(message.payload));
      connection.on("error", (error) => this.drop(connection, error));
      connection.on("end", () => this.drop(connection));
      try {
        await connection.connect();
        await connection.query(`LISTEN ${RUN_EVENTS_CHANNEL}`);
      } catch (error) {
        void connection.end().catch(() => undefined);
        throw error;
      }
      this.client = connection;
      this.failures = 0;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private dispatch(payload: string | undefined): void {
    let notice: RunNotice;
    try {
      notice = JSON.parse(payload ?? "") as RunNotice;
    } catch {
      return;
    }
    if (typeof notice?.runId !== "string") return;
    for (const listener of this.subscribers.get(notice.runId) ?? []) listener(notice);
  }

  private drop(connection: pg.Client, error?: Error): void {
    if (this.client !== connection) return;
    this.client = null;
    void connection.end().catch(() => undefined);
    console.warn(`[run-events] lost the run events connection${error ? `: ${error.message}` : ""}; reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.subscribers.size === 0) return;
    const delay = Math.min(30_000, 500 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.subscribers.size === 0) return;
      this.connect().then(
        () => {
          // Anything may have happened while nobody listened: every stream re-reads.
          for (const set of this.subscribers.values()) for (const listener of set) listener(null);
        },
        (error: unknown) => {
          console.warn(`[run-events] reconnect failed: ${(error as Error).message}`);
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.retryTimer.unref();
  }
}

// One hub per process, kept across Vite's module reloads in development.
const holder = globalThis as typeof globalThis & { __opsconductorRunEvents?: RunEventHub };
/** The process's run event hub. */
export function runEvents(): RunEventHub {
  holder.__opsconductorRunEvents ??= new RunEventHub();
  return holder.__opsconductorRunEvents;
}

/** Where a client resumes: the Last-Event-ID header (sent by EventSource on reconnect) wins over `?lastEventId=`. */
export function resumeSequence(request: Request, fromQuery: number | undefined): number | null {
  const header = request.headers.get("last-event-id")?.trim();
  if (!header) return fromQuery ?? null;
  if (!/^-?\d{1,10}$/.test(header) || Number(header) < INT4_MIN || Number(header) > INT4_MAX) {
    const message = `headers.last-event-id must be the id of an output event (a whole number from ${INT4_MIN} to ${INT4_MAX})`;
    throw new ApiError(400, "validation_failed", message, { details: [{ path: "headers.last-event-id", message }] });
  }
  return Number(header);
}

const encoder = new TextEncoder();
function frame(event: string, data: unknown, id?: number): Uint8Array {
  return encoder.encode(`${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * A Server-Sent Events response for one run: its snapshot and steps, the stored output after
 * `lastEventId`, then live changes until the run has finished and all its output is sent.
 */
export async function runEventStream(db: Db, runId: string, lastEventId: number | null, signal: AbortSignal): Promise<Response> {
  await getRun(db, runId); // 404 before any stream opens
  let closed = false;
  let lastSequence = lastEventId;
  let sentRun = "";
  const sentSteps = new Map<string, string>();
  let pumping = false;
  let again = false;
  let wake: (() => void) | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: () => void = () => undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    signal.removeEventListener("abort", close);
    wake?.();
    try {
      controller.close();
    } catch {
      // already closed or errored by the consumer
    }
  };
  const send = (bytes: Uint8Array) => {
    if (!closed) controller.enqueue(bytes);
  };
  // Big replays wait for the client to read instead of piling up in memory.
  const room = async () => {
    while (!closed && (controller.desiredSize ?? 1) <= 0) await new Promise<void>((resolve) => (wake = resolve));
  };

  const pumpOnce = async () => {
    const run: RunView = await getRun(db, runId);
    const runJson = JSON.stringify(run);
    if (runJson !== sentRun) {
      sentRun = runJson;
      send(frame("run", run));
    }
    for (const step of await listSteps(db, runId)) {
      const json = JSON.stringify(step);
      if (sentSteps.get(step.id) === json) continue;
      sentSteps.set(step.id, json);
      send(frame("step", step));
    }
    // Chunks are read after the run row: every chunk stored before the run finished is seen here.
    for (;;) {
      await room();
      if (closed) return;
      const chunks = await db.runOutputChunk.findMany({
        where: { runId, ...(lastSequence !== null ? { sequence: { gt: lastSequence } } : {}) },
        select: { stepId: true, stream: true, sequence: true, text: true, at: true },
        orderBy: { sequence: "asc" },
        take: CHUNK_BATCH,
      });
      for (const chunk of chunks) {
        send(frame("output", chunk, chunk.sequence));
        lastSequence = chunk.sequence;
      }
      if (chunks.length < CHUNK_BATCH) break;
    }
    if (TERMINAL_STATUSES.has(run.status)) {
      send(frame("end", { runId, status: run.status, lastSequence }));
      close();
    }
  };

  const pump = async () => {
    if (closed) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        await pumpOnce();
      } while (again && !closed);
    } catch (error) {
      if (!closed) console.warn(`[run-events] stream of run ${runId} stopped: ${(error as Error).message}`);
      close();
    } finally {
      pumping = false;
    }
  };

  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (signal.aborted) return close();
      signal.addEventListener("abort", close);
      void (async () => {
        // Listen before the first read, so nothing that changes in between is missed.
        const stop = await runEvents().subscribe(runId, () => void pump());
        if (closed) return stop();
        unsubscribe = stop;
        send(encoder.encode(`retry: ${RETRY_MS}\n\n`));
        // The heartbeat also re-reads, so a stream progresses even while the listener reconnects.
        heartbeat = setInterval(() => {
          send(encoder.encode(": heartbeat\n\n"));
          void pump();
        }, HEARTBEAT_MS);
        await pump();
      })();
    },
    pull() {
      wake?.();
      wake = null;
    },
    cancel() {
      close();
    },
  });

  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      // no-transform keeps the compression middleware from buffering the stream.
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
    },
  });
}
