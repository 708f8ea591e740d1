// Persists one run's progress: output chunks in batches (one INSERT per batch, not per line), step
// and run rows as they change, and a NOTIFY after each write so the web app can relay it live.
// Every write is fenced by the run's lease (worker id, attempt): the first one that matches nothing
// means another party took the run over, and the recorder writes nothing more for it.
import { appendLeasedRunOutput, notifyRun, updateLeasedRun, withRunLease, type OutputChunk, type Prisma, type PrismaClient, type RunLease } from "@opsconductor/db";
import type { Logger } from "pino";

const FLUSH_AFTER_MS = 100;
const FLUSH_AT_BYTES = 64 * 1024;
const WRITE_ATTEMPTS = 6;
/** A run's stored stdout and stderr stop at this many bytes unless the worker is told otherwise (RUN_OUTPUT_MAX_BYTES). */
export const DEFAULT_MAX_RUN_OUTPUT_BYTES = 100 * 1024 * 1024;

export type OutputStreamName = "stdout" | "stderr" | "system";

export class RunRecorder {
  private chain: Promise<void> = Promise.resolve();
  private pending: OutputChunk[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sequence: number;
  private readonly prisma: PrismaClient;
  private readonly lease: RunLease;
  private readonly runId: string;
  private readonly onLeaseLost: ((reason: string) => void) | undefined;
  /** Why the run is no longer this worker's, once a fenced write matched nothing. */
  lostReason: string | undefined;
  private readonly stepIds: readonly string[];
  private readonly logger: Logger;
  private readonly maxOutputBytes: number;
  private storedBytes: number;
  private truncated = false;
  /** Output chunks written, for tests and metrics. */
  batches = 0;

  constructor(options: {
    prisma: PrismaClient;
    lease: RunLease;
    /** Called once when a write finds the run taken over (reaped, re-claimed): the caller stops the run. */
    onLeaseLost?: (reason: string) => void;
    stepIds: readonly string[];
    lastSequence: number;
    logger: Logger;
    /** Cap of the run's stored stdout + stderr, in UTF-8 bytes. */
    maxOutputBytes?: number;
    /** Bytes of stdout + stderr earlier attempts already stored. */
    storedBytes?: number;
  }) {
    this.prisma = options.prisma;
    this.lease = options.lease;
    this.runId = options.lease.runId;
    this.onLeaseLost = options.onLeaseLost;
    this.stepIds = options.stepIds;
    this.sequence = options.lastSequence;
    this.logger = options.logger;
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_RUN_OUTPUT_BYTES;
    this.storedBytes = options.storedBytes ?? 0;
  }

  /**
   * Queues a chunk of output; it is written within FLUSH_AFTER_MS, or at once when the batch is
   * large. Past the run's output cap, stdout and stderr are dropped after one marker line; the
   * steps run on and end as they really end, and system lines are still stored.
   */
  output(stepIndex: number | null, stream: OutputStreamName, text: string): void {
    if (text === "" || this.lostReason) return;
    if (stream !== "system") {
      if (this.truncated) return;
      const bytes = Buffer.byteLength(text, "utf8");
      if (this.storedBytes + bytes > this.maxOutputBytes) {
        const head = utf8Prefix(text, this.maxOutputBytes - this.storedBytes);
        if (head) this.queue(stepIndex, stream, head);
        this.storedBytes = this.maxOutputBytes;
        this.truncated = true;
        this.queue(stepIndex, "system", `\n[output truncated: the run's output reached ${formatBytes(this.maxOutputBytes)} (RUN_OUTPUT_MAX_BYTES); the steps go on, but their further output is not stored]\n`);
        return;
      }
      this.storedBytes += bytes;
    }
    this.queue(stepIndex, stream, text);
  }

  private queue(stepIndex: number | null, stream: OutputStreamName, text: string): void {
    this.pending.push({ stepId: stepIndex === null ? null : (this.stepIds[stepIndex] ?? null), stream, sequence: ++this.sequence, text, at: new Date() });
    this.pendingBytes += text.length;
    if (this.pendingBytes >= FLUSH_AT_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  /** Writes a step's new state after every output queued before it. */
  step(stepIndex: number, data: Prisma.JobRunStepUpdateInput): void {
    this.flush();
    const id = this.stepIds[stepIndex];
    if (!id) return;
    this.enqueue(`step ${stepIndex + 1}`, async () => {
      const { held } = await withRunLease(this.prisma, this.lease, (tx) => tx.jobRunStep.update({ where: { id }, data }));
      if (held) await notifyRun(this.prisma, { runId: this.runId, kind: "step" });
      return held;
    });
  }

  /** Writes the run's new state after every output queued before it. */
  run(data: Prisma.JobRunUpdateManyMutationInput): void {
    this.flush();
    this.enqueue("run", async () => {
      const held = await updateLeasedRun(this.prisma, this.lease, data);
      if (held) await notifyRun(this.prisma, { runId: this.runId, kind: "run" });
      return held;
    });
  }

  private leaseLost(what: string): void {
    if (this.lostReason) return;
    this.lostReason = `this worker no longer holds the run (attempt ${this.lease.attempt}): its ${what} write matched nothing, so the run was taken over (reaped or claimed by another attempt)`;
    this.pending = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    this.logger.warn({ runId: this.runId, attempt: this.lease.attempt, write: what }, `${this.lostReason}; stopping the run and writing nothing more for it`);
    this.onLeaseLost?.(this.lostReason);
  }

  /** Waits until everything queued so far is written. */
  async drain(): Promise<void> {
    this.flush();
    await this.chain;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.enqueue("output", async () => {
      if (!(await appendLeasedRunOutput(this.prisma, this.lease, batch))) return false;
      this.batches++;
      await notifyRun(this.prisma, { runId: this.runId, kind: "output", sequence: batch[batch.length - 1]!.sequence });
      return true;
    });
  }

  // Writes happen strictly in order; a write that fails (the database restarting, say) is retried
  // with backoff rather than dropped. A write the lease fence refuses is final: nothing after it is sent.
  private enqueue(what: string, write: () => Promise<boolean>): void {
    this.chain = this.chain.then(async () => {
      for (let attempt = 1; !this.lostReason; attempt++) {
        try {
          if (!(await write())) this.leaseLost(what);
          return;
        } catch (error) {
          if (this.lostReason) return;
          if (attempt >= WRITE_ATTEMPTS) {
            this.logger.error({ err: error, runId: this.runId }, "could not record run progress; giving up on this write");
            return;
          }
          this.logger.warn({ err: error, runId: this.runId, attempt }, "recording run progress failed; retrying");
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
    });
  }
}

// The longest prefix of `text` that fits in `bytes` UTF-8 bytes, never splitting a character.
function utf8Prefix(text: string, bytes: number): string {
  if (bytes <= 0) return "";
  let prefix = Buffer.from(text, "utf8").subarray(0, bytes).toString("utf8");
  if (prefix.endsWith("\uFFFD") && !text.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
