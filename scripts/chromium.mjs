// The browser the browser tests drive: Debian's chromium (Playwright's own download cannot reach its
// servers from a closed network), or whatever CHROMIUM_PATH names. Run directly, it installs
// chromium when it is missing and we are root on Debian; imported, ensureChromium() does the same.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Returns the browser's path, installing Debian's chromium first when it is missing and we can.
 * Throws an Error saying what to install when we cannot.
 */
export function ensureChromium({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const wanted = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  if (executable(wanted)) return wanted;
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${wanted} is not an executable file`);
  const root = process.getuid?.() === 0;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
  if (!root || !apt) {
    throw new Error(
      `the browser tests need Chromium and none is at ${DEFAULT_CHROMIUM}: install Debian's chromium (sudo apt-get install chromium) ` +
        "or set CHROMIUM_PATH to a Chromium or Chrome binary",
    );
  }
  log("[chromium] installing Debian's chromium for the browser tests (apt-get install chromium; once per machine)");
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "chromium"]]) {
    const result = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${result.status ?? result.signal}); install chromium by hand or set CHROMIUM_PATH`);
  }
  if (!executable(DEFAULT_CHROMIUM)) throw new Error(`apt-get installed chromium, but ${DEFAULT_CHROMIUM} is still missing`);
  return DEFAULT_CHROMIUM;
}

if (import.meta.filename === process.argv[1]) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (error) {
    process.stderr.write(`[chromium] ${error.message}\n`);
    process.exit(1);
  }
}
