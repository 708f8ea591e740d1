// Runs pywinrm_client.py (Debian's pywinrm, Ansible's WinRM transport) for the interop test and the
// bench: which python3, and the environment pywinrm 0.3.0 needs on Debian 12.
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The pywinrm driver: one JSON line on stdin, JSON lines on stdout (see its docstring). */
export const PYWINRM_CLIENT = join(here, "pywinrm_client.py");
const ENSURE = join(here, "..", "..", "..", "scripts", "python-winrm.mjs");

// pywinrm's NTLM (ntlm-auth) computes MD4, which OpenSSL 3 (Debian 12) only has in its legacy provider.
const OPENSSL_LEGACY_CONF = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`;

/** A python3 that imports winrm: ensurePythonWinrm() checks PYWINRM_PYTHON (set by scripts/test.mjs), else finds or installs one. */
export async function findPython(): Promise<string> {
  const { code, stdout, stderr } = await run(process.execPath, [ENSURE], "");
  if (code !== 0) throw new Error(`pywinrm cannot run: ${stderr.trim() || `scripts/python-winrm.mjs exited ${code}; apt-get install python3-winrm`}`);
  return stdout.trim();
}

/** The child's environment, with an OpenSSL config loading the legacy provider written into `dir`. */
export async function pywinrmEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const opensslConf = join(dir, "openssl-legacy.cnf");
  await writeFile(opensslConf, OPENSSL_LEGACY_CONF);
  const env: NodeJS.ProcessEnv = { ...process.env, OPENSSL_CONF: opensslConf };
  // pywinrm 0.3.0 bug: with REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) set, requests' environment
  // settings replace session.verify, so server_cert_validation='ignore' still validates against
  // that bundle. Many CI images set both; the child runs without them.
  delete env.REQUESTS_CA_BUNDLE;
  delete env.CURL_CA_BUNDLE;
  return env;
}

/** Starts pywinrm_client.py with `spec` as its one line of input (stdin stays open for the loop mode). */
export function spawnPywinrm(python: string, env: NodeJS.ProcessEnv, spec: unknown): ChildProcessWithoutNullStreams {
  const child = spawn(python, [PYWINRM_CLIENT], { env, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.write(`${JSON.stringify(spec)}\n`);
  return child;
}

/** Runs a command to its end, with `input` on stdin, and collects its output (killed after 25 s). */
export function run(command: string, args: string[], input: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
