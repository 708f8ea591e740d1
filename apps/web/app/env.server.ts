// The web app's configuration, parsed once at boot: a bad value fails at once with a message naming
// the variable. Nothing else in the web app reads process.env.
import { databaseUrlSchema, masterKeysSchema, parseEnv, parseNetworkList, type MasterKeys } from "@opsconductor/db";
import { z } from "zod";

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const duration = z.coerce.number().int().positive();
const networks = (variable: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseNetworkList(value, variable);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });

/** Loopback, "this host", link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 among them). */
export const DEFAULT_CONNECTION_TEST_DENY = "127.0.0.0/8,::1/128,0.0.0.0/8,::/128,169.254.0.0/16,fe80::/10,fd00:ec2::254/128";

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: databaseUrlSchema,
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** The production build server.ts serves (`remix vite:build` output); apps/web/build by default. */
  WEB_BUILD_DIR: z.string().min(1).optional(),
  OPSCONDUCTOR_MASTER_KEY: masterKeysSchema("OPSCONDUCTOR_MASTER_KEY is not set; `pnpm start` creates a development key, production needs its own"),
  /** Public base URL (https://ops.example.com); makes cookies Secure and is the SSO redirect base. */
  OPSCONDUCTOR_PUBLIC_URL: z.url({ error: "OPSCONDUCTOR_PUBLIC_URL must be an absolute URL such as https://ops.example.com" }).optional(),
  /** Overrides the access-token signing key, which is otherwise derived from the primary master key. */
  OPSCONDUCTOR_JWT_SECRET: z.string().min(32, "OPSCONDUCTOR_JWT_SECRET must be at least 32 characters").optional(),
  ACCESS_TOKEN_TTL_SEC: duration.default(15 * 60),
  REFRESH_TOKEN_TTL_SEC: duration.default(7 * 24 * 60 * 60),
  OPSCONDUCTOR_SELF_REGISTRATION: flag.default(false),
  /** Failed sign-ins in a row an account may have before each further attempt waits (1 s, doubling). */
  LOGIN_FREE_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1_000_000).default(3),
  /** The longest an account waits between attempts, however many failures it has. */
  LOGIN_MAX_DELAY_SEC: z.coerce.number().int().min(1).max(86_400).default(60),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(20),
  LOGIN_THROTTLE_WINDOW_SEC: z.coerce.number().int().min(1).max(7 * 86_400).default(15 * 60),
  /** Replaced by the growing delay; refused so an old setting is not silently ignored. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z
    .undefined({ error: "LOGIN_MAX_FAILURES_PER_ACCOUNT is gone: accounts are no longer locked, they wait longer after each failure; set LOGIN_FREE_FAILURES_PER_ACCOUNT and LOGIN_MAX_DELAY_SEC instead" })
    .optional(),
  /** Addresses `test-winrm` refuses to connect to (IP addresses and CIDR ranges, comma-separated). */
  CONNECTION_TEST_DENY: networks("CONNECTION_TEST_DENY", DEFAULT_CONNECTION_TEST_DENY),
  /** Exceptions to CONNECTION_TEST_DENY, e.g. 127.0.0.1 for a WinRM listener on this machine. */
  CONNECTION_TEST_ALLOW: networks("CONNECTION_TEST_ALLOW", ""),
  /** Largest file POST /api/files accepts, in bytes (1 GiB by default). */
  FILE_UPLOAD_MAX_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1024 ** 3),
  /** How long one upload may take before it is abandoned (it holds a database transaction meanwhile). */
  FILE_UPLOAD_TIMEOUT_SEC: duration.default(60 * 60),
  /** HTTPS on PORT with this certificate (PEM, the chain after it) and TLS_KEY_FILE's key. */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** `self-signed`: HTTPS with a certificate made once under OPSCONDUCTOR_DATA_DIR/tls. */
  OPSCONDUCTOR_TLS: z.enum(["off", "self-signed"], { error: "OPSCONDUCTOR_TLS must be off or self-signed (or set TLS_CERT_FILE and TLS_KEY_FILE)" }).default("off"),
  /** With HTTPS: a plain-HTTP port that only redirects to it. */
  TLS_REDIRECT_PORT: z.coerce.number({ error: "TLS_REDIRECT_PORT must be a port number" }).int().min(1).max(65_535).optional(),
  /** Where the self-signed certificate is kept (the embedded database's folder too). */
  OPSCONDUCTOR_DATA_DIR: z.string().min(1).optional(),
  /** Live run streams (GET /api/runs/{id}/events) one user may have open in this process. */
  RUN_STREAMS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Live run streams this process serves at once, all users together. */
  RUN_STREAMS_TOTAL: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** How often an open live run stream checks again that its session still holds. */
  RUN_STREAM_REAUTH_SEC: z.coerce.number().int().min(1).max(3600).default(30),
  /** Trust X-Forwarded-For from this many proxies in front of the app (0: use the socket address). */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** pino level of the request log and the server's other lines, as for the worker. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent" }).default("info"),
  // SSO: each provider is on when its client id is set.
  ENTRA_TENANT_ID: z.string().min(1).optional(),
  ENTRA_CLIENT_ID: z.string().min(1).optional(),
  ENTRA_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_ISSUER: z.url({ error: "OIDC_ISSUER must be the provider's issuer URL" }).optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_NAME: z.string().min(1).default("Single sign-on"),
  /** JSON map from a group or role claim value to admin | operator | viewer. */
  SSO_ROLE_MAP: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return {} as Record<string, "admin" | "operator" | "viewer">;
      const parsed = z.record(z.string(), z.enum(["admin", "operator", "viewer"])).safeParse(safeJson(value));
      if (!parsed.success) {
        ctx.addIssue({ code: "custom", message: 'SSO_ROLE_MAP must be a JSON object such as {"ops-admins":"admin","ops-team":"operator"}' });
        return z.NEVER;
      }
      return parsed.data;
    }),
});

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

// One-variable checks say nothing about pairs: the certificate settings must fit together.
const checked = schema.superRefine((config, ctx) => {
  if (Boolean(config.TLS_CERT_FILE) !== Boolean(config.TLS_KEY_FILE)) {
    const missing = config.TLS_CERT_FILE ? "TLS_KEY_FILE" : "TLS_CERT_FILE";
    ctx.addIssue({ code: "custom", path: [missing], message: `${missing} must be set too: HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE` });
  }
  if (config.TLS_CERT_FILE && config.OPSCONDUCTOR_TLS === "self-signed") {
    ctx.addIssue({ code: "custom", path: ["OPSCONDUCTOR_TLS"], message: "OPSCONDUCTOR_TLS=self-signed conflicts with TLS_CERT_FILE: use your certificate or a self-signed one, not both" });
  }
  if (config.TLS_REDIRECT_PORT !== undefined && !config.TLS_CERT_FILE && config.OPSCONDUCTOR_TLS !== "self-signed") {
    ctx.addIssue({ code: "custom", path: ["TLS_REDIRECT_PORT"], message: "TLS_REDIRECT_PORT redirects to HTTPS: set TLS_CERT_FILE and TLS_KEY_FILE, or OPSCONDUCTOR_TLS=self-signed" });
  }
  if (config.TLS_REDIRECT_PORT !== undefined && config.TLS_REDIRECT_PORT === config.PORT) {
    ctx.addIssue({ code: "custom", path: ["TLS_REDIRECT_PORT"], message: "TLS_REDIRECT_PORT must differ from PORT" });
  }
});

export type WebEnv = z.infer<typeof schema>;
export type { MasterKeys };

/** Parses web configuration from `source`, throwing one error that names every bad variable. */
export function parseWebEnv(source: Record<string, string | undefined>): WebEnv {
  return parseEnv(checked, source);
}

let cached: WebEnv | undefined;

/** The parsed configuration of this process. */
export function env(): WebEnv {
  cached ??= parseWebEnv(process.env);
  return cached;
}
