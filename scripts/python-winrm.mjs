// The independent WinRM client the interop test drives our test server with: Debian's python3-winrm
// (pywinrm, Ansible's WinRM transport) under the system python3, or whatever PYWINRM_PYTHON names.
// The system interpreter is preferred because a pyenv or venv python3 first on PATH does not see
// Debian's packages. Run directly, it installs python3-winrm when it is missing and we are root on
// Debian, and prints the interpreter's path; imported, ensurePythonWinrm() does the same.
import { spawnSync } from "node:child_process";
import { aptInstall, canAptInstall, executable, runIfMain } from "./debian-package.mjs";

export const DEFAULT_PYTHON = "/usr/bin/python3";

const importsWinrm = (python) => spawnSync(python, ["-c", "import winrm"], { stdio: "ignore" }).status === 0;

/**
 * Returns the path of a python3 that can `import winrm`, installing Debian's python3-winrm first
 * when it is missing and we can. Throws an Error saying what to install when we cannot.
 */
export function ensurePythonWinrm({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const wanted = process.env.PYWINRM_PYTHON || (executable(DEFAULT_PYTHON) ? DEFAULT_PYTHON : "python3");
  if (importsWinrm(wanted)) return wanted;
  if (process.env.PYWINRM_PYTHON) throw new Error(`PYWINRM_PYTHON=${wanted} cannot import winrm: point it at a python3 with pywinrm, or unset it to use Debian's python3-winrm (sudo apt-get install python3-winrm)`);
  if (!canAptInstall()) {
    throw new Error(
      `the pywinrm interop test needs pywinrm and ${wanted} cannot import winrm: install Debian's python3-winrm (sudo apt-get install python3-winrm) ` +
        "or set PYWINRM_PYTHON to a python3 that can import winrm",
    );
  }
  aptInstall("python3-winrm", "the pywinrm interop test", { log, alternative: "set PYWINRM_PYTHON" });
  if (!importsWinrm(DEFAULT_PYTHON)) throw new Error(`apt-get installed python3-winrm, but ${DEFAULT_PYTHON} still cannot import winrm`);
  return DEFAULT_PYTHON;
}

runIfMain(import.meta, "python-winrm", ensurePythonWinrm);
