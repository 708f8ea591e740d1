// Runs a command with Node >= 22.12 first on PATH, installing Node 24 from the npm registry when
// the Node that started us is older. Root package.json scripts go through here, so `pnpm start`
// works even when pnpm itself was launched by an older system Node.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ROOT, ensureToolchain } from "./toolchain.mjs";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("usage: node scripts/node24.mjs <command> [args...]\n");
  process.exit(2);
}
const bin = ensureToolchain();
const env = { ...process.env, PATH: [bin, join(ROOT, "node_modules", ".bin"), process.env.PATH].join(delimiter) };

if (!existsSync(join(ROOT, "node_modules", ".modules.yaml"))) {
  process.stderr.write("[toolchain] dependencies are not installed yet; running pnpm install --frozen-lockfile\n");
  const install = spawn(join(bin, "pnpm"), ["install", "--frozen-lockfile"], { cwd: ROOT, env, stdio: "inherit" });
  const code = await new Promise((done) => install.on("exit", (c) => done(c ?? 1)));
  if (code !== 0) process.exit(code);
}

const child = spawn(command, args, { env, stdio: "inherit" });
// Ctrl-C reaches the whole foreground process group already; forward the signals a supervisor sends.
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
process.on("SIGINT", () => {});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
