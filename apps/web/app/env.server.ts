// The web app's configuration, parsed once at boot: a bad value fails at once with a message naming
// the variable. Nothing else in the web app reads process.env.
import { z } from "zod";

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string({ error: "DATABASE_URL is not set; `pnpm start` sets it, or point it at your PostgreSQL (postgresql://user:password@host:5432/db)" })
    .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgresql:// connection string"),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
});

export type WebEnv = z.infer<typeof schema>;

/** Parses web configuration from `source`, throwing one error that names every bad variable. */
export function parseWebEnv(source: Record<string, string | undefined>): WebEnv {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`invalid configuration:\n${lines.join("\n")}`);
}

let cached: WebEnv | undefined;

/** The parsed configuration of this process. */
export function env(): WebEnv {
  cached ??= parseWebEnv(process.env);
  return cached;
}
