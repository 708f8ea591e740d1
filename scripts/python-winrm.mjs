// The independent WinRM client the interop test drives our test server with: Debian's python3-winrm
// (pywinrm, Ansible's WinRM transport) under the system python3, or whatever PYWINRM_PYTHON names.
// The system interpreter is preferred because a pyenv or venv python3 first on PATH does not see
// Debian's packages. Run directly, it installs python3-winrm when it is missing and we are root on
// Debian, and prints the interpreter's path; imported, ensurePythonWinrm() does the same.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

export const DEFAULT_PYTHON = "/usr/bin/python3";

const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const importsWinrm = (python) => spawnSync(python, ["-c", "import winrm"], { stdio: "ignore" }).status === 0;

/**
 * Returns the path of a python3 that can `import winrm`, installing Debian's python3-winrm first
 * when it is missing and we can. Throws an Error saying what to install when we cannot.
 */
export function ensurePythonWinrm({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const wanted = process.env.PYWINRM_PYTHON || (executable(DEFAULT_PYTHON) ? DEFAULT_PYTHON : "python3");
  if (importsWinrm(wanted)) return wanted;
  if (process.env.PYWINRM_PYTHON) throw new Error(`PYWINRM_PYTHON=${wanted} cannot import winrm: point it at a python3 with pywinrm, or unset it to use Debian's python3-winrm (sudo apt-get install python3-winrm)`);
  const root = process.getuid?.() === 0;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
  if (!root || !apt) {
    throw new Error(
      `the pywinrm interop test needs pywinrm and ${wanted} cannot import winrm: install Debian's python3-winrm (sudo apt-get install python3-winrm) ` +
        "or set PYWINRM_PYTHON to a python3 that can import winrm",
    );
  }
  log("[python-winrm] installing Debian's python3-winrm for the pywinrm interop test (apt-get install python3-winrm; once per machine)");
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "python3-winrm"]]) {
    const result = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (exit ${result.status ?? result.signal}); install python3-winrm by hand or set PYWINRM_PYTHON`);
  }
  if (!importsWinrm(DEFAULT_PYTHON)) throw new Error(`apt-get installed python3-winrm, but ${DEFAULT_PYTHON} still cannot import winrm`);
  return DEFAULT_PYTHON;
}

if (import.meta.filename === process.argv[1]) {
  try {
    process.stdout.write(`${ensurePythonWinrm()}\n`);
  } catch (error) {
    process.stderr.write(`[python-winrm] ${error.message}\n`);
    process.exit(1);
  }
}
