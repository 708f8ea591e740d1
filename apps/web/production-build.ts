// The web app's production build (`remix vite:build`), for `pnpm start` and for the test suite.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const WEB_DIR = import.meta.dirname;
/** Where `pnpm start` and server.ts expect the build unless WEB_BUILD_DIR says otherwise. */
export const DEFAULT_BUILD_DIR = join(WEB_DIR, "build");

/** Builds the web app into `directory` (absolute, inside apps/web so the bundle resolves its dependencies); throws with the build's output on failure. */
export async function buildProduction(directory = DEFAULT_BUILD_DIR): Promise<void> {
  const build = spawn(join(WEB_DIR, "node_modules", ".bin", "remix"), ["vite:build"], {
    cwd: WEB_DIR,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_ENV: "production", WEB_BUILD_DIR: directory },
  });
  const output: string[] = [];
  build.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
  build.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
  const code = await new Promise<number>((done) => build.on("exit", (c) => done(c ?? 1)));
  if (code !== 0) throw new Error(`building the web app failed:\n${output.join("").slice(-4000)}`);
}

/** Whether `directory` holds a build, and whether a source file of the web app is newer than it. */
export function productionBuildState(directory = DEFAULT_BUILD_DIR): { built: boolean; stale: boolean } {
  const marker = join(directory, "server", "index.js");
  if (!existsSync(marker)) return { built: false, stale: true };
  const builtAt = statSync(marker).mtimeMs;
  const sources = [join(WEB_DIR, "app"), join(WEB_DIR, "vite.config.ts"), join(WEB_DIR, "package.json")];
  return { built: true, stale: newestMtime(sources) > builtAt };
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) newest = Math.max(newest, newestMtime(readdirSync(path).map((n) => join(path, n))));
    else newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}
