// The benchmark's WinRM server, in its own process so the client's memory and CPU are measured alone.
// Prints {"port": n} on stdout once listening, answers a "stats" line on stdin with the server's
// counters as one JSON line, and exits when stdin closes.
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
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

// allowUnencrypted lets Basic run over plain HTTP for the comparison with winrm-client; NTLM clients
// still encrypt every message, since encryption is the client's choice.
const server = await startWinRMTestServer({ host: "127.0.0.1", users: { bench: "bench" }, handler, maxShells: 1000, allowUnencrypted: true });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line.trim() === "stats") process.stdout.write(`${JSON.stringify(server.stats)}\n`);
});
commands.on("close", () => void server.close().then(() => process.exit(0)));
