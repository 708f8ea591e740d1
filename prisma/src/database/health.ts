import type { Db } from "./client.ts";

interface AdapterCause {
  kind?: string;
  host?: string;
  port?: number;
  user?: string;
  db?: string;
  message?: string;
}

// Prisma's own message for a driver failure starts with a blank line and an "Invalid invocation"
// banner; the adapter's structured cause says what an operator needs to know.
function describeFailure(error: unknown): string {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: AdapterCause } } })?.meta?.driverAdapterError?.cause;
  switch (cause?.kind) {
    case "DatabaseNotReachable":
      return `cannot reach the database server at ${cause.host ?? "?"}${cause.port ? `:${cause.port}` : ""}`;
    case "AuthenticationFailed":
      return `the database refused the credentials of user ${cause.user ?? "?"}`;
    case "DatabaseDoesNotExist":
      return `database ${cause.db ?? "?"} does not exist`;
    case "TooManyConnections":
      return "the database has no free connections";
  }
  const message = error instanceof Error ? error.message : String(error);
  const inner = /Message: `([^`]*)`/.exec(message)?.[1];
  return inner ?? message.split("\n").map((line) => line.trim()).filter(Boolean).at(-1) ?? "unknown error";
}

/** Pings the database; resolves to "ok" or a short reason it is unreachable (never a password). */
export async function checkDatabase(db: Db, timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.$queryRaw`SELECT 1`,
      new Promise((_, fail) => {
        timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: describeFailure(error).replace(/postgres(ql)?:\/\/\S+/gi, "<database url>").slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}
