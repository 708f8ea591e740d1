// Measures the run page's log viewer in headless chromium against the plain GET /api/runs/{id}/steps:
// a finished run of 1,000,000 lines (~100 MB) — first screen, jump to the end, a search that matches
// only the last line, the tab's JS heap — and a live run printing 10,000 lines/s for 60 s through a
// real worker and the WinRM test server — how far the screen lags behind the worker, and how long a
// click on "Cancel run" takes to answer. Run: pnpm bench:run-log (writes docs/performance.md), or node --conditions=@opsconductor/source bench/run-log.ts  (127.0.0.1 only)
// What the figures mean: docs/performance.md, "Run log".
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { appendRunOutput, applyMigrations, createJob, createPrismaClient } from "@opsconductor/db";
import { freePort, startEmbeddedPostgres } from "@opsconductor/db/embedded";
import { createRequire } from "node:module";
import type * as Playwright from "playwright-core";
import type { Page } from "playwright-core";
import { startWinRMTestServer } from "../packages/winrm/src/testing/index.ts";
import { buildProduction } from "../apps/web/production-build.ts";
import { createLocalUser } from "../apps/web/app/services/auth/local-users.server.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// playwright-core is the web app's (test) dependency, not the workspace root's.
const { chromium } = createRequire(join(root, "apps/web/package.json"))("playwright-core") as typeof Playwright;
const LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const LIVE_RATE = Number(process.env.BENCH_LIVE_RATE ?? 10_000);
const LIVE_SEC = Number(process.env.BENCH_LIVE_SEC ?? 60);
const loadAtStart = loadavg();
const loadStart = loadAtStart.map((l) => l.toFixed(1)).join(" / ");
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 30 * 60_000);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PASSWORD = "bench-password-1";

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${DEADLINE_MS} ms; giving up`);
  process.exit(2);
}, DEADLINE_MS);
watchdog.unref();
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const ms = (start: number) => Date.now() - start;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

function start(name: string, args: string[], options: { cwd: string; env: Record<string, string>; ready: RegExp }): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      output = (output + data.toString()).slice(-100_000);
      if (options.ready.test(output)) resolve(child);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited (code ${code}):\n${output.slice(-2000)}`)));
  });
}

// One 100-byte line, as the WinRM test fixture's Write-Lines prints them.
const line = (n: number) => `line ${String(n).padStart(7, "0")} ${"-".repeat(85)}\r\n`;

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

interface Figures {
  firstScreenColdMs: number;
  firstScreenMs: number;
  jumpToEndMs: number;
  searchLastLineMs: number;
  heapMb: number;
}

const work = await mkdtemp(join(tmpdir(), "opsconductor-log-bench-"));
await chmod(work, 0o755);
const children: ChildProcess[] = [];
let stopPostgres = async () => {};
let closeBrowser = async () => {};
let closeWinrm = async () => {};
try {
  log("starting PostgreSQL and building the web app");
  const buildDir = join(root, "apps/web/node_modules/.cache", `bench-build-${process.pid}`);
  const [pg] = await Promise.all([startEmbeddedPostgres({ dataDir: join(work, "postgres"), database: "bench" }), buildProduction(buildDir)]);
  stopPostgres = async () => {
    await pg.stop();
    await rm(buildDir, { recursive: true, force: true });
  };
  await applyMigrations(pg.url);
  const prisma = createPrismaClient(pg.url, { maxConnections: 4 });
  const admin = await createLocalUser(prisma, { username: "bench-admin", password: PASSWORD, role: "admin" });
  const masterKey = randomBytes(32).toString("base64");

  log(`writing a finished run of ${LINES.toLocaleString("en-US")} lines`);
  const definition = { name: "Long log", steps: [{ type: "winrm.exec", target: "bench-target", command: "Write-Lines" }] };
  const job = await createJob(prisma, { name: "Long log", definition, createdById: admin.id });
  const run = await prisma.jobRun.create({ data: { jobId: job.id, jobVersionId: job.currentVersionId!, status: "succeeded", startedAt: new Date(), finishedAt: new Date() } });
  const step = await prisma.jobRunStep.create({ data: { runId: run.id, index: 0, name: "Write lines", type: "winrm.exec", targetName: "bench-target", status: "succeeded", exitCode: 0, startedAt: new Date(), finishedAt: new Date() } });
  // Chunks of about 8 KB, cut anywhere in a line, as a WinRM receive loop hands them over.
  let sequence = 0;
  let pending = "";
  let batch: { stepId: string; stream: "stdout"; sequence: number; text: string }[] = [];
  for (let n = 1; n <= LINES; n++) {
    pending += n === LINES ? `the last line: needle-${run.id.slice(0, 8)}\r\n` : line(n);
    while (pending.length >= 8_000 || (n === LINES && pending.length > 0)) {
      batch.push({ stepId: step.id, stream: "stdout", sequence: ++sequence, text: pending.slice(0, 8_003) });
      pending = pending.slice(8_003);
    }
    if (batch.length >= 250 || n === LINES) {
      await appendRunOutput(prisma, run.id, batch);
      batch = [];
    }
  }
  const bytes = (await prisma.$queryRaw<{ b: bigint }[]>`SELECT sum(octet_length(text))::bigint AS b FROM run_output_chunks WHERE run_id = ${run.id}::uuid`)[0]!.b;

  log("starting the web server, the WinRM test server and a worker");
  const winrm = await startWinRMTestServer({
    users: { bench: "bench-password" },
    auth: "ntlm",
    // Emit-Lines <rate> <seconds>: <rate> 100-byte lines a second, in tenths of a second.
    handler: async (ctx) => {
      const match = /Emit-Lines (\d+) (\d+)/.exec(ctx.script ?? ctx.commandLine);
      if (!match) return 0;
      const [rate, seconds] = [Number(match[1]), Number(match[2])];
      const began = Date.now();
      let n = 0;
      for (let tick = 1; tick <= seconds * 10 && !ctx.signal.aborted; tick++) {
        const due = (rate * tick) / 10;
        let text = "";
        while (n < due) text += line(++n);
        ctx.stdout.write(text);
        await new Promise((r) => setTimeout(r, Math.max(0, began + tick * 100 - Date.now())));
      }
      return ctx.signal.aborted ? 1 : 0;
    },
  });
  closeWinrm = () => winrm.close();
  const webPort = await freePort();
  const common = { DATABASE_URL: pg.url, OPSCONDUCTOR_MASTER_KEY: masterKey, NODE_ENV: "production" };
  children.push(await start("web server", ["--conditions=@opsconductor/source", "server.ts"], { cwd: join(root, "apps/web"), env: { ...common, PORT: String(webPort), HOST: "127.0.0.1", WEB_BUILD_DIR: buildDir }, ready: /listening on/ }));
  children.push(await start("worker", ["--conditions=@opsconductor/source", "src/main.ts"], { cwd: join(root, "apps/worker"), env: { ...common, WORKER_CONCURRENCY: "1", METRICS_PORT: "0", LOG_LEVEL: "info" }, ready: /"msg":"worker ready"/ }));
  const base = `http://127.0.0.1:${webPort}`;
  const login = (await (await fetch(`${base}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bench-admin", password: PASSWORD }) })).json()) as { accessToken: string };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${login.accessToken}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const parsed = (await res.json().catch(() => null)) as Record<string, unknown> & { id: string };
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  const credential = await api("POST", "/api/credentials", { name: "bench", type: "winrm", username: "bench", usagePolicy: ["127.0.0.1"], secret: { password: "bench-password" } });
  await api("POST", "/api/targets", { name: "bench-target", hostname: "127.0.0.1", port: winrm.port, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--enable-precise-memory-info"] });
  closeBrowser = () => browser.close();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(`${base}/login`);
  await page.waitForFunction(() => (window as unknown as { __remixContext?: unknown }).__remixContext !== undefined);
  await page.getByLabel("Username").fill("bench-admin");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/`);

  // The run page. The first open also builds the run's line index from the stored chunks.
  const openRunPage = async () => {
    const began = Date.now();
    await page.goto(`${base}/runs/${run.id}`);
    await page.locator('[data-line="30"]').waitFor();
    return ms(began);
  };
  log("the run page: first screen, jump to the end, search, heap");
  const ours = {} as Figures;
  ours.firstScreenColdMs = await openRunPage();
  ours.firstScreenMs = Math.min(await openRunPage(), await openRunPage());
  await page.waitForFunction(() => (window as unknown as { __remixContext?: unknown }).__remixContext !== undefined);
  let began = Date.now();
  await page.getByRole("button", { name: "Follow the tail" }).click();
  await page.locator(`[data-line="${LINES}"]`).waitFor();
  ours.jumpToEndMs = ms(began);
  await page.getByRole("button", { name: "Top" }).click();
  await page.locator('[data-line="1"]').waitFor();
  await page.getByLabel("Search the log").fill(`needle-${run.id.slice(0, 8)}`);
  began = Date.now();
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByText("Match 1 of 1 (line").waitFor();
  await page.locator(`[data-line="${LINES}"]`).waitFor();
  ours.searchLastLineMs = ms(began);
  // The server's part of it: the same search over the API, three times, the median.
  const apiSearch: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    await api("GET", `/api/runs/${run.id}/log/search?q=needle-${run.id.slice(0, 8)}`);
    apiSearch.push(ms(t));
  }
  ours.heapMb = await heapMb(page);
  const domRows = await page.locator("[data-line]").count();

  // The same with today's plain answer: a page that reads /steps 1 MB at a time, keeps the text and searches it.
  log("the same with GET /api/runs/{id}/steps");
  await page.goto(`${base}/profile`);
  const plain = (await page.evaluate(async ({ runId, needle }) => {
    const t0 = performance.now();
    const texts: string[] = [];
    let after: number | null = null;
    let first = 0;
    for (;;) {
      const res = await fetch(`/api/runs/${runId}/steps${after === null ? "" : `?afterSequence=${after}`}`);
      const body = (await res.json()) as { items: { output: { stdout: string } }[]; lastSequence: number; truncated: boolean };
      texts.push(body.items[0]!.output.stdout);
      if (first === 0) first = performance.now() - t0;
      after = body.lastSequence;
      if (!body.truncated) break;
    }
    const all = performance.now() - t0;
    const log = texts.join("");
    const s0 = performance.now();
    const found = log.lastIndexOf(needle);
    const scan = performance.now() - s0;
    (window as unknown as { __log?: string }).__log = log;
    return { first, all, scan, found: found >= 0, pages: texts.length };
  }, { runId: run.id, needle: `needle-${run.id.slice(0, 8)}` })) as { first: number; all: number; scan: number; found: boolean; pages: number };
  const theirs: Figures = { firstScreenColdMs: plain.first, firstScreenMs: plain.first, jumpToEndMs: plain.all, searchLastLineMs: plain.all + plain.scan, heapMb: await heapMb(page) };
  if (!plain.found) throw new Error("the needle was not in the text /steps answered");

  log(`finished run: ours ${JSON.stringify(ours)}, /steps ${JSON.stringify(theirs)}`);
  // A live run: the page follows it while the worker writes LIVE_RATE lines a second.
  log(`a live run: ${LIVE_RATE} lines/s for ${LIVE_SEC} s`);
  const liveJob = await api("POST", "/api/jobs", { name: "Live log", version: 1, parameters: {}, steps: [{ type: "winrm.exec", shell: "powershell", target: "bench-target", command: `Emit-Lines ${LIVE_RATE} ${LIVE_SEC}`, timeoutSec: LIVE_SEC * 3 }] });
  const { runId: liveRun } = (await api("POST", `/api/jobs/${liveJob.id}/run`, { parameters: {} })) as unknown as { runId: string };
  await page.goto(`${base}/runs/${liveRun}`);
  await page.getByTestId("log-line-count").waitFor();
  const shownLines = async () => Number((await page.getByTestId("log-line-count").innerText()).replace(/\D/g, ""));
  // Lines stored so far, as the server numbers them (the page's count includes the worker's two notes too).
  const storedLines = async () => ((await api("GET", `/api/runs/${liveRun}/log?from=1&count=1`)) as unknown as { lineCount: number }).lineCount;
  const lagSamples: number[] = [];
  const clicks: number[] = [];
  const liveStart = Date.now();
  while (Date.now() - liveStart < (LIVE_SEC - 5) * 1000) {
    await new Promise((r) => setTimeout(r, 5_000));
    const [stored, shown] = [await storedLines(), await shownLines()];
    lagSamples.push(Math.max(0, stored - shown) / LIVE_RATE);
    // A click on Cancel run: time until its dialog is open, then Escape closes it again.
    const status = (await prisma.jobRun.findUniqueOrThrow({ where: { id: liveRun }, select: { status: true } })).status;
    log(`live: ${stored} lines stored, ${shown} on screen, run ${status}`);
    if (status !== "running") break;
    const t = Date.now();
    await page.getByRole("button", { name: "Cancel run" }).click({ timeout: 30_000 }).catch(async (error: Error) => {
      await page.screenshot({ path: join(tmpdir(), "run-log-bench-failure.png") });
      throw error;
    });
    await page.locator("dialog[open]").waitFor();
    clicks.push(ms(t));
    await page.keyboard.press("Escape");
    await page.locator("dialog[open]").waitFor({ state: "detached" }).catch(() => page.locator("dialog:not([open])").first().waitFor({ state: "attached" }));
  }
  // The end: the worker's last line against the moment the screen shows the final count.
  const finalStored = await (async () => {
    for (;;) {
      const row = await prisma.jobRun.findUniqueOrThrow({ where: { id: liveRun }, select: { status: true, finishedAt: true } });
      if (row.finishedAt) return row;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const lastChunk = await prisma.runOutputChunk.findFirst({ where: { runId: liveRun, stream: "stdout" }, orderBy: { sequence: "desc" }, select: { at: true } });
  const expectedLines = LIVE_RATE * LIVE_SEC;
  // The final count as the server numbers it (the worker's own notes included), not a guess of how many notes there are.
  const finalLines = await storedLines();
  await page.waitForFunction((n) => document.querySelector('[data-testid="log-line-count"]')?.textContent?.replace(/\D/g, "") === String(n), finalLines, { timeout: 120_000 }).catch(() => undefined);
  const endLagMs = Date.now() - lastChunk!.at.getTime();
  const shownAtEnd = await shownLines();
  const liveHeap = await heapMb(page);

  // The same live run followed the plain way: a page that polls GET /api/runs/{id}/steps?afterSequence
  // once a second and appends the text (what a page without the line API would do), with a button
  // whose click is timed the same way while the text streams in.
  log(`a live run followed through /steps: ${LIVE_RATE} lines/s for ${LIVE_SEC} s`);
  const { runId: plainRun } = (await api("POST", `/api/jobs/${liveJob.id}/run`, { parameters: {} })) as unknown as { runId: string };
  await page.goto(`${base}/profile`);
  await page.evaluate((runId) => {
    const state = { lines: 0, done: false, text: [] as string[], clickedAt: 0 };
    (window as unknown as { __plain: typeof state }).__plain = state;
    const button = document.createElement("button");
    button.textContent = "Cancel (plain)";
    button.id = "plain-cancel";
    button.addEventListener("click", () => (state.clickedAt = performance.now()));
    document.body.prepend(button);
    const pre = document.createElement("pre");
    document.body.append(pre);
    let after: number | null = null;
    const poll = async () => {
      for (;;) {
        const res = await fetch(`/api/runs/${runId}/steps${after === null ? "" : `?afterSequence=${after}`}`);
        const body = (await res.json()) as { items: { status: string; output: { stdout: string } }[]; lastSequence: number; truncated: boolean };
        const text = body.items.map((i) => i.output.stdout).join("");
        if (text) {
          state.text.push(text);
          state.lines += text.split("\n").length - 1;
          pre.append(text);
        }
        after = body.lastSequence ?? after;
        if (body.truncated) continue;
        if (body.items.every((i) => ["succeeded", "failed", "canceled", "timed_out", "skipped"].includes(i.status))) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      state.done = true;
    };
    void poll();
  }, plainRun);
  const plainShown = () => page.evaluate(() => (window as unknown as { __plain: { lines: number } }).__plain.lines);
  const plainStored = async () => {
    const rows = await prisma.$queryRaw<{ n: bigint }[]>`SELECT COALESCE(sum(length(text) - length(replace(text, E'\n', ''))), 0)::bigint AS n FROM run_output_chunks WHERE run_id = ${plainRun}::uuid AND stream = 'stdout'`;
    return Number(rows[0]!.n);
  };
  const plainLag: number[] = [];
  const plainClicks: number[] = [];
  let plainUnanswered = 0;
  const plainStart = Date.now();
  while (Date.now() - plainStart < (LIVE_SEC - 5) * 1000) {
    await new Promise((r) => setTimeout(r, 5_000));
    const [stored, shown] = [await plainStored(), await plainShown()];
    plainLag.push(Math.max(0, stored - shown) / LIVE_RATE);
    log(`live /steps: ${stored} lines stored, ${shown} in the page`);
    const t = Date.now();
    // A page that appends every line to the DOM can stop answering altogether; that is a result.
    try {
      await page.click("#plain-cancel", { timeout: 30_000 });
      await page.waitForFunction(() => (window as unknown as { __plain: { clickedAt: number } }).__plain.clickedAt > 0, undefined, { timeout: 30_000 });
      plainClicks.push(ms(t));
      await page.evaluate(() => ((window as unknown as { __plain: { clickedAt: number } }).__plain.clickedAt = 0));
    } catch (error) {
      if (!(error instanceof Error && error.name === "TimeoutError")) throw error;
      plainUnanswered++;
      log(`live /steps: the plain page did not handle the click within 30 s`);
    }
  }
  for (;;) {
    const row = await prisma.jobRun.findUniqueOrThrow({ where: { id: plainRun }, select: { finishedAt: true } });
    if (row.finishedAt) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const plainLast = await prisma.runOutputChunk.findFirst({ where: { runId: plainRun, stream: "stdout" }, orderBy: { sequence: "desc" }, select: { at: true } });
  const plainFinished = await page.waitForFunction(() => (window as unknown as { __plain: { done: boolean } }).__plain.done, undefined, { timeout: 300_000 }).then(() => true, () => false);
  const plainEndLagMs = Date.now() - plainLast!.at.getTime();
  const plainAtEnd = await plainShown();
  const plainHeap = await heapMb(page);

  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const loadEnd = loadavg().map((l) => l.toFixed(1)).join(" / ");
  const unanswered = plainUnanswered > 0 ? `${plainUnanswered} of ${plainClicks.length + plainUnanswered} clicks not handled within 30 s` : "";
  const plainCell = plainClicks.length === 0 ? unanswered : `${f(median(plainClicks))} ms (${f(Math.max(...plainClicks))} ms)${unanswered ? `; ${unanswered}` : ""}`;
  const now = new Date().toISOString().slice(0, 16).replace("T", " ");
  const table = [
    `Measured ${now} UTC with \`pnpm bench:run-log\` on ${cpus()[0]?.model.split(" ").slice(0, 2).join(" ")}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, Debian's chromium (headless, 1280×900); PostgreSQL, web server (production build), worker, WinRM test server and browser on the same machine.`,
    "",
    `A finished run of ${LINES.toLocaleString("en-US")} lines (${(Number(bytes) / 2 ** 20).toFixed(0)} MiB in ${sequence.toLocaleString("en-US")} chunks):`,
    "",
    "| measurement | run page (goal) | plain `/api/runs/:id/steps` |",
    "|---|---|---|",
    `| first screen of log, first open ever (line index built) | ${f(ours.firstScreenColdMs)} ms | ${f(theirs.firstScreenColdMs)} ms (first 1 MB answer) |`,
    `| first screen of log | **${f(ours.firstScreenMs)} ms** (< 2000) | ${f(theirs.firstScreenMs)} ms (first 1 MB answer) |`,
    `| jump to the end | **${f(ours.jumpToEndMs)} ms** (< 1000) | ${f(theirs.jumpToEndMs)} ms (all ${plain.pages} answers) |`,
    `| search matching only the last line | **${f(ours.searchLastLineMs)} ms** (< 1000) | ${f(theirs.searchLastLineMs)} ms (all answers, then lastIndexOf) |`,
    `| … of which the server's answer to \`/log/search\` (median of 3, over the API) | ${f(median(apiSearch))} ms | |`,
    `| tab's JS heap after these | **${f(ours.heapMb)} MB** (< 300) | ${f(theirs.heapMb)} MB (the text held) |`,
    "",
    `Rows in the DOM on the run page: ${domRows}.`,
    "",
    `A live run printing ${LIVE_RATE.toLocaleString("en-US")} lines/s for ${LIVE_SEC} s (${expectedLines.toLocaleString("en-US")} lines), watched on the run page:`,
    "",
    "| measurement | run page (goal) | plain `/api/runs/:id/steps`, polled every second |",
    "|---|---|---|",
    `| lag between server and screen, median of ${lagSamples.length} / ${plainLag.length} samples (every 5 s; max) | ${f(median(lagSamples) * 1000)} ms (${f(Math.max(...lagSamples) * 1000)} ms) | ${f(median(plainLag) * 1000)} ms (${f(Math.max(...plainLag) * 1000)} ms) |`,
    `| lag at the end: last chunk stored → final line count on screen | **${f(endLagMs)} ms** (< 1000) | ${plainFinished ? "" : "over "}${f(plainEndLagMs)} ms${plainFinished ? "" : " (had not caught up)"} |`,
    `| click on "Cancel run" (plain: a button in that page) → handled, median of ${clicks.length} / ${plainClicks.length + plainUnanswered} (max) | **${f(median(clicks))} ms** (< 200) (${f(Math.max(...clicks))} ms) | ${plainCell} |`,
    `| lines on screen at the end / lines of the log | ${shownAtEnd.toLocaleString("en-US")} / ${(await storedLines()).toLocaleString("en-US")} (run ${finalStored.status}) | ${plainAtEnd.toLocaleString("en-US")} / ${(await plainStored()).toLocaleString("en-US")} |`,
    `| tab's JS heap at the end | ${f(liveHeap)} MB | ${f(plainHeap)} MB (the text held) |`,
    "",
    loadAtStart[0]! > cpus().length
      ? `The machine was shared with other work while this ran (load average ${loadStart} at the start, ${loadEnd} at the end, 1/5/15 min), so the figures are pessimistic.`
      : `Load average ${loadStart} at the start, ${loadEnd} at the end (1/5/15 min; the bench's own processes included).`,
  ].join("\n");
  console.log(table);
  if (process.argv.includes("--write-docs")) {
    const docs = join(root, "docs/performance.md");
    const text = await readFile(docs, "utf8");
    const block = `<!-- run-log-bench:start -->\n${table}\n<!-- run-log-bench:end -->`;
    await writeFile(docs, text.replace(/<!-- run-log-bench:start -->[\s\S]*<!-- run-log-bench:end -->/, block));
    log("docs/performance.md updated");
  }
  await prisma.$disconnect();
} finally {
  await closeBrowser().catch(() => undefined);
  for (const child of children) child.kill("SIGTERM");
  await closeWinrm().catch(() => undefined);
  await stopPostgres().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
