// Live run streams (GET /api/runs/{id}/events, Server-Sent Events). All streams of one run share one
// reader, the run's feed: on a notice it reads the new output once (and the run row and its steps
// too, unless the notice was only of new output) and hands the frames to every stream that is
// caught up; feeds that read at the same time share one query. A stream resuming from further back
// replays its own backlog at its client's pace, then joins the feed. Streams are counted per user and in
// total, and every open stream's session is checked again periodically.
import type { Db, OutputStream, RunNotice } from "@opsconductor/db";
import { env } from "../../env.server.ts";
import { logger } from "../../http/observability.server.ts";
import { sessionEnd, type Principal, type SessionEnd } from "../auth/tokens.server.ts";
import { INT4_MIN } from "../../schemas/common.ts";
import { ApiError } from "../errors.server.ts";
import { getRun, listSteps, TERMINAL_STATUSES, type RunView } from "./queries.server.ts";
import { runEvents } from "./run-events.server.ts";

/** Comment line sent this often so proxies and clients keep an idle stream open; each run's feed also re-reads this often. */
export const HEARTBEAT_MS = 15_000;
/** Reconnect delay suggested to EventSource clients. */
const RETRY_MS = 3_000;
/** Retry-After of a 429: streams end when runs end or clients leave, so a slot frees up soon. */
const CAP_RETRY_AFTER_SEC = 10;
const CHUNK_BATCH = 500;

const encoder = new TextEncoder();
function frame(event: string, data: unknown, id?: number): Uint8Array {
  return encoder.encode(`${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

const END_MESSAGES: Record<SessionEnd, string> = {
  user_deleted: "the account that opened this stream was deleted",
  user_disabled: "the account that opened this stream was disabled",
  session_revoked: "the session that opened this stream was signed out or revoked (revoke-all, a password or role change); sign in again",
  token_expired: "the access token that opened this stream expired; reconnect with a fresh token and Last-Event-ID to resume",
};

interface Chunk {
  stepId: string | null;
  stream: OutputStream;
  sequence: number;
  text: string;
  at: Date;
}

/** One read of a run's row and steps; `epoch` orders reads, so an older one never overwrites a newer one. */
interface Snapshot {
  epoch: number;
  run: RunView;
  runJson: string;
  runFrame: Uint8Array;
  steps: { id: string; json: string; frame: Uint8Array }[];
  finished: boolean;
}

const after = (sequence: number | null) => sequence ?? -Infinity;

function readChunks(db: Db, runId: string, afterSequence: number | null): Promise<Chunk[]> {
  return db.runOutputChunk.findMany({
    where: { runId, ...(afterSequence !== null ? { sequence: { gt: afterSequence } } : {}) },
    select: { stepId: true, stream: true, sequence: true, text: true, at: true },
    orderBy: { sequence: "asc" },
    take: CHUNK_BATCH,
  });
}

interface ChunkRequest {
  runId: string;
  afterSequence: number | null;
  resolve: (chunks: Chunk[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The feeds' reads of new output. One read is under way at a time; the feeds that ask meanwhile
 * are answered together by the next, one query for all their runs: many busy runs cost a few
 * queries a second instead of one per notice per run, and a lone run waits for nothing.
 */
class ChunkReader {
  private pending: ChunkRequest[] = [];
  private reading = false;
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  read(runId: string, afterSequence: number | null): Promise<Chunk[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ runId, afterSequence, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          if (batch.length === 1) {
            batch[0]!.resolve(await readChunks(this.db, batch[0]!.runId, batch[0]!.afterSequence));
            continue;
          }
          const rows = await this.db.$queryRaw<(Chunk & { runId: string })[]>`
            SELECT r.run_id::text AS "runId", c.step_id::text AS "stepId", c.stream::text AS stream, c.sequence, c.text, c.at
            FROM unnest(${batch.map((r) => r.runId)}::uuid[], ${batch.map((r) => r.afterSequence ?? INT4_MIN)}::int[]) AS r(run_id, after)
            CROSS JOIN LATERAL (
              SELECT step_id, stream, sequence, text, at FROM run_output_chunks
              WHERE run_id = r.run_id AND sequence > r.after ORDER BY sequence LIMIT ${CHUNK_BATCH}
            ) c
            ORDER BY r.run_id, c.sequence`;
          const byRun = new Map<string, Chunk[]>();
          for (const { runId, ...chunk } of rows) {
            let list = byRun.get(runId);
            if (!list) byRun.set(runId, (list = []));
            list.push(chunk);
          }
          for (const request of batch) request.resolve(byRun.get(request.runId) ?? []);
        } catch (error) {
          for (const request of batch) request.reject(error);
        }
      }
    } finally {
      this.reading = false;
    }
  }
}

const chunkReaders = new WeakMap<Db, ChunkReader>();
function chunkReader(db: Db): ChunkReader {
  let reader = chunkReaders.get(db);
  if (!reader) chunkReaders.set(db, (reader = new ChunkReader(db)));
  return reader;
}

/** One client's stream. */
class RunStream {
  /** Sequence of the last output chunk sent (null: none yet). */
  cursor: number | null;
  closed = false;
  private epoch = 0;
  private sentRun = "";
  private readonly sentSteps = new Map<string, string>();
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private wake: (() => void) | null = null;
  readonly response: Response;
  readonly feed: RunFeed;
  readonly principal: Principal;
  private readonly onClose: (stream: RunStream) => void;

  constructor(feed: RunFeed, principal: Principal, lastEventId: number | null, onClose: (stream: RunStream) => void) {
    this.feed = feed;
    this.principal = principal;
    this.onClose = onClose;
    this.cursor = lastEventId;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      pull: () => {
        this.wake?.();
        this.wake = null;
      },
      cancel: () => this.close(),
    });
    this.response = new Response(body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        // no-transform keeps the compression middleware from buffering the stream.
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
      },
    });
  }

  send(bytes: Uint8Array): void {
    if (!this.closed) this.controller.enqueue(bytes);
  }

  /** True while the client has not taken what was sent before. */
  get behind(): boolean {
    return (this.controller.desiredSize ?? 1) <= 0;
  }

  // Big replays wait for the client to read instead of piling up in memory.
  private async room(): Promise<void> {
    while (!this.closed && this.behind) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Sends what changed in `snapshot` since the snapshot this stream last applied; older ones are ignored. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.epoch <= this.epoch) return;
    this.epoch = snapshot.epoch;
    if (snapshot.runJson !== this.sentRun) {
      this.sentRun = snapshot.runJson;
      this.send(snapshot.runFrame);
    }
    for (const step of snapshot.steps) {
      if (this.sentSteps.get(step.id) === step.json) continue;
      this.sentSteps.set(step.id, step.json);
      this.send(step.frame);
    }
  }

  /** Sends the chunks after this stream's cursor; `frames[i]` is the frame of `chunks[i]`. */
  sendChunks(chunks: Chunk[], frames?: Uint8Array[]): void {
    chunks.forEach((chunk, i) => {
      if (chunk.sequence <= after(this.cursor)) return;
      this.send(frames?.[i] ?? frame("output", chunk, chunk.sequence));
      this.cursor = chunk.sequence;
    });
  }

  /** The run finished and every chunk stored before it did was sent. */
  finish(run: RunView): void {
    this.send(frame("end", { runId: run.id, status: run.status, lastSequence: this.cursor }));
    this.close();
  }

  /** Ends the stream from the server's side, telling the client why first. */
  fail(code: string, message: string): void {
    this.send(frame("error", { error: { code, message } }));
    this.close();
  }

  /** Reads this stream's own backlog at its client's pace until it has caught up, then joins the feed. */
  async replay(): Promise<void> {
    try {
      for (;;) {
        const snapshot = await this.feed.readSnapshot();
        if (this.closed) return;
        this.applySnapshot(snapshot);
        // Chunks are read after the run row: every chunk stored before the run finished is seen here.
        for (;;) {
          await this.room();
          if (this.closed) return;
          const chunks = await readChunks(this.feed.db, this.feed.runId, this.cursor);
          this.sendChunks(chunks);
          if (chunks.length < CHUNK_BATCH) break;
        }
        if (this.closed) return;
        if (snapshot.finished) return this.finish(snapshot.run);
        if (this.feed.join(this)) return;
      }
    } catch (error) {
      if (!this.closed) logger().warn(`[run-events] stream of run ${this.feed.runId} stopped: ${(error as Error).message}`);
      this.close();
    }
  }

  /** Closes the stream when the client goes away. */
  closeOnAbort(signal: AbortSignal): void {
    if (signal.aborted) this.close();
    else signal.addEventListener("abort", () => this.close(), { once: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    try {
      this.controller.close();
    } catch {
      // already closed or errored by the consumer
    }
    this.onClose(this);
  }
}

/** The shared reader of one run: one read per notice, fanned out to every caught-up stream. */
class RunFeed {
  readonly streams = new Set<RunStream>();
  /** Streams that have all output up to `cursor` and take each read of the feed. */
  private readonly live = new Set<RunStream>();
  /** Sequence of the last chunk the feed has read (meaningful while `live` is not empty). */
  private cursor: number | null = null;
  private epoch = 0;
  private pumping = false;
  private again = false;
  /** The next read also re-reads the run row and steps: a notice other than of new output (or none, after a reconnect) came. */
  private snapshotDue = true;
  private unsubscribe: (() => void) | null = null;
  private disposed = false;
  private readonly timer: NodeJS.Timeout;
  /** Resolves once the feed listens for the run's notices. */
  readonly ready: Promise<void>;
  readonly db: Db;
  readonly runId: string;

  constructor(db: Db, runId: string) {
    this.db = db;
    this.runId = runId;
    this.ready = runEvents()
      .subscribe(runId, (notice) => this.onNotice(notice))
      .then((stop) => {
        if (this.disposed) stop();
        else this.unsubscribe = stop;
      });
    // The periodic re-read keeps streams moving while the listener reconnects.
    this.timer = setInterval(() => {
      for (const stream of this.streams) stream.send(HEARTBEAT);
      this.snapshotDue = true;
      void this.pump();
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  // The worker announces output, step and run changes apart, so a notice of output alone leaves the
  // run row and steps as they were; a busy run's notices then cost one query each, not three.
  private onNotice(notice: RunNotice | null): void {
    if (notice?.kind === "output") {
      // Output the feed has already read and sent (its read was under way when the notice came).
      if (notice.sequence !== undefined && this.live.size > 0 && notice.sequence <= after(this.cursor)) return;
    } else this.snapshotDue = true;
    void this.pump();
  }

  async readSnapshot(): Promise<Snapshot> {
    const epoch = ++this.epoch;
    const run = await getRun(this.db, this.runId);
    const steps = await listSteps(this.db, this.runId);
    return {
      epoch,
      run,
      runJson: JSON.stringify(run),
      runFrame: frame("run", run),
      steps: steps.map((step) => ({ id: step.id, json: JSON.stringify(step), frame: frame("step", step) })),
      finished: TERMINAL_STATUSES.has(run.status),
    };
  }

  /** Takes a stream that has replayed up to the feed's position; false when the feed has moved on. */
  join(stream: RunStream): boolean {
    if (this.live.size > 0 && after(stream.cursor) < after(this.cursor)) return false;
    if (this.live.size === 0) this.cursor = stream.cursor;
    this.live.add(stream);
    // A read that starts after the join: whatever changed while the stream replayed reaches it.
    this.snapshotDue = true;
    void this.pump();
    return true;
  }

  private demote(stream: RunStream): void {
    this.live.delete(stream);
    void stream.replay();
  }

  remove(stream: RunStream): void {
    this.streams.delete(stream);
    this.live.delete(stream);
    if (this.streams.size > 0) return;
    this.disposed = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  async pump(): Promise<void> {
    if (this.live.size === 0) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const withSnapshot = this.snapshotDue;
        this.snapshotDue = false;
        await this.pumpOnce(withSnapshot);
      } while (this.again && this.live.size > 0);
    } catch (error) {
      this.snapshotDue = true;
      if (this.live.size > 0) logger().warn(`[run-events] stream of run ${this.runId} stopped: ${(error as Error).message}`);
      for (const stream of this.live) stream.close();
    } finally {
      this.pumping = false;
    }
  }

  private async pumpOnce(withSnapshot: boolean): Promise<void> {
    // Chunks are read after the run row: when it says finished, every chunk stored before is seen.
    const snapshot = withSnapshot ? await this.readSnapshot() : null;
    if (snapshot) for (const stream of this.live) stream.applySnapshot(snapshot);
    for (;;) {
      if (this.live.size === 0) return;
      const from = this.cursor;
      const chunks = await chunkReader(this.db).read(this.runId, from);
      const frames = chunks.map((chunk) => frame("output", chunk, chunk.sequence));
      for (const stream of this.live) {
        // A stream that missed output (it joined a read already under way) or whose client has not
        // taken the last delivery reads on its own again, at its own pace.
        if (after(stream.cursor) < after(from) || (chunks.length > 0 && stream.behind)) this.demote(stream);
        else stream.sendChunks(chunks, frames);
      }
      if (chunks.length > 0) this.cursor = chunks.at(-1)!.sequence;
      if (chunks.length < CHUNK_BATCH) break;
    }
    if (snapshot?.finished) for (const stream of this.live) stream.finish(snapshot.run);
  }
}

/** Counts, feeds and the periodic session check of every live run stream of this process. */
class RunStreams {
  private readonly feeds = new Map<string, RunFeed>();
  private readonly all = new Set<RunStream>();
  private readonly perUser = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;

  /** How many streams are open, in total and of one user. */
  count(userId?: string): number {
    return userId === undefined ? this.all.size : (this.perUser.get(userId) ?? 0);
  }

  /**
   * Opens a stream of a run for `principal`: its snapshot and steps, the stored output after
   * `lastEventId`, then live changes until the run has finished and all its output is sent.
   */
  async open(db: Db, runId: string, principal: Principal, lastEventId: number | null, signal: AbortSignal): Promise<Response> {
    const config = env();
    // Refused before any read: a flood of streams costs no queries.
    if (this.count(principal.id) >= config.RUN_STREAMS_PER_USER) {
      throw tooMany(`you have ${config.RUN_STREAMS_PER_USER} live run streams open, as many as one user may (RUN_STREAMS_PER_USER); close one first`);
    }
    if (this.all.size >= config.RUN_STREAMS_TOTAL) {
      throw tooMany(`the server has ${config.RUN_STREAMS_TOTAL} live run streams open, as many as it serves (RUN_STREAMS_TOTAL); try again later`);
    }
    let feed = this.feeds.get(runId);
    if (!feed) this.feeds.set(runId, (feed = new RunFeed(db, runId)));
    const stream = new RunStream(feed, principal, lastEventId, (s) => this.release(s));
    feed.streams.add(stream);
    this.all.add(stream);
    this.perUser.set(principal.id, this.count(principal.id) + 1);
    this.startSweeping();
    try {
      await getRun(db, runId); // 404 before any stream opens
    } catch (error) {
      stream.close();
      throw error;
    }
    stream.closeOnAbort(signal);
    void (async () => {
      // Listen before the first read, so nothing that changes in between is missed.
      await feed.ready;
      if (stream.closed) return;
      stream.send(encoder.encode(`retry: ${RETRY_MS}\n\n`));
      await stream.replay();
    })();
    return stream.response;
  }

  private release(stream: RunStream): void {
    if (!this.all.delete(stream)) return;
    const userId = stream.principal.id;
    const left = this.count(userId) - 1;
    if (left > 0) this.perUser.set(userId, left);
    else this.perUser.delete(userId);
    stream.feed.remove(stream);
    if (stream.feed.streams.size === 0 && this.feeds.get(stream.feed.runId) === stream.feed) this.feeds.delete(stream.feed.runId);
    if (this.all.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  private startSweeping(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => void this.sweep(), env().RUN_STREAM_REAUTH_SEC * 1000);
    this.sweepTimer.unref();
  }

  /** Checks every open stream's session against its user row, one query for all of them. */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.all.size === 0) return;
    this.sweeping = true;
    try {
      const streams = [...this.all];
      const ids = [...new Set(streams.map((s) => s.principal.id))];
      const rows = await streams[0]!.feed.db.user.findMany({ where: { id: { in: ids } }, select: { id: true, disabled: true, tokenVersion: true } });
      const users = new Map(rows.map((row) => [row.id, row]));
      const now = Date.now();
      for (const stream of streams) {
        // Every principal from authenticate() carries its token's claims; one without them has no session to keep.
        const token = stream.principal.token ?? { sub: stream.principal.id, tv: Number.NaN, exp: 0 };
        const reason = sessionEnd(users.get(stream.principal.id) ?? null, token, now);
        if (reason) stream.fail(reason, END_MESSAGES[reason]);
      }
    } catch (error) {
      // Streams stay open: they show nothing new while the database is unreachable anyway.
      logger().warn(`[run-events] cannot check the sessions of open streams: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}

function tooMany(message: string): ApiError {
  return new ApiError(429, "too_many_streams", message, { headers: { "Retry-After": String(CAP_RETRY_AFTER_SEC) } });
}

// One registry per process, kept across Vite's module reloads in development.
const holder = globalThis as typeof globalThis & { __opsconductorRunStreams?: RunStreams };
/** The process's live run streams. */
export function runStreams(): RunStreams {
  holder.__opsconductorRunStreams ??= new RunStreams();
  return holder.__opsconductorRunStreams;
}
