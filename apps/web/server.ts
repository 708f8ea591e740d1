// The web app's HTTP server: Express serving the Remix build (or Vite in middleware mode with --dev).
// Run as `node --conditions=@opsconductor/source server.ts [--dev]`.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join, resolve } from "node:path";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import compression from "compression";
import express from "express";
import { parseWebEnv } from "./app/env.server.ts";
import { initObservability, observeRequest, requestIdFor, routePatterns, runInRequestScope, type RequestScope } from "./app/http/observability.server.ts";
import { certificateFiles, selfSignedFiles, type TlsFiles } from "./tls.ts";

let config;
let tls: TlsFiles | undefined;
try {
  config = parseWebEnv(process.env);
  if (config.TLS_CERT_FILE && config.TLS_KEY_FILE) tls = certificateFiles(config.TLS_CERT_FILE, config.TLS_KEY_FILE);
  else if (config.OPSCONDUCTOR_TLS === "self-signed") tls = selfSignedFiles(resolve(config.OPSCONDUCTOR_DATA_DIR ?? join(import.meta.dirname, "..", "..", ".data")));
} catch (error) {
  console.error(`web: ${(error as Error).message}`);
  process.exit(1);
}
const dev = process.argv.includes("--dev");
const here = import.meta.dirname;
const { logger } = initObservability(config.LOG_LEVEL);
// "listening on" is what `pnpm start`, the test harness and the benches wait for: written at any level but silent.
const bootLogger = config.LOG_LEVEL === "silent" ? logger : logger.child({}, { level: "info" });

const app = express();
// Over HTTPS, req.secure is true: cookies get Secure and HSTS is sent (see below and auth.server.ts).
const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, app) : createServer(app);
// Vite's module updates ride on this server's own port instead of a fixed extra one (24678), so
// several dev servers (tests run many) never collide.
const vite = dev ? await import("vite").then((v) => v.createServer({ root: here, server: { middlewareMode: true, hmr: { server } } })) : undefined;

app.disable("x-powered-by");
app.set("trust proxy", config.TRUST_PROXY_HOPS);
// One log line per request, when its answer ends: never the query string, bodies, headers or
// cookies (tokens ride in them), only the route pattern, so ids in paths stay out of metrics too.
let patternOf: ((pathname: string) => string | null) | undefined;
const routeOf = async (pathname: string): Promise<string> => {
  if (pathname.startsWith("/assets/")) return "/assets/*";
  if (!patternOf || typeof build === "function") patternOf = routePatterns((typeof build === "function" ? await build() : build).routes);
  return patternOf(pathname) ?? "unmatched";
};
app.use((req, res, next) => {
  const started = process.hrtime.bigint();
  // A proxy's X-Request-Id only counts when proxies are trusted at all: otherwise any client could choose its id.
  const scope: RequestScope = { requestId: requestIdFor(req.headers["x-request-id"], config.TRUST_PROXY_HOPS > 0) };
  res.setHeader("X-Request-Id", scope.requestId);
  let logged = false;
  const done = () => {
    if (logged) return;
    logged = true;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // A client that left before the answer ended: its status is what we would have sent.
    const status = res.writableFinished ? res.statusCode : res.headersSent ? res.statusCode : 499;
    void routeOf(req.path).then((route) => {
      observeRequest({ method: req.method, route, status }, seconds);
      const line = { requestId: scope.requestId, method: req.method, route, status, durationMs: Math.round(seconds * 1000 * 10) / 10, userId: scope.userId ?? null };
      if (status >= 500) logger.error(line, "request");
      else logger.info(line, "request");
    });
  };
  res.once("finish", done);
  res.once("close", done);
  runInRequestScope(scope, next);
});
app.use(compression());
app.use((req, res, next) => {
  const nonce = randomBytes(16).toString("base64");
  res.locals.cspNonce = nonce;
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    // Vite's dev server pushes module updates over a WebSocket.
    dev ? "connect-src 'self' ws: wss:" : "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  res.setHeader("Content-Security-Policy", csp);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "strict-origin-when-cross-origin");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  if (req.secure || config.OPSCONDUCTOR_PUBLIC_URL?.startsWith("https:")) {
    res.setHeader("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  }
  next();
});

// A loader's request.signal passes through Requests that Remix copies and drops; once a dropped
// Request is garbage-collected, so is the AbortController that relayed its signal
// (nodejs/undici#3644), and a disconnect never reaches the loader. This signal hangs off the
// response itself, so long-lived answers (live run streams) always learn that their client left.
function closedSignal(res: express.Response): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => controller.abort());
  return controller.signal;
}

let build: ServerBuild | (() => Promise<ServerBuild>);
if (vite) {
  app.use(vite.middlewares);
  build = () => vite.ssrLoadModule("virtual:remix/server-build") as Promise<ServerBuild>;
} else {
  const buildDir = resolve(here, config.WEB_BUILD_DIR ?? "build");
  const client = join(buildDir, "client");
  app.use("/assets", express.static(join(client, "assets"), { immutable: true, maxAge: "1y" }));
  app.use(express.static(client, { maxAge: "1h" }));
  try {
    build = (await import(join(buildDir, "server", "index.js"))) as ServerBuild;
  } catch (error) {
    logger.fatal(`web: no production build at ${buildDir}; run \`pnpm build\` first, or \`pnpm start\` from the repository root, which builds when needed`);
    throw error;
  }
}
app.use(
  createRequestHandler({
    build,
    mode: dev ? "development" : "production",
    getLoadContext: (req, res) => ({ clientIp: req.ip ?? req.socket.remoteAddress ?? null, cspNonce: res.locals.cspNonce as string, connectionClosed: closedSignal(res) }),
  }),
);

const shownHost = config.HOST === "0.0.0.0" ? "localhost" : config.HOST;
server.listen(config.PORT, config.HOST, () => {
  bootLogger.info(`web: listening on ${tls ? "https" : "http"}://${shownHost}:${config.PORT}${dev ? " (dev)" : ""}${tls ? ` with the ${tls.source}` : ""}`);
});
// Plain HTTP on another port, answering only with a redirect to the HTTPS address.
const redirector =
  tls && config.TLS_REDIRECT_PORT
    ? createServer((req, res) => {
        const host = (req.headers.host ?? shownHost).replace(/:\d+$/, "").replace(/[^\w.\-[\]:]/g, "");
        res.writeHead(308, { Location: `https://${host}:${config.PORT}${req.url?.startsWith("/") ? req.url : "/"}`, "Content-Length": "0" });
        res.end();
      })
    : undefined;
redirector?.listen(config.TLS_REDIRECT_PORT, config.HOST, () => {
  bootLogger.info(`web: redirecting http://${shownHost}:${config.TLS_REDIRECT_PORT} to HTTPS`);
});
redirector?.on("error", (error) => {
  logger.fatal(`web: cannot listen on ${config.HOST}:${config.TLS_REDIRECT_PORT} (TLS_REDIRECT_PORT): ${error.message}`);
  process.exit(1);
});
server.on("error", (error) => {
  logger.fatal(`web: cannot listen on ${config.HOST}:${config.PORT}: ${error.message}`);
  process.exit(1);
});

let stopping = false;
// "disconnect": the supervisor of `pnpm start` is gone, so nobody would ever stop this server.
for (const signal of ["SIGINT", "SIGTERM", "disconnect"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    redirector?.close();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    void vite?.close();
    // Long-lived responses (live run output) must not hold shutdown hostage.
    setTimeout(() => process.exit(0), 5_000).unref();
  });
}
