// A pino logger writing to memory, for tests that read what a worker or scheduler logged.
import { Writable } from "node:stream";
import { pino, type LevelWithSilent, type Logger } from "pino";

/** One line a pino logger wrote, parsed. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface MemoryLogger {
  logger: Logger;
  /** Every line so far, parsed, in order (the array grows as the logger writes). */
  lines: LogLine[];
  /** Everything written so far, as text. */
  text(): string;
  /** The warnings and errors so far, each as its message and its error's message. */
  problems(): string[];
}

/** A logger that keeps every line it writes in memory. */
export function memoryLogger(level: LevelWithSilent = "info"): MemoryLogger {
  let text = "";
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const written = chunk.toString("utf8");
      text += written;
      for (const line of written.split("\n").filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return {
    logger: pino({ level }, sink),
    lines,
    text: () => text,
    problems: () => lines.filter((l) => l.level >= 40).map((l) => `${l.msg}${l.err ? `: ${(l.err as { message?: string }).message}` : ""}`),
  };
}
