// The benchmark's WinRM server, in its own process so the client's memory and CPU are measured alone.
// Prints {"port": n} on stdout once listening; exits when stdin closes.
import { createHash } from "node:crypto";
import { COPY_MARKER, defaultCommandHandler, startWinRMTestServer } from "../src/testing/index.ts";
import type { WinRMCommandHandler } from "../src/testing/index.ts";

// Copies are hashed and discarded: the virtual file system would hold 100 MB in this process.
const handler: WinRMCommandHandler = async (ctx) => {
  if (ctx.commandLine === "ok") {
    ctx.stdout.write("ok\r\n");
    return 0;
  }
  if (ctx.shell !== "powershell" || !ctx.script?.startsWith(COPY_MARKER)) return defaultCommandHandler(ctx);
  const hash = createHash("sha256");
  let pending = "";
  for await (const chunk of ctx.stdin) {
    pending += Buffer.from(chunk as Uint8Array).toString("latin1");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line) hash.update(Buffer.from(line, "base64"));
  }
  ctx.stdout.write(`sha256:${hash.digest("hex")}\r\n`);
  return 0;
};

const server = await startWinRMTestServer({ users: { bench: "bench" }, handler, maxShells: 1000 });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.stdin.resume();
process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
