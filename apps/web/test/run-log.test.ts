// A run's log by lines over the API: ranges of numbered lines, search over the whole log, its
// sections, and the raw download; numbers stay put while a run streams, and every answer needs runs:read.
import { parseJobDefinition } from "@opsconductor/core";
import { appendRunOutput } from "@opsconductor/db";
import { createTestJob, createTestRun, createTestStep } from "@opsconductor/testing";
import { startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const app = await startApp();
const tokens = await app.signInAll();

const definition = parseJobDefinition({ name: "Log job", steps: [{ id: "a", type: "winrm.exec", target: "srv-1", command: "a" }, { id: "b", type: "winrm.exec", target: "srv-1", command: "b" }] });

async function newRun(status: "running" | "succeeded" = "succeeded") {
  const job = await createTestJob(app.prisma, { definition, createdById: app.users.admin.id });
  const run = await createTestRun(app.prisma, job, { status, requestedById: app.users.operator.id });
  const steps = [await createTestStep(app.prisma, run.id, { index: 0 }), await createTestStep(app.prisma, run.id, { index: 1 })];
  return { run, steps };
}

type Chunk = { stepId?: string | null; stream: "stdout" | "stderr" | "system"; text: string };
let sequences = 0;
async function write(runId: string, chunks: Chunk[]) {
  await appendRunOutput(app.prisma, runId, chunks.map((c) => ({ ...c, sequence: ++sequences })));
}

const get = (path: string, role: "admin" | "operator" | "viewer" = "viewer") => app.request("GET", path, { token: tokens[role] });
const texts = (body: { lines: { text: string }[] }) => body.lines.map((l) => l.text);

describe("GET /api/runs/{id}/log", () => {
  test("numbers lines across chunks: a chunk without a newline goes on in the next one of its step and stream; another stream or step starts a new line", async () => {
    const { run, steps } = await newRun();
    const [a, b] = steps.map((s) => s.id);
    await write(run.id, [
      { stream: "system", text: "Run started on worker w-1.\n" },
      { stepId: a, stream: "stdout", text: "Stopping " },
      { stepId: a, stream: "stdout", text: "Spooler\r\nWaiting" },
      { stepId: a, stream: "stderr", text: "WARNING: slow\r\n" },
      { stepId: a, stream: "stdout", text: " done\r\n\r\n" },
      { stepId: b, stream: "stdout", text: "Starting\n" },
      { stepId: b, stream: "stdout", text: "\n" },
      { stream: "system", text: "Run succeeded." },
    ]);
    const res = await get(`/api/runs/${run.id}/log`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ runId: run.id, status: "succeeded", complete: true, lineCount: 9, lastSequence: sequences, from: 1, tail: { stepId: null, stream: "system", open: true } });
    expect(res.body.lines.map((l: { line: number; stream: string; stepId: string | null; text: string }) => [l.line, l.stepId, l.stream, l.text])).toEqual([
      [1, null, "system", "Run started on worker w-1."],
      [2, a, "stdout", "Stopping Spooler"],
      [3, a, "stdout", "Waiting"],
      [4, a, "stderr", "WARNING: slow"],
      [5, a, "stdout", " done"],
      [6, a, "stdout", ""],
      [7, b, "stdout", "Starting"],
      [8, b, "stdout", ""],
      [9, null, "system", "Run succeeded."],
    ]);
    expect(res.body.lines[1].at).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    // A range, and a range past the end.
    expect(texts((await get(`/api/runs/${run.id}/log?from=3&count=2`)).body)).toEqual(["Waiting", "WARNING: slow"]);
    expect((await get(`/api/runs/${run.id}/log?from=10`)).body).toMatchObject({ lineCount: 9, lines: [] });
  });

  test("any split of a stream into chunks gives the lines of its text, and a live run's numbers never move as output arrives", async () => {
    const { run, steps } = await newRun("running");
    const lines = Array.from({ length: 2500 }, (_, i) => `line ${i + 1} ${"x".repeat(i % 97)}`);
    const text = lines.join("\r\n") + "\r\n";
    // Deterministic pseudo-random cut points, some mid-line, some right after a newline.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const chunks: Chunk[] = [];
    for (let at = 0; at < text.length; ) {
      const size = 1 + Math.floor(random() * 3000);
      chunks.push({ stepId: steps[0]!.id, stream: "stdout", text: text.slice(at, at + size) });
      at += size;
    }
    // Half now: the index is built; the rest later: it is extended, and what was numbered stays.
    const half = Math.floor(chunks.length / 2);
    await write(run.id, chunks.slice(0, half));
    const early = await get(`/api/runs/${run.id}/log?from=1&count=1000`);
    expect(early.body.complete).toBe(false);
    const earlyCount = early.body.lineCount as number;
    await write(run.id, chunks.slice(half));
    const read: string[] = [];
    for (let from = 1; from <= lines.length; from += 1000) {
      const page = await get(`/api/runs/${run.id}/log?from=${from}&count=1000`);
      expect(page.status).toBe(200);
      read.push(...texts(page.body));
    }
    expect(read).toEqual(lines);
    // Every line complete in the early answer reads the same now (its last one may have been open).
    const settled = Math.min(1000, earlyCount - 1);
    expect(settled).toBeGreaterThan(100);
    expect(texts(early.body).slice(0, settled)).toEqual(lines.slice(0, settled));
    const final = await get(`/api/runs/${run.id}/log?from=${lines.length}&count=5`);
    expect(final.body).toMatchObject({ lineCount: lines.length, tail: { open: false } });
  });

  test("a very long line comes cut and marked clipped; the download has all of it", async () => {
    const { run, steps } = await newRun();
    const long = "y".repeat(40_000);
    await write(run.id, [
      { stepId: steps[0]!.id, stream: "stdout", text: long.slice(0, 10_000) },
      { stepId: steps[0]!.id, stream: "stdout", text: long.slice(10_000) },
      { stepId: steps[0]!.id, stream: "stdout", text: "\nnext\n" },
    ]);
    const res = await get(`/api/runs/${run.id}/log`);
    expect(res.body.lines[0]).toMatchObject({ line: 1, clipped: true });
    expect(res.body.lines[0].text).toBe(long.slice(0, 16 * 1024));
    expect(res.body.lines[1]).toMatchObject({ line: 2, text: "next" });
    expect((await get(`/api/runs/${run.id}/log.txt`)).text).toBe(`${long}\nnext\n`);
  });

  test("needs runs:read (a token), a real run and sane numbers", async () => {
    const { run } = await newRun();
    expect((await app.request("GET", `/api/runs/${run.id}/log`)).status).toBe(401);
    expect((await app.request("GET", `/api/runs/${run.id}/log/search?q=x`)).status).toBe(401);
    expect((await app.request("GET", `/api/runs/${run.id}/log/sections`)).status).toBe(401);
    expect((await app.request("GET", `/api/runs/${run.id}/log.txt`)).status).toBe(401);
    for (const path of ["log", "log/search?q=x", "log/sections", "log.txt"]) expect((await get(`/api/runs/00000000-0000-4000-8000-000000000000/${path}`)).status, path).toBe(404);
    const cases: [string, string][] = [
      ["log?from=0", "query.from"],
      ["log?count=1001", "query.count"],
      ["log?from=x", "query.from"],
      ["log/search", "query.q"],
      ["log/search?q=", "query.q"],
      ["log/search?q=a%0Ab", "query.q"],
      [`log/search?q=${"a".repeat(201)}`, "query.q"],
      ["log/search?q=a&after=1&before=5", "query.before"],
      ["log/search?q=a&limit=10001", "query.limit"],
    ];
    for (const [path, field] of cases) {
      const res = await get(`/api/runs/${run.id}/${path}`);
      expect(res.status, path).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path), path).toEqual([field]);
    }
  });
});

describe("GET /api/runs/{id}/log/search", () => {
  test("finds a needle in the last of many lines, across chunk boundaries and colour codes, ASCII letters in any case", async () => {
    const { run, steps } = await newRun();
    const s = steps[0]!.id;
    const filler = Array.from({ length: 3000 }, (_, i) => `ordinary output ${i}\n`).join("");
    await write(run.id, [
      { stepId: s, stream: "stdout", text: filler.slice(0, 40_000) },
      { stepId: s, stream: "stdout", text: filler.slice(40_000) },
      // Split inside the word, across two chunks.
      { stepId: s, stream: "stdout", text: "fatal: Disk Quo" },
      { stepId: s, stream: "stdout", text: "ta exceeded\n" },
      // Colour codes between the letters.
      { stepId: s, stream: "stderr", text: "\u001b[31mdisk \u001b[1mquota\u001b[0m again\n" },
      { stepId: s, stream: "stdout", text: "the very last line: NEEDLE-42\n" },
    ]);
    const search = async (q: string, extra = "") => (await get(`/api/runs/${run.id}/log/search?q=${encodeURIComponent(q)}${extra}`)).body;
    expect(await search("needle-42")).toMatchObject({ total: 1, matches: [3003], more: false, lineCount: 3003, query: "needle-42" });
    expect(await search("DISK QUOTA")).toMatchObject({ total: 2, matches: [3001, 3002] });
    expect(await search("nothing like this")).toMatchObject({ total: 0, matches: [] });
    // Case folding is ASCII only: other letters match exactly.
    await write(run.id, [{ stepId: s, stream: "stdout", text: "Überprüfung\n" }]);
    expect((await search("überprüfung")).total).toBe(0);
    expect((await search("Überprüfung")).total).toBe(1);
    expect((await search("ÜBERPRüFUNG")).total).toBe(1);

    // Pages of matches: after a line, before a line, and the count of the whole log every time.
    const all = await search("ordinary output");
    expect(all).toMatchObject({ total: 3000, more: true });
    expect(all.matches).toHaveLength(1000);
    expect(all.matches.slice(0, 3)).toEqual([1, 2, 3]);
    expect(await search("ordinary output", "&after=2990")).toMatchObject({ total: 3000, matches: [2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999, 3000], more: false });
    expect(await search("ordinary output", "&before=4&limit=2")).toMatchObject({ total: 3000, matches: [2, 3], more: true });
  });

  test("every way of splitting the output into chunks finds the same lines, whether the search index narrows the query or every chunk is read", async () => {
    const lines = [
      "plain start",
      "Größe: 42 MiB before the needle-7 here",
      "100% done_ok \\ back\\slash",
      "mixed CASE Needle-7 at the end",
      "\u001b[32mnee\u001b[0mdle-7 in colour",
      "naïve needlE-7 after a two-byte letter",
      "nothing",
      "the last line: needle-7",
    ];
    const text = lines.map((l) => `${l}\n`).join("");
    // Chunks cut at every third, fifth and seventh character (mid-line, mid-word, inside a two-byte letter's string position).
    for (const every of [3, 5, 7, 40, text.length]) {
      const { run, steps } = await newRun();
      const chunks: Chunk[] = [];
      for (let i = 0; i < text.length; i += every) chunks.push({ stepId: steps[0]!.id, stream: "stdout", text: text.slice(i, i + every) });
      await write(run.id, chunks);
      const search = async (q: string) => (await get(`/api/runs/${run.id}/log/search?q=${encodeURIComponent(q)}`)).body;
      const where = `split every ${every}`;
      // Indexed (ASCII, three letters in a row) and read in full (no such run, or other letters) give the same answers.
      expect((await search("NEEDLE-7")).matches, where).toEqual([2, 4, 5, 6, 8]);
      expect((await search("e-7")).matches, where).toEqual([2, 4, 5, 6, 8]);
      expect((await search("-7")).matches, where).toEqual([2, 4, 5, 6, 8]);
      expect((await search("ïve needle")).matches, where).toEqual([6]);
      expect((await search("GRÖßE: 42")).matches, where).toEqual([]);
      expect((await search("GRößE: 42")).matches, where).toEqual([2]);
      // LIKE's wildcards and escape are plain characters in a query.
      expect((await search("100% done_ok")).matches, where).toEqual([3]);
      expect((await search("0%_d")).matches, where).toEqual([]);
      expect((await search("\\ back\\sla")).matches, where).toEqual([3]);
      expect((await search("ok \\ b")).matches, where).toEqual([3]);
      expect((await search("ing")).matches, where).toEqual([7]);
      expect((await search("e needlE-7 after")).matches, where).toEqual([6]);
    }
  });

  test("a long run: a match in the last line and one across a boundary of long chunks keep their line numbers", async () => {
    const { run, steps } = await newRun();
    const s = steps[0]!.id;
    // 20,000 lines in chunks of 80 lines, one chunk ending inside a line that the next (long) chunk finishes.
    const chunks: Chunk[] = [];
    for (let c = 0; c < 250; c++) {
      let body = Array.from({ length: 80 }, (_, l) => `line ${c * 80 + l + 1} ${"-".repeat(60)}\n`).join("");
      if (c === 120) body = body.slice(0, -1) + " then a straddl";
      if (c === 121) body = "ing Match\n" + body;
      chunks.push({ stepId: s, stream: "stdout", text: body });
    }
    // A chunk whose last 56 bytes (what a 14-character query looks at across the boundary) begin inside a two-byte letter.
    const rest = `nterbrochen ${"x".repeat(55 - "nterbrochen ".length - "c needl".length)}c needl`;
    chunks.push({ stepId: s, stream: "stdout", text: `ü${rest}` });
    chunks.push({ stepId: s, stream: "stdout", text: `e-straddle ${"y".repeat(60)}\n` });
    chunks.push({ stepId: s, stream: "stdout", text: "the last line: needle-bench\r\n" });
    await write(run.id, chunks);
    const search = async (q: string) => (await get(`/api/runs/${run.id}/log/search?q=${encodeURIComponent(q)}`)).body;
    expect(await search("NEEDLE-bench")).toMatchObject({ total: 1, matches: [20_002], lineCount: 20_002 });
    expect(await search("c needle-strad")).toMatchObject({ total: 1, matches: [20_001] });
    expect(await search("straddling match")).toMatchObject({ total: 1, matches: [121 * 80] });
    expect((await get(`/api/runs/${run.id}/log?from=${121 * 80}&count=2`)).body.lines.map((l: { text: string }) => l.text)).toEqual([
      `line ${121 * 80} ${"-".repeat(60)} then a straddling Match`,
      `line ${121 * 80 + 1} ${"-".repeat(60)}`,
    ]);
  });
});

describe("GET /api/runs/{id}/log/sections", () => {
  test("each step's stretch of lines and the ::group:: / ::endgroup:: marker lines, even split across chunks", async () => {
    const { run, steps } = await newRun();
    const [a, b] = steps.map((s) => s.id);
    await write(run.id, [
      { stream: "system", text: "Run started.\n" },
      { stepId: a, stream: "stdout", text: "::group::Install\r\nstep one\n::gr" },
      { stepId: a, stream: "stdout", text: "oup::Nested part\nin nested\n::endgroup::\n::endgr" },
      { stepId: a, stream: "stdout", text: "oup::\nnot :: a ::group:: marker\n" },
      { stepId: b, stream: "stdout", text: "second step\n" },
      { stream: "system", text: "Run succeeded.\n" },
    ]);
    const res = await get(`/api/runs/${run.id}/log/sections`);
    expect(res.status).toBe(200);
    expect(res.body.segments).toEqual([
      { stepId: null, from: 1, to: 1 },
      { stepId: a, from: 2, to: 8 },
      { stepId: b, from: 9, to: 9 },
      { stepId: null, from: 10, to: 10 },
    ]);
    expect(res.body.markers).toEqual([
      { line: 2, kind: "start", title: "Install" },
      { line: 4, kind: "start", title: "Nested part" },
      { line: 6, kind: "end" },
      { line: 7, kind: "end" },
    ]);
  });
});

describe("GET /api/runs/{id}/log.txt", () => {
  test("streams the raw output as a file, every stream in the order written", async () => {
    const { run, steps } = await newRun();
    const chunks: Chunk[] = Array.from({ length: 1200 }, (_, i) => ({ stepId: steps[i % 2]!.id, stream: i % 3 === 0 ? "stderr" : "stdout", text: `chunk ${i} \u001b[32mok\u001b[0m\r\n` }));
    await write(run.id, chunks);
    const res = await get(`/api/runs/${run.id}/log.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(new RegExp(`^attachment; filename="[\\w.-]+-${run.id}\\.log"$`));
    expect(res.text).toBe(chunks.map((c) => c.text).join(""));
  });
});
