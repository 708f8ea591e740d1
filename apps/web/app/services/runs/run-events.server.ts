// Live run events for browsers and SDK clients: one LISTEN connection per process fans the worker's
// NOTIFY notices out to the feeds of open Server-Sent Events streams (run-streams.server.ts). A
// notice only says that something changed; the feed re-reads the rows, so a missed or duplicated
// notice costs a query, never data.
import pg from "pg";
import { RUN_EVENTS_CHANNEL, type RunNotice } from "@opsconductor/db";
import { env } from "../../env.server.ts";
import { logger } from "../../http/observability.server.ts";
import { INT4_MAX, INT4_MIN } from "../../schemas/common.ts";
import { ApiError } from "../errors.server.ts";

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
      logger().warn(`[run-events] cannot listen for run events: ${(error as Error).message}`);
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
    logger().warn(`[run-events] lost the run events connection${error ? `: ${error.message}` : ""}; reconnecting`);
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
          logger().warn(`[run-events] reconnect failed: ${(error as Error).message}`);
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
export function resumeSequence(lastEventId: string | null, fromQuery: number | undefined): number | null {
  const header = lastEventId?.trim();
  if (!header) return fromQuery ?? null;
  if (!/^-?\d{1,10}$/.test(header) || Number(header) < INT4_MIN || Number(header) > INT4_MAX) {
    const message = `headers.last-event-id must be the id of an output event (a whole number from ${INT4_MIN} to ${INT4_MAX})`;
    throw new ApiError(400, "validation_failed", message, { details: [{ path: "headers.last-event-id", message }] });
  }
  return Number(header);
}
