import type { Db } from "./client.ts";

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
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: message.replace(/postgres(ql)?:\/\/[^\s]+/gi, "<database url>").split("\n")[0]!.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}
