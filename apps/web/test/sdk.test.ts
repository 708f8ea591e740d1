// @opsconductor/sdk against the running app and a worker with the WinRM test server: an API token
// signs in, creates a target and the sample job, runs it, follows its events (also across a broken
// connection), waits for it and reads its log; lists follow cursors; errors are typed.
import { createClient, OpsConductorError, type OutputChunk, type RunEvent } from "@opsconductor/sdk";
import { createTestRun, uniqueName } from "@opsconductor/testing";
import { PASSWORDS, startApp } from "@opsconductor/testing/web";
import { startAppWorker, windowsLikeHandler } from "@opsconductor/testing/worker";
import { startWinRMTestServer } from "@opsconductor/winrm/testing";
import { afterAll, describe, expect, test } from "vitest";

// The WinRM test server listens on loopback, which connection tests refuse unless allowed.
const app = await startApp({ CONNECTION_TEST_ALLOW: "127.0.0.1" });
const winrm = await startWinRMTestServer({ users: { svc_ops: "Winter2026!secret" }, auth: "ntlm", handler: windowsLikeHandler });
afterAll(() => winrm.close());
await startAppWorker(app);

// An operator signs in with a password once, to mint the API token everything else uses.
const operator = createClient({ baseUrl: app.url, username: "operator", password: PASSWORDS.operator });
const minted = await operator.tokens.create({ name: "sdk test pipeline" });
const client = createClient({ baseUrl: app.url, token: minted.token });
const admin = createClient({ baseUrl: app.url, username: "admin", password: PASSWORDS.admin });
const credential = await admin.credentials.create({ name: "svc-ops", type: "winrm", username: "svc_ops", usagePolicy: ["127.0.0.1"], secret: { password: "Winter2026!secret" } });

const definition: Parameters<typeof client.jobs.create>[0] = {
  name: "Restart spooler",
  parameters: { svc: "Spooler" },
  steps: [{ id: "restart", type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status" }],
};

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("a pipeline with an API token", () => {
  let jobId = "";
  let runId = "";

  test("the token is an oc_ token and the SDK signs in with it", async () => {
    expect(minted.token).toMatch(/^oc_/);
    const me = await client.auth.verify();
    expect(me.user).toMatchObject({ username: "operator" });
  });

  test("creates a target and tests its connection", async () => {
    const target = await client.targets.create({ name: "sample-windows-server", hostname: "127.0.0.1", port: winrm.port, os: "windows", winrm: { transport: "http", auth: "ntlm" }, credentialId: credential.id });
    expect(target).toMatchObject({ name: "sample-windows-server", port: winrm.port, credential: { id: credential.id } });
    expect(await client.targets.get(target.id)).toMatchObject({ id: target.id, hostname: "127.0.0.1" });
    const tested = await client.targets.test(target.id);
    expect(tested).toMatchObject({ ok: true });
  });

  test("creates the sample job and runs it; a repeated idempotency key answers the same run", async () => {
    const job = await client.jobs.create(definition);
    expect(job).toMatchObject({ name: "Restart spooler", version: 1 });
    jobId = job.id;
    const key = uniqueName("deploy");
    const first = await client.jobs.run(jobId, { parameters: { svc: "Spooler" }, idempotencyKey: key });
    expect(first).toMatchObject({ created: true });
    runId = first.runId;
    const again = await client.jobs.run(jobId, { parameters: { svc: "Spooler" }, idempotencyKey: key });
    expect(again).toMatchObject({ runId, created: false });
  });

  test("iterates the run's events to the end, waits for success and reads the same output as its log", async () => {
    const events: RunEvent[] = [];
    for await (const event of client.runs.events(runId)) events.push(event);
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: "end", runId, status: "succeeded" });
    expect(events[0]).toMatchObject({ type: "run", run: { id: runId } });
    expect(events.some((e) => e.type === "step" && e.step.stepKey === "restart")).toBe(true);
    const chunks = events.flatMap((e) => (e.type === "output" ? [e.chunk] : []));
    const sequences = chunks.map((c) => c.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    const output = chunks.map((c) => c.text).join("");
    expect(output).toContain("WARNING: Waiting for service 'Spooler' to stop...");
    expect(output).toContain("Running");

    const run = await client.runs.wait(runId, { timeoutMs: 60_000 });
    expect(run).toMatchObject({ id: runId, status: "succeeded", jobName: "Restart spooler", parameters: { svc: "Spooler" } });

    const log = await text(await client.runs.log(runId));
    expect(log).toContain("WARNING: Waiting for service 'Spooler' to stop...");
    for (const chunk of chunks.filter((c) => c.stream === "stdout")) expect(log).toContain(chunk.text.trimEnd());
  });

  test("runs.events resumes after lastEventId without repeating output", async () => {
    const all: OutputChunk[] = [];
    for await (const e of client.runs.events(runId)) if (e.type === "output") all.push(e.chunk);
    expect(all.length).toBeGreaterThan(1);
    const after = all[0]!.sequence;
    const resumed: OutputChunk[] = [];
    for await (const e of client.runs.events(runId, { lastEventId: after })) if (e.type === "output") resumed.push(e.chunk);
    expect(resumed.map((c) => c.sequence)).toEqual(all.slice(1).map((c) => c.sequence));
  });

  test("a connection that breaks mid-stream reconnects with Last-Event-ID and misses nothing", async () => {
    const job = await client.jobs.create({ name: "Write many lines", steps: [{ id: "lines", type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Write-Lines 20000" }] });
    const { runId: linesRun } = await client.jobs.run(job.id);
    await client.runs.wait(linesRun, { timeoutMs: 60_000 });
    const reference = (await text(await client.runs.log(linesRun))).replace(/\r\n/g, "\n");

    // A fetch that breaks every event stream part-way through a frame once two output events of it
    // have passed, as a dropped connection would, recording the Last-Event-ID each was opened with.
    const resumedFrom: (string | null)[] = [];
    const cutting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes("/events")) return res;
      resumedFrom.push(new Headers(init?.headers).get("last-event-id"));
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      let passed = "";
      const body = res.body!.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            const start = passed.length;
            passed += decoder.decode(chunk, { stream: true });
            const frames = [...passed.matchAll(/event: output\ndata: [^\n]*\n\n/g)];
            if (frames.length < 2) return controller.enqueue(chunk);
            // The frames are ASCII: cut the text a few bytes into whatever follows the second output frame.
            const cut = frames[1]!.index + frames[1]![0].length + 5;
            controller.enqueue(encoder.encode(passed.slice(start, cut)));
            controller.error(new TypeError("terminated: connection reset"));
          },
        }),
      );
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const flaky = createClient({ baseUrl: app.url, token: minted.token, fetch: cutting });
    const chunks: OutputChunk[] = [];
    let end: RunEvent | undefined;
    for await (const event of flaky.runs.events(linesRun, { maxReconnects: 2 })) {
      if (event.type === "output") chunks.push(event.chunk);
      if (event.type === "end") end = event;
    }
    expect(end).toMatchObject({ type: "end", status: "succeeded" });
    expect(resumedFrom.length).toBeGreaterThanOrEqual(2);
    expect(resumedFrom[0]).toBeNull();
    expect(resumedFrom.slice(1).every((id) => id !== null && Number(id) > 0)).toBe(true);
    const sequences = chunks.map((c) => c.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(chunks.map((c) => c.text).join("").replace(/\r\n/g, "\n")).toBe(reference);
    expect(reference).toContain("line 020000");
  });

  test("reruns a run, and cancels a running one", async () => {
    const again = await client.runs.rerun(runId);
    expect(again.runId).not.toBe(runId);
    expect(await client.runs.wait(again.runId, { timeoutMs: 60_000 })).toMatchObject({ status: "succeeded", parameters: { svc: "Spooler" } });

    const slow = await client.jobs.create({ name: "Sleep a while", steps: [{ id: "sleep", type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Start-Sleep -Seconds 120" }] });
    const { runId: sleeping } = await client.jobs.run(slow.id);
    for await (const event of client.runs.events(sleeping)) if (event.type === "step" && event.step.status === "running") break;
    const canceled = await client.runs.cancel(sleeping);
    expect(canceled.run.id).toBe(sleeping);
    expect(await client.runs.wait(sleeping, { timeoutMs: 90_000 })).toMatchObject({ status: "canceled" });
  });

  test("runs.wait gives up at its timeout with a typed error, and stops at an aborted signal", async () => {
    const slow = await client.jobs.create({ name: "Sleep longer", steps: [{ id: "sleep", type: "winrm.exec", shell: "powershell", target: "sample-windows-server", command: "Start-Sleep -Seconds 120" }] });
    const { runId: sleeping } = await client.jobs.run(slow.id);
    await expect(client.runs.wait(sleeping, { timeoutMs: 300 })).rejects.toMatchObject({ name: "OpsConductorError", code: "timeout" });
    const controller = new AbortController();
    const waiting = client.runs.wait(sleeping, { signal: controller.signal });
    controller.abort(new Error("pipeline canceled"));
    await expect(waiting).rejects.toThrow("pipeline canceled");
    await client.runs.cancel(sleeping);
  });

  test("uploads a file from a stream", async () => {
    const parts = ["Set-Service Spooler ", "-StartupType Automatic\r\n"];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const file = await client.files.upload("spooler setup.ps1", stream);
    expect(file).toMatchObject({ name: "spooler setup.ps1", size: "Set-Service Spooler -StartupType Automatic\r\n".length });
    const page = await client.files.list();
    expect(page.items.map((f) => f.name)).toContain("spooler setup.ps1");
  });

  test("exports the configuration and a dry run of applying it changes nothing", async () => {
    const document = (await client.config.export()) as { targets: { name: string }[]; jobs: { definition: { name: string } }[] };
    expect(document.targets.map((t) => t.name)).toContain("sample-windows-server");
    expect(document.jobs.map((j) => j.definition.name)).toContain("Restart spooler");
    const yaml = await client.config.export({ format: "yaml" });
    expect(yaml).toMatch(/^apiVersion: /m);
    const diff = await admin.config.apply(document as never, { dryRun: "true" });
    expect(diff).toMatchObject({ dryRun: true, summary: { create: 0, change: 0, delete: 0 } });
  });

  test("iterates 250 runs across pages", async () => {
    const job = await app.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    const before = await app.prisma.jobRun.count({ where: { jobId } });
    for (let i = 0; i < 250; i++) await createTestRun(app.prisma, job, { status: "succeeded", requestedById: app.users.operator.id });
    const first = await client.runs.list({ job: jobId, limit: 100 });
    expect(first.items).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const ids: string[] = [];
    for await (const run of client.runs.list({ job: jobId, limit: 100 })) ids.push(run.id);
    // 250 planted runs plus those the earlier tests ran.
    expect(ids).toHaveLength(before + 250);
    expect(new Set(ids).size).toBe(before + 250);
    const pages = [];
    for await (const page of client.runs.list({ job: jobId, limit: 100 }).pages()) pages.push(page.items.length);
    expect(pages).toEqual([100, 100, before + 50]);
  });
});

describe("errors", () => {
  test("a wrong token is a typed 401", async () => {
    const wrong = createClient({ baseUrl: app.url, token: "oc_not-a-real-token-000000000000000000000000" });
    const error = await wrong.jobs.list().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpsConductorError);
    expect(error).toMatchObject({ status: 401, code: expect.any(String), message: expect.any(String) });
  });

  test("a bad body is a typed 400 naming the field", async () => {
    const error = await client.jobs.create({ name: "", steps: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsConductorError);
    expect(error).toMatchObject({ status: 400, code: "validation_failed" });
    expect((error as OpsConductorError).details.map((d) => d.path)).toContain("body.name");
  });

  test("an unknown run is a typed 404", async () => {
    await expect(client.runs.get("00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({ name: "OpsConductorError", status: 404 });
  });

  test("a viewer cannot run a job (403)", async () => {
    const viewer = createClient({ baseUrl: app.url, username: "viewer", password: PASSWORDS.viewer });
    const jobs = await viewer.jobs.list();
    const error = await viewer.jobs.run(jobs.items[0]!.id).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403 });
  });
});
