// The browser the browser tests drive: Debian's chromium (Playwright's own download cannot reach its
// servers from a closed network), or whatever CHROMIUM_PATH names. Run directly, it installs
// chromium when it is missing and we are root on Debian; imported, ensureChromium() does the same.
import { aptInstall, canAptInstall, executable, runIfMain } from "./debian-package.mjs";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/**
 * Returns the browser's path, installing Debian's chromium first when it is missing and we can.
 * Throws an Error saying what to install when we cannot.
 */
export function ensureChromium({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const wanted = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  if (executable(wanted)) return wanted;
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${wanted} is not an executable file`);
  if (!canAptInstall()) {
    throw new Error(
      `the browser tests need Chromium and none is at ${DEFAULT_CHROMIUM}: install Debian's chromium (sudo apt-get install chromium) ` +
        "or set CHROMIUM_PATH to a Chromium or Chrome binary",
    );
  }
  aptInstall("chromium", "the browser tests", { log, alternative: "set CHROMIUM_PATH" });
  if (!executable(DEFAULT_CHROMIUM)) throw new Error(`apt-get installed chromium, but ${DEFAULT_CHROMIUM} is still missing`);
  return DEFAULT_CHROMIUM;
}

runIfMain(import.meta, "chromium", ensureChromium);
