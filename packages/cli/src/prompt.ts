// Asking for a username and a password (the password never echoed).
import type { Io } from "./io.ts";
import { UsageError } from "./errors.ts";

/** Lines read from a non-terminal stdin, kept across prompts (a pipe gives them all at once). */
const buffered = new WeakMap<object, { lines: string[]; ended: boolean; waiters: (() => void)[] }>();

function lineReader(stdin: Io["stdin"]) {
  let state = buffered.get(stdin);
  if (state) return state;
  const created = { lines: [] as string[], ended: false, waiters: [] as (() => void)[] };
  state = created;
  buffered.set(stdin, state);
  let rest = "";
  stdin.setEncoding("utf8");
  stdin.on("data", (chunk: string) => {
    rest += chunk;
    const parts = rest.split(/\r?\n/);
    rest = parts.pop() ?? "";
    created.lines.push(...parts);
    created.waiters.splice(0).forEach((w) => w());
  });
  stdin.on("end", () => {
    if (rest) created.lines.push(rest);
    created.ended = true;
    created.waiters.splice(0).forEach((w) => w());
  });
  return state;
}

async function readLine(io: Io): Promise<string> {
  const state = lineReader(io.stdin);
  while (!state.lines.length) {
    if (state.ended) throw new UsageError("no answer on stdin");
    await new Promise<void>((resolve) => state.waiters.push(resolve));
  }
  const line = state.lines.shift()!;
  if (!state.lines.length && !state.ended) io.stdin.pause();
  return line;
}

/** Asks a question on stderr and answers the line typed (or piped). */
export async function ask(io: Io, question: string): Promise<string> {
  io.stderr.write(question);
  io.stdin.resume();
  const answer = (await readLine(io)).trim();
  // A piped answer is not echoed: end the prompt's line so what follows starts on its own.
  if (!io.stdin.isTTY) io.stderr.write("\n");
  return answer;
}

/** Asks for a secret: on a terminal nothing is echoed; from a pipe the next line is read. */
export async function askSecret(io: Io, question: string): Promise<string> {
  io.stderr.write(question);
  if (!io.stdin.isTTY || !io.stdin.setRawMode) {
    io.stdin.resume();
    const answer = await readLine(io);
    io.stderr.write("\n");
    return answer;
  }
  const stdin = io.stdin;
  stdin.setRawMode!(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = "";
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === "\r" || ch === "\n" || ch === "\u0004") {
            stdin.off("data", onData);
            io.stderr.write("\n");
            return resolve(value);
          }
          if (ch === "\u0003") {
            stdin.off("data", onData);
            io.stderr.write("\n");
            return reject(new UsageError("interrupted"));
          }
          if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode!(false);
    stdin.pause();
  }
}
