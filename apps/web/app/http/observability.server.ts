// The web process's request log, request ids and Prometheus metrics. server.ts loads this module
// natively and the Remix build bundles its own copy, so the shared state (the logger, the request
// scope, the registry) lives on globalThis: both copies must see the same objects.
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { pino, type Logger, type LevelWithSilent } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the request log records about the request being handled. */
export interface RequestScope {
  requestId: string;
  /** The signed-in user, once the route has authenticated the request. */
  userId?: string;
}

interface Observability {
  logger: Logger;
  scope: AsyncLocalStorage<RequestScope>;
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  durations: Histogram<"method" | "route" | "status">;
  /** Gauges registered by name, so a module loaded twice registers each once. */
  gauges: Set<string>;
}

const KEY = Symbol.for("opsconductor.web.observability");
const holder = globalThis as typeof globalThis & { [KEY]?: Observability };

function create(level: LevelWithSilent): Observability {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "opsconductor_web_" });
  return {
    logger: pino({ level, base: { service: "web" } }),
    scope: new AsyncLocalStorage<RequestScope>(),
    registry,
    requests: new Counter({ name: "opsconductor_web_requests_total", help: "HTTP requests answered, by method, route pattern and status", labelNames: ["method", "route", "status"] as const, registers: [registry] }),
    durations: new Histogram({
      name: "opsconductor_web_request_duration_seconds",
      help: "Time from a request's arrival to the end of its answer, by method, route pattern and status",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    }),
    gauges: new Set(),
  };
}

/** Sets up the process's logger at `level` (server.ts, at boot); later calls keep the first. */
export function initObservability(level: LevelWithSilent): Observability {
  holder[KEY] ??= create(level);
  return holder[KEY];
}

function state(): Observability {
  // Outside server.ts (a unit test importing a module) there is no boot: log at info.
  return (holder[KEY] ??= create("info"));
}

/** The web process's pino logger (fields as the worker's: level, time, service, msg). */
export function logger(): Logger {
  return state().logger;
}

/** The scope of the request this code runs for, if any. */
export function requestScope(): RequestScope | undefined {
  return state().scope.getStore();
}

/** Records the authenticated user of the current request for its log line. */
export function setRequestUser(userId: string | undefined): void {
  const scope = requestScope();
  if (scope && userId) scope.userId = userId;
}

/** Runs `fn` inside a request scope. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return state().scope.run(scope, fn);
}

// Characters a proxy's id may use; anything else (or anything longer) is replaced by our own id,
// so a header cannot inject text into log lines or responses.
const REQUEST_ID = /^[\w.:@+=/-]{1,128}$/;

/** The id of a request: the proxy's X-Request-Id when proxies are trusted and it is well formed, else a new UUID. */
export function requestIdFor(incoming: string | string[] | undefined, trustProxy: boolean): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  if (trustProxy && value && REQUEST_ID.test(value)) return value;
  return randomUUID();
}

/** Counts one answered request in the metrics. */
export function observeRequest(labels: { method: string; route: string; status: number }, seconds: number): void {
  const s = state();
  const l = { method: labels.method, route: labels.route, status: String(labels.status) };
  s.requests.inc(l);
  s.durations.observe(l, seconds);
}

/** Adds a gauge read at each scrape, once per process however often the calling module loads. */
export function registerGauge(name: string, help: string, read: () => number | Promise<number>, labelled?: { label: string; read: () => Promise<Record<string, number>> }): void {
  const s = state();
  if (s.gauges.has(name)) return;
  s.gauges.add(name);
  if (labelled) {
    new Gauge({
      name,
      help,
      labelNames: [labelled.label],
      registers: [s.registry],
      async collect() {
        const values = await labelled.read();
        this.reset();
        for (const [key, value] of Object.entries(values)) this.set({ [labelled.label]: key }, value);
      },
    });
    return;
  }
  new Gauge({
    name,
    help,
    registers: [s.registry],
    async collect() {
      this.set(await read());
    },
  });
}

/** The metrics in Prometheus text format, and its content type. */
export async function metricsText(): Promise<{ text: string; contentType: string }> {
  const s = state();
  return { text: await s.registry.metrics(), contentType: s.registry.contentType };
}

interface RouteEntry {
  id: string;
  parentId?: string;
  path?: string;
  index?: boolean;
}

/** Turns a Remix build's route table into a function naming the route pattern a path matches. */
export function routePatterns(routes: Record<string, RouteEntry | undefined>): (pathname: string) => string | null {
  const fullPath = (route: RouteEntry): string => {
    const parent = route.parentId ? routes[route.parentId] : undefined;
    const own = route.path ?? "";
    const base = parent ? fullPath(parent) : "";
    return [base, own].filter(Boolean).join("/");
  };
  // Parents count too: api.targets.ts answers /api/targets while api.targets.$id.ts nests under it.
  const patterns = Object.values(routes)
    .filter((r): r is RouteEntry => Boolean(r))
    .map((r) => {
      const segments = fullPath(r).split("/").filter(Boolean);
      // More literal segments first, then fewer parameters, then the splat last.
      const score = segments.reduce((sum, seg) => sum + (seg === "*" ? 0 : seg.startsWith(":") ? 2 : 3), 0);
      return { pattern: `/${segments.join("/")}`, segments, score };
    })
    .sort((a, b) => b.score - a.score || b.segments.length - a.segments.length);
  return (pathname) => {
    const parts = pathname.split("/").filter(Boolean);
    for (const p of patterns) {
      const splat = p.segments.at(-1) === "*";
      const fixed = splat ? p.segments.slice(0, -1) : p.segments;
      if (splat ? parts.length < fixed.length : parts.length !== fixed.length) continue;
      if (fixed.every((seg, i) => seg.startsWith(":") || seg.toLowerCase() === parts[i]!.toLowerCase())) return p.pattern;
    }
    return null;
  };
}
