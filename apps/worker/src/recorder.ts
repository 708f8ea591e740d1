// Persists one run's progress: output chunks in batches (one INSERT per batch, not per line), step
// and run rows as they change, and a NOTIFY after each write so the web app can relay it live.
// Every write is fenced by the run's lease (worker id, attempt): the first one that matches nothing
// means another party took the run over, and the recorder writes nothing more for it.
import { appendLeasedRunOutput, notifyRun, updateLeasedRun, updateLeasedStep, type LeasedStepUpdate, type OutputChunk, type Prisma, type PrismaClient, type RunLease } from "@opsconductor/db";
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
  private tail: { stepIndex: number | null; stream: OutputStreamName; text: string; bytes: number }[] = [];
  private tailBytes = 0;
  private droppedBytes = 0;
  private droppedLines = 0;
  /** Bytes of stdout + stderr dropped by the cap so far, for tests and metrics. */
  totalDroppedBytes = 0;
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
   * large. Past half the run's output cap (the head), stdout and stderr go into a bounded ring that
   * keeps only the newest part of each step; when the step ends the ring is written after a notice
   * of how many lines and bytes were dropped, so the stored log is the head and each step's tail,
   * never more than the cap. The steps run on and end as they really end; system lines are always stored.
   */
  output(stepIndex: number | null, stream: OutputStreamName, text: string): void {
    if (text === "" || this.lostReason) return;
    if (stream === "system") {
      // A system line (a step's error, the run's end) comes after the output before it, held-back tail included.
      this.flushTail();
      return this.queue(stepIndex, stream, text);
    }
    const bytes = Buffer.byteLength(text, "utf8");
    const headBytes = Math.floor(this.maxOutputBytes / 2);
    if (!this.truncated && this.storedBytes + bytes <= headBytes) {
      this.storedBytes += bytes;
      return this.queue(stepIndex, stream, text);
    }
    if (!this.truncated) {
      const head = utf8Prefix(text, headBytes - this.storedBytes);
      if (head) this.queue(stepIndex, stream, head);
      this.storedBytes += Buffer.byteLength(head, "utf8");
      this.truncated = true;
      this.queue(stepIndex, "system", `\n[output truncated: the run's output passed ${formatBytes(headBytes)}, half of its ${formatBytes(this.maxOutputBytes)} cap (RUN_OUTPUT_MAX_BYTES); from here only the last part of each step is kept, written with a count of what was dropped when the step ends]\n`);
      text = text.slice(head.length);
      if (text === "") return;
    }
    this.keepTail(stepIndex, stream, text);
  }

  // The tail ring: the newest output of the current step, at most a fair share of what the cap has left
  // (split evenly over the steps still to come, so a chatty first step cannot starve the last one).
  private keepTail(stepIndex: number | null, stream: OutputStreamName, text: string): void {
    if (this.tail.length > 0 && this.tail[0]!.stepIndex !== stepIndex) this.flushTail();
    const stepsLeft = stepIndex === null ? 1 : Math.max(1, this.stepIds.length - stepIndex);
    const capacity = Math.floor((this.maxOutputBytes - this.storedBytes) / stepsLeft);
    const bytes = Buffer.byteLength(text, "utf8");
    this.tail.push({ stepIndex, stream, text, bytes });
    this.tailBytes += bytes;
    while (this.tailBytes > capacity && this.tail.length > 0) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - capacity;
      if (first.bytes <= excess) {
        this.tail.shift();
        this.drop(first.text, first.bytes);
        this.tailBytes -= first.bytes;
        continue;
      }
      // Cut the oldest entry to fit, and then on to its next line break so the tail starts with a whole line.
      let rest = utf8Suffix(first.text, first.bytes - excess);
      const newline = rest.indexOf("\n");
      if (newline >= 0 && newline < rest.length - 1) rest = rest.slice(newline + 1);
      const restBytes = Buffer.byteLength(rest, "utf8");
      this.drop(first.text.slice(0, first.text.length - rest.length), first.bytes - restBytes);
      this.tailBytes -= first.bytes - restBytes;
      first.text = rest;
      first.bytes = restBytes;
      if (restBytes === 0) this.tail.shift();
    }
  }

  private drop(text: string, bytes: number): void {
    this.droppedBytes += bytes;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.droppedLines++;
  }

  // Writes the held-back tail of a step: the notice of what was dropped, then the tail itself.
  private flushTail(): void {
    if (this.tail.length === 0 && this.droppedBytes === 0) return;
    const stepIndex = this.tail[0]?.stepIndex ?? null;
    if (this.droppedBytes > 0) {
      const lines = `${this.droppedLines.toLocaleString("en-US")} ${this.droppedLines === 1 ? "line" : "lines"}`;
      this.queue(stepIndex, "system", `\n[output truncated: ${lines} (${this.droppedBytes.toLocaleString("en-US")} bytes) dropped here; the last ${formatBytes(this.tailBytes)} of the step follow]\n`);
      this.totalDroppedBytes += this.droppedBytes;
    }
    for (const entry of this.tail) this.queue(entry.stepIndex, entry.stream, entry.text);
    this.storedBytes += this.tailBytes;
    this.tail = [];
    this.tailBytes = 0;
    this.droppedBytes = 0;
    this.droppedLines = 0;
  }

  private queue(stepIndex: number | null, stream: OutputStreamName, text: string): void {
    this.pending.push({ stepId: stepIndex === null ? null : (this.stepIds[stepIndex] ?? null), stream, sequence: ++this.sequence, text, at: new Date() });
    this.pendingBytes += text.length;
    if (this.pendingBytes >= FLUSH_AT_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  /** Writes a step's new state after every output queued before it. */
  step(stepIndex: number, data: LeasedStepUpdate): void {
    this.flushTail();
    this.flush();
    const id = this.stepIds[stepIndex];
    if (!id) return;
    // One fenced statement that also sends the notice (it was a transaction of four round trips and a NOTIFY).
    this.enqueue(`step ${stepIndex + 1}`, () => updateLeasedStep(this.prisma, this.lease, id, data));
  }

  /** Writes the run's new state after every output queued before it. */
  run(data: Prisma.JobRunUpdateManyMutationInput): void {
    this.flushTail();
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
    this.flushTail();
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

// The longest suffix of `text` that fits in `bytes` UTF-8 bytes, never splitting a character.
function utf8Suffix(text: string, bytes: number): string {
  if (bytes <= 0) return "";
  const all = Buffer.from(text, "utf8");
  let start = Math.max(0, all.length - bytes);
  while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
  return all.subarray(start).toString("utf8");
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
