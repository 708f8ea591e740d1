// Finds or installs the toolchain this repo needs (Node >= 22.12 and the pinned pnpm), using only
// the npm registry. Plain ESM that runs on an older system Node, so it can bootstrap Node 24.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const TOOLING = join(ROOT, ".tooling");
/** Folder holding `node` and `pnpm`; put it first on PATH. */
export const TOOLING_BIN = join(TOOLING, "bin");
const MIN_NODE = [22, 12];
const NODE_SPEC = "node@24";
const PNPM_SPEC = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).packageManager.split("+")[0];

/** True when a "vX.Y.Z" version is at least 22.12. */
export function nodeIsRecentEnough(version = process.version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

function versionOf(binary) {
  try {
    return execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

function npmInstall(specs) {
  mkdirSync(TOOLING, { recursive: true });
  process.stderr.write(`[toolchain] installing ${specs.join(" ")} from the npm registry into .tooling/\n`);
  const result = spawnSync(
    "npm",
    ["install", "--prefix", TOOLING, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", ...specs],
    { stdio: ["ignore", 2, 2] },
  );
  if (result.status !== 0) throw new Error(`npm install ${specs.join(" ")} failed; is the npm registry reachable?`);
}

/** Makes .tooling/bin/{node,pnpm} exist and work; returns TOOLING_BIN. */
export function ensureToolchain() {
  const node24 = join(TOOLING, "node_modules", "node", "bin", "node");
  const pnpmEntry = join(TOOLING, "node_modules", "pnpm", "bin", "pnpm.cjs");
  const pnpmPkg = join(TOOLING, "node_modules", "pnpm", "package.json");
  const useSystemNode = nodeIsRecentEnough();
  const nodeReady = useSystemNode || nodeIsRecentEnough(versionOf(node24) ?? "v0.0.0");
  const pnpmReady = existsSync(pnpmPkg) && `pnpm@${JSON.parse(readFileSync(pnpmPkg, "utf8")).version}` === PNPM_SPEC;
  if (!nodeReady || !pnpmReady) {
    npmInstall(useSystemNode ? [PNPM_SPEC] : [NODE_SPEC, PNPM_SPEC]);
    if (!useSystemNode && !nodeIsRecentEnough(versionOf(node24) ?? "v0.0.0")) {
      throw new Error(`${NODE_SPEC} from the npm registry did not leave a working binary at ${node24}`);
    }
  }
  mkdirSync(TOOLING_BIN, { recursive: true });
  const nodeLink = join(TOOLING_BIN, "node");
  const nodeTarget = useSystemNode ? process.execPath : node24;
  // Several test processes may start at once: each builds its own temporary entry and renames it
  // into place, so none of them ever sees a half-made or missing link.
  if (linkTarget(nodeLink) !== nodeTarget) replaceAtomically(nodeLink, (tmp) => symlinkSync(nodeTarget, tmp));
  const shim = join(TOOLING_BIN, "pnpm");
  const shimText = `#!/bin/sh\nexec "${nodeLink}" "${pnpmEntry}" "$@"\n`;
  if (fileText(shim) !== shimText) {
    replaceAtomically(shim, (tmp) => {
      writeFileSync(tmp, shimText);
      chmodSync(tmp, 0o755);
    });
  }
  return TOOLING_BIN;
}

function linkTarget(path) {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function fileText(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function replaceAtomically(path, make) {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  make(tmp);
  renameSync(tmp, path);
}

// CLI: prints the folder to put first on PATH.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${ensureToolchain()}\n`);
}
