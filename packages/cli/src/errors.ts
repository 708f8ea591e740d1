// Exit codes and the one line an error prints.
import { isOpsConductorError } from "@opsconductor/sdk";

/** Exit codes: 0 done (a run succeeded), 1 failed (a run failed, the API refused), 2 usage error, 3 timeout or canceled. */
export const EXIT = { ok: 0, failed: 1, usage: 2, timeout: 3 } as const;

/** A mistake in how the CLI was called: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A wait that ran out, or a run that was canceled or timed out: exit code 3. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** A failure already reported on stderr that only needs its exit code. */
export class ExitError extends Error {
  override readonly name = "ExitError";
  readonly exitCode: number;
  constructor(exitCode: number, message = "") {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The single line describing an error (the API's message and the fields it names), and its exit code. */
export function describeError(error: unknown): { line: string; exitCode: number } {
  if (error instanceof UsageError) return { line: error.message, exitCode: EXIT.usage };
  if (error instanceof TimeoutError) return { line: error.message, exitCode: EXIT.timeout };
  if (error instanceof ExitError) return { line: error.message, exitCode: error.exitCode };
  if (isOpsConductorError(error)) {
    const fields = error.details.map((d) => `${d.path}: ${d.message}`).join("; ");
    const message = fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
    if (error.code === "timeout") return { line: message, exitCode: EXIT.timeout };
    if (error.status === 0) return { line: message, exitCode: EXIT.failed };
    const hint = error.status === 401 && error.code !== "invalid_credentials" ? ": check the token (opsconductor login, --token or OPSCONDUCTOR_TOKEN)" : "";
    // A 400 is input the server refused: the caller's to fix, like a usage error.
    return { line: `${message}${hint} [${error.status} ${error.code}]`, exitCode: error.status === 400 ? EXIT.usage : EXIT.failed };
  }
  if (error instanceof Error && error.name === "AbortError") return { line: "interrupted", exitCode: EXIT.timeout };
  return { line: error instanceof Error ? error.message : String(error), exitCode: EXIT.failed };
}
