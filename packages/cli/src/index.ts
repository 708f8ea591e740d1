// @opsconductor/cli as a library: the program (for embedding or testing) and its helpers.
export { main, exitCodeOf, parseParams, describeApply } from "./main.ts";
export { configDir, configPath, readConfig, resolveConnection, saveProfile, type Profile, type ConfigFile, type Connection } from "./config.ts";
export { EXIT, UsageError, TimeoutError, describeError } from "./errors.ts";
export type { Io } from "./io.ts";
