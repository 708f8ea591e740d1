// A dedicated LISTEN connection that survives database restarts: on any error it reconnects with
// backoff and re-subscribes, and tells the owner so it can re-read state it may have missed.
import pg from "pg";
import type { Logger } from "pino";

export interface Listener {
  close(): Promise<void>;
}

export interface ListenOptions {
  databaseUrl: string;
  channels: string[];
  onNotification(channel: string, payload: string): void;
  /** Called after every (re)connection: notifications sent while disconnected were lost. */
  onConnected?(): void;
  logger: Logger;
}

/** Opens a LISTEN connection on `channels`, reconnecting until closed. */
export function listen(options: ListenOptions): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString: options.databaseUrl, keepAlive: true });
    const retry = (error: unknown) => {
      if (closed || client !== next) return;
      client = undefined;
      next.removeAllListeners();
      next.on("error", () => {});
      void next.end().catch(() => {});
      const delay = Math.min(10_000, 250 * 2 ** attempt++);
      options.logger.warn({ err: error, channels: options.channels, retryInMs: delay }, "LISTEN connection lost; reconnecting");
      retryTimer = setTimeout(() => void connect(), delay);
    };
    client = next;
    next.on("error", retry);
    next.on("end", () => retry(new Error("connection ended")));
    next.on("notification", (message) => {
      try {
        options.onNotification(message.channel, message.payload ?? "");
      } catch (error) {
        options.logger.error({ err: error }, "notification handler failed");
      }
    });
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
      attempt = 0;
      options.onConnected?.();
    } catch (error) {
      retry(error);
    }
  };
  void connect();

  return {
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      if (current) {
        current.removeAllListeners();
        current.on("error", () => {});
        await current.end().catch(() => {});
      }
    },
  };
}
