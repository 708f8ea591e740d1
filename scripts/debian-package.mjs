// What the tests need from Debian (Chromium, pywinrm) is installed the same way: with apt-get when
// we are root on a Debian machine, or else refused with a message saying what to install.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

/** True when `path` is a file this process may execute. */
export function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when this process can install Debian packages itself. */
export function canAptInstall() {
  return process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
}

/** Installs one Debian package with apt-get (update first), throwing an Error that names a way out when it fails. */
export function aptInstall(name, purpose, { log, alternative }) {
  log(`[${name}] installing Debian's ${name} for ${purpose} (apt-get install ${name}; once per machine)`);
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", name]]) {
    const result = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${result.status ?? result.signal}); install ${name} by hand or ${alternative}`);
  }
}

/** Runs `ensure` when the importing module is the script node was started with: prints its result, or the error and exit 1. */
export function runIfMain(meta, label, ensure) {
  if (meta.filename !== process.argv[1]) return;
  try {
    process.stdout.write(`${ensure()}\n`);
  } catch (error) {
    process.stderr.write(`[${label}] ${error.message}\n`);
    process.exit(1);
  }
}
