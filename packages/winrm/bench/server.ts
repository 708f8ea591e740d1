// The benchmark's WinRM server, in its own process so the client's memory and CPU are measured alone.
// Prints {"port": n, "sinkPort": m} on stdout once listening (m: a plain HTTP sink that reads and
// discards request bodies, for the raw line-rate row), answers a "stats" line on stdin with the
// server's counters and a "memory" line with its memory figures and CPU time, one JSON line each, and exits when
// stdin closes. Copies stream to files in a temporary folder (the test server's fileRoot), removed
// on exit. With --probe-live (and node --expose-gc) it samples live memory after a full GC every 100 ms.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { defaultCommandHandler, startWinRMTestServer } from "../src/testing/index.ts";
import type { WinRMCommandHandler } from "../src/testing/index.ts";
import { V1_MARKER, v1Handler } from "./copy-v1.ts";

const fileRoot = await mkdtemp(join(tmpdir(), "winrm-bench-files-"));

const handler: WinRMCommandHandler = async (ctx) => {
  if (ctx.commandLine === "ok") {
    ctx.stdout.write("ok\r\n");
    return 0;
  }
  if (ctx.shell === "powershell" && ctx.script?.startsWith(V1_MARKER)) return v1Handler(ctx, fileRoot);
  return defaultCommandHandler(ctx);
};

// Peak RSS counts garbage V8 has not collected yet; a full GC before each sample leaves what the process really holds.
const gc = (globalThis as { gc?: () => void }).gc;
const live = (): number => {
  gc?.();
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.external) / 2 ** 20;
};
const probing = process.argv.includes("--probe-live") && gc !== undefined;

// allowUnencrypted lets Basic run over plain HTTP for the comparison with winrm-client; NTLM clients
// still encrypt every message, since encryption is the client's choice.
const server = await startWinRMTestServer({ host: "127.0.0.1", users: { bench: "bench" }, handler, maxShells: 1000, allowUnencrypted: true, fileRoot });
const sink = http.createServer((req, res) => {
  req.on("data", () => undefined);
  req.on("end", () => res.end());
});
sink.keepAliveTimeout = 120_000;
await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));

const baseLiveMb = probing ? live() : undefined;
let peakLiveMb = baseLiveMb ?? 0;
const sampler = probing ? setInterval(() => (peakLiveMb = Math.max(peakLiveMb, live())), 100) : undefined;

process.stdout.write(`${JSON.stringify({ port: server.port, sinkPort: (sink.address() as AddressInfo).port })}\n`);
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const command = line.trim();
  if (command === "stats") process.stdout.write(`${JSON.stringify(server.stats)}\n`);
  if (command === "memory") {
    const cpu = process.cpuUsage();
    const memory = {
      rssMb: process.memoryUsage.rss() / 2 ** 20,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      cpuMs: (cpu.user + cpu.system) / 1000,
      ...(probing ? { baseLiveMb, peakLiveMb } : {}),
    };
    process.stdout.write(`${JSON.stringify(memory)}\n`);
  }
});
commands.on("close", () => {
  clearInterval(sampler);
  sink.close();
  void server
    .close()
    .then(() => rm(fileRoot, { recursive: true, force: true }))
    .then(() => process.exit(0));
});
