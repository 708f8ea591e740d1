// The process's streams and environment as the commands see them (tests pass their own).
import type { Readable, Writable } from "node:stream";

/** The streams, environment and terminal facts of one invocation. */
export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
}

/** Whether to colour what goes to `stream`: only on a terminal, never with NO_COLOR or TERM=dumb. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "") return true;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22], cyan: [36, 39] } as const;

/** A colour function per style: identity when colour is off. */
export type Paint = Record<keyof typeof CODES, (text: string) => string>;

/** The painter of a stream. */
export function painter(enabled: boolean): Paint {
  const paint = {} as Paint;
  for (const [name, [open, close]] of Object.entries(CODES)) paint[name as keyof typeof CODES] = enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
  return paint;
}

/** Writes and waits until the stream took it (so an exit right after loses nothing). */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
