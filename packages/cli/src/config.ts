// Where the CLI finds its server and token: flags, then the environment, then a saved profile.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./errors.ts";

/** One saved profile: the server and the API token `opsconductor login` created there (never a password). */
export interface Profile {
  url: string;
  token: string;
  username?: string;
  tokenId?: string;
}

/** The config file: profiles by name. */
export interface ConfigFile {
  profiles: Record<string, Profile>;
}

/** The folder of the CLI's config: $XDG_CONFIG_HOME/opsconductor, else ~/.config/opsconductor. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith("/") ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), ".config");
  return join(base, "opsconductor");
}

/** The path of the config file. */
export function configPath(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), "config.json");
}

/** Reads the config file (an empty one when there is none). */
export async function readConfig(env: NodeJS.ProcessEnv): Promise<ConfigFile> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { profiles: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    return { profiles: parsed.profiles && typeof parsed.profiles === "object" ? parsed.profiles : {} };
  } catch {
    throw new UsageError(`the config file ${path} is not valid JSON: fix or delete it`);
  }
}

/** Saves a profile; the file is readable by its owner only (0600), its folder 0700. */
export async function saveProfile(env: NodeJS.ProcessEnv, name: string, profile: Profile): Promise<string> {
  const config = await readConfig(env);
  config.profiles[name] = profile;
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = configPath(env);
  // Written beside and renamed, so a reader never sees half a file; the mode is set before the
  // token is in it (writeFile's mode only applies to a new file, hence the chmod too).
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, "", { mode: 0o600 });
  await chmod(temp, 0o600);
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
  return path;
}

/** What a command connects with, and where each part came from. */
export interface Connection {
  url: string;
  token: string | undefined;
  profile: string;
}

/** Global options that say how to connect. */
export interface ConnectionOptions {
  url?: string;
  token?: string;
  profile?: string;
}

/** Flags win over the environment, which wins over the profile (--profile, $OPSCONDUCTOR_PROFILE or "default"). */
export async function resolveConnection(options: ConnectionOptions, env: NodeJS.ProcessEnv): Promise<Connection> {
  const profileName = options.profile ?? env.OPSCONDUCTOR_PROFILE ?? "default";
  const config = await readConfig(env);
  const profile = config.profiles[profileName];
  if (options.profile && !profile) throw new UsageError(`no profile "${options.profile}" in ${configPath(env)}: run opsconductor login --profile ${options.profile}`);
  const url = options.url ?? env.OPSCONDUCTOR_URL ?? profile?.url;
  if (!url) throw new UsageError("no server: pass --url, set OPSCONDUCTOR_URL, or run opsconductor login");
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url: "${url}" is not a URL (e.g. https://ops.example.com)`);
  }
  // A profile's token belongs to the profile's server: never send it to another one.
  const profileToken = profile && sameServer(profile.url, url) ? profile.token : undefined;
  return { url, token: options.token ?? env.OPSCONDUCTOR_TOKEN ?? profileToken, profile: profileName };
}

function sameServer(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
