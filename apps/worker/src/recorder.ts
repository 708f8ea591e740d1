// Persists one run's progress: output chunks in batches (one INSERT per batch, not per line), step
// and run rows as they change, and a NOTIFY after each write so the web app can relay it live.
import { appendRunOutput, notifyRun, type OutputChunk, type Prisma, type PrismaClient } from "@opsconductor/db";
import type { Logger } from "pino";

const FLUSH_AFTER_MS = 100;
const FLUSH_AT_BYTES = 64 * 1024;
const WRITE_ATTEMPTS = 6;

export type OutputStreamName = "stdout" | "stderr" | "system";

export class RunRecorder {
  private chain: Promise<void> = Promise.resolve();
  private pending: OutputChunk[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sequence: number;
  private readonly prisma: PrismaClient;
  private readonly runId: string;
  private readonly stepIds: readonly string[];
  private readonly logger: Logger;
  /** Output chunks written, for tests and metrics. */
  batches = 0;

  constructor(options: { prisma: PrismaClient; runId: string; stepIds: readonly string[]; lastSequence: number; logger: Logger }) {
    this.prisma = options.prisma;
    this.runId = options.runId;
    this.stepIds = options.stepIds;
    this.sequence = options.lastSequence;
    this.logger = options.logger;
  }

  /** Queues a chunk of output; it is written within FLUSH_AFTER_MS, or at once when the batch is large. */
  output(stepIndex: number | null, stream: OutputStreamName, text: string): void {
    if (text === "") return;
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
    this.enqueue(async () => {
      await this.prisma.jobRunStep.update({ where: { id }, data });
      await notifyRun(this.prisma, { runId: this.runId, kind: "step" });
    });
  }

  /** Writes the run's new state after every output queued before it. */
  run(data: Prisma.JobRunUpdateInput): void {
    this.flush();
    this.enqueue(async () => {
      await this.prisma.jobRun.update({ where: { id: this.runId }, data });
      await notifyRun(this.prisma, { runId: this.runId, kind: "run" });
    });
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
    this.enqueue(async () => {
      await appendRunOutput(this.prisma, this.runId, batch);
      this.batches++;
      await notifyRun(this.prisma, { runId: this.runId, kind: "output", sequence: batch[batch.length - 1]!.sequence });
    });
  }

  // Writes happen strictly in order; a write that fails (the database restarting, say) is retried
  // with backoff rather than dropped.
  private enqueue(write: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await write();
          return;
        } catch (error) {
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
