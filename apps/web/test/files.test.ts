// The file library over the real server: streamed uploads into PostgreSQL chunk rows, the size limit
// (413, nothing stored), aborted uploads (nothing stored), listing, permissions, audit, deletion
// refused while a job version copies the file, and steps pinned to one stored file.
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { startApp } from "@opsconductor/testing/web";
import { describe, expect, test } from "vitest";

const LIMIT = 3 * 1024 * 1024;
const app = await startApp({ FILE_UPLOAD_MAX_BYTES: String(LIMIT) });
const { admin, operator, viewer } = await app.signInAll();

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function upload(token: string, name: string | null, body: BodyInit, headers: Record<string, string> = {}) {
  const query = name === null ? "" : `?name=${encodeURIComponent(name)}`;
  const res = await fetch(`${app.url}/api/files${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", ...headers },
    body,
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function streamOf(total: number, piece = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(piece, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x41));
    },
  });
}

async function storedRows() {
  const [row] = await app.prisma.$queryRaw<{ files: bigint; chunks: bigint }[]>`SELECT (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM file_chunks) AS chunks`;
  return { files: Number(row!.files), chunks: Number(row!.chunks) };
}

const copyJob = (name: string, step: Record<string, unknown>) => ({ name, steps: [{ type: "winrm.copy", target: "web-01", destination: "C:\\Temp\\payload.bin", ...step }] });

describe("uploads", () => {
  test("an upload is stored as 1 MiB chunk rows with its SHA-256, listed and described, and audited", async () => {
    const data = randomBytes(2.5 * 1024 * 1024);
    const res = await upload(operator, "payload.bin", new Blob([data]));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: "payload.bin", size: data.length, sha256: sha256(data), uploadedBy: { id: app.users.operator.id, username: "operator" } });

    const chunks = await app.prisma.fileChunk.findMany({ where: { fileId: res.body.id }, orderBy: { index: "asc" } });
    expect(chunks.map((c) => c.data.byteLength)).toEqual([1024 * 1024, 1024 * 1024, 512 * 1024]);
    expect(Buffer.concat(chunks.map((c) => Buffer.from(c.data))).equals(data)).toBe(true);

    const list = await app.request("GET", "/api/files?limit=10", { token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual({ id: res.body.id, name: "payload.bin", size: data.length, sha256: sha256(data), uploadedBy: { id: app.users.operator.id, username: "operator" }, createdAt: expect.any(String) });
    const one = await app.request("GET", `/api/files/${res.body.id}`, { token: viewer });
    expect(one.body).toMatchObject({ id: res.body.id, sha256: sha256(data) });

    const audit = await app.prisma.auditLog.findFirst({ where: { action: "file.upload", entityId: res.body.id } });
    expect(audit).toMatchObject({ actorName: "operator", details: { name: "payload.bin", size: data.length, sha256: sha256(data) } });
  });

  test("a streamed (chunked) body of unknown length works, and the name may come in the X-File-Name header", async () => {
    const res = await upload(admin, null, streamOf(1024 * 1024 + 7), { "x-file-name": encodeURIComponent("tools/setup – v2.exe") });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: "tools/setup – v2.exe", size: 1024 * 1024 + 7, sha256: sha256(Buffer.alloc(1024 * 1024 + 7, 0x41)) });
  });

  test("an empty file is a file", async () => {
    const res = await upload(admin, "empty.txt", new Blob([]));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ size: 0, sha256: sha256(Buffer.alloc(0)) });
  });

  test("a missing or bad name is a 400 naming it, and nothing is stored", async () => {
    const before = await storedRows();
    const missing = await upload(admin, null, new Blob(["x"]));
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ path: "query.name", message: expect.stringContaining("query.name is required") }]);
    const control = await upload(admin, "a\u0007b", new Blob(["x"]));
    expect(control.body.error.details[0]).toMatchObject({ path: "query.name", message: "query.name must not contain control characters" });
    const uuid = await upload(admin, "00000000-0000-4000-8000-000000000000", new Blob(["x"]));
    expect(uuid.body.error.details[0].path).toBe("query.name");
    const header = await upload(admin, null, new Blob(["x"]), { "x-file-name": "%E0%A4%A" });
    expect(header.body.error.details[0]).toMatchObject({ path: "headers.x-file-name" });
    expect(await storedRows()).toEqual(before);
  });

  test("past FILE_UPLOAD_MAX_BYTES: 413 and no rows, whether Content-Length announces it or a chunked body runs over", async () => {
    const before = await storedRows();
    const declared = await upload(admin, "big.bin", new Blob([Buffer.alloc(LIMIT + 1)]));
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: "payload_too_large", message: `the request body may be at most ${LIMIT} bytes` });
    const chunked = await upload(admin, "big.bin", streamOf(LIMIT + 64 * 1024)).catch((error: Error) => ({ status: 0, body: String(error) }));
    expect(chunked.status).toBe(413);
    const exact = await upload(admin, "exact.bin", new Blob([Buffer.alloc(LIMIT)]));
    expect(exact.status).toBe(201);
    const after = await storedRows();
    expect(after).toEqual({ files: before.files + 1, chunks: before.chunks + 3 });
    expect(await app.prisma.libraryFile.count({ where: { name: "big.bin" } })).toBe(0);
  });

  test("an upload the client aborts half way leaves no rows", async () => {
    const before = await storedRows();
    // Sessions of the server's pool that are inside a transaction (the upload's holds one).
    const openTransactions = async () =>
      Number((await app.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`)[0]!.n);
    const waitFor = async (predicate: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 10_000;
      while (!(await predicate())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const url = new URL(`${app.url}/api/files?name=aborted.bin`);
    const req = httpRequest(url, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/octet-stream", "content-length": String(LIMIT) } });
    const ended = new Promise<void>((resolve) => {
      req.on("error", () => resolve());
      req.on("response", () => resolve());
    });
    req.write(Buffer.alloc(1024 * 1024 + 5));
    req.write(Buffer.alloc(512 * 1024));
    // The first chunk row is written inside the upload's transaction; then the client goes away.
    await waitFor(async () => (await openTransactions()) > 0, "the upload's transaction");
    req.destroy();
    await ended;
    await waitFor(async () => (await openTransactions()) === 0, "the transaction to end");
    expect(await storedRows()).toEqual(before);
    expect(await app.prisma.auditLog.count({ where: { action: "file.upload", details: { path: ["name"], equals: "aborted.bin" } } })).toBe(0);
    // The server still serves uploads afterwards.
    expect((await upload(admin, "after-abort.txt", new Blob(["ok"]))).status).toBe(201);
  });

  test("a viewer may list and read but not upload or delete", async () => {
    const file = await upload(operator, "viewer-test.txt", new Blob(["v"]));
    const before = await storedRows();
    const up = await upload(viewer, "nope.txt", new Blob(["x"]));
    expect(up.status).toBe(403);
    expect(up.body.error.code).toBe("forbidden");
    expect((await app.request("DELETE", `/api/files/${file.body.id}`, { token: viewer })).status).toBe(403);
    expect(await storedRows()).toEqual(before);
    expect((await app.request("GET", "/api/files", { token: viewer })).status).toBe(200);
    expect((await fetch(`${app.url}/api/files?name=anon.txt`, { method: "POST", body: "x" })).status).toBe(401);
  });
});

describe("listing", () => {
  test("cursor pagination walks every file once, newest first, and q filters by name", async () => {
    for (const n of [1, 2, 3]) expect((await upload(admin, `page-${n}.txt`, new Blob([`p${n}`]))).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string; name: string }[]; nextCursor: string | null } } = await app.request("GET", `/api/files?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: viewer });
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(await app.prisma.libraryFile.count());
    const filtered = await app.request("GET", "/api/files?q=PAGE-", { token: viewer });
    expect(filtered.body.items.map((i: { name: string }) => i.name)).toEqual(["page-3.txt", "page-2.txt", "page-1.txt"]);
    expect((await app.request("GET", "/api/files?cursor=garbage", { token: viewer })).status).toBe(400);
    expect((await app.request("GET", "/api/files/00000000-0000-4000-8000-000000000000", { token: viewer })).status).toBe(404);
  });

  test("?sort=name and ?sort=-name walk the names in order across pages, duplicates of a name included; a bad order or another order's cursor is a 400", async () => {
    for (const name of ["sort-b.txt", "SORT-a.txt", "sort-c.txt", "sort-b.txt"]) expect((await upload(admin, name, new Blob([name]))).status).toBe(201);
    const walk = async (sort: string) => {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { name: string }[]; nextCursor: string | null } } = await app.request("GET", `/api/files?q=sort-&limit=1&sort=${sort}${cursor ? `&cursor=${cursor}` : ""}`, { token: viewer });
        expect(page.status).toBe(200);
        names.push(...page.body.items.map((i) => i.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      return names;
    };
    // Names compare without regard to case (they are citext), as the list's filter does.
    expect(await walk("name")).toEqual(["SORT-a.txt", "sort-b.txt", "sort-b.txt", "sort-c.txt"]);
    expect(await walk("-name")).toEqual(["sort-c.txt", "sort-b.txt", "sort-b.txt", "SORT-a.txt"]);
    const bad = await app.request("GET", "/api/files?sort=size", { token: viewer });
    expect([bad.status, bad.body.error.details[0].path]).toEqual([400, "query.sort"]);
    const byName = await app.request("GET", "/api/files?q=sort-&limit=1&sort=name", { token: viewer });
    expect((await app.request("GET", `/api/files?q=sort-&limit=1&cursor=${byName.body.nextCursor}`, { token: viewer })).status).toBe(400);
  });
});

describe("job steps and the library", () => {
  test("a winrm.copy step with a local source path is a 400 naming the field", async () => {
    for (const source of ["/proc/self/environ", "C:\\secrets.txt"]) {
      const res = await app.request("POST", "/api/jobs", { token: operator, body: copyJob(`local ${source}`, { source }) });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: "body.steps[0].source", message: 'body.steps[0].source is a local path, which is not accepted: name an uploaded file in "file", or give inline "content"' }]);
    }
    const withContent = await app.request("POST", "/api/jobs", { token: operator, body: copyJob("local and content", { source: "/etc/passwd", content: "x" }) });
    expect(withContent.status).toBe(400);
    expect(withContent.body.error.details.map((d: { path: string }) => d.path)).toEqual(["body.steps[0].source"]);
    expect(await app.prisma.job.count({ where: { name: { startsWith: "local" } } })).toBe(0);
  });

  test("a step naming a file is pinned to that file's id and SHA-256 when saved; a later upload under the same name changes only later versions", async () => {
    const v1 = await upload(operator, "agent.msi", new Blob(["agent v1"]));
    const job = await app.request("POST", "/api/jobs", { token: operator, body: copyJob("Install agent", { file: "agent.msi" }) });
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    expect(job.body.definition.steps[0]).toMatchObject({ file: v1.body.id, sha256: v1.body.sha256 });

    const v2 = await upload(operator, "agent.msi", new Blob(["agent v2"]));
    expect((await app.request("GET", `/api/jobs/${job.body.id}/versions/1`, { token: viewer })).body.definition.steps[0]).toMatchObject({ file: v1.body.id, sha256: v1.body.sha256 });
    const second = await app.request("PUT", `/api/jobs/${job.body.id}`, { token: operator, body: copyJob("Install agent", { file: "agent.msi" }) });
    expect(second.body.definition.steps[0]).toMatchObject({ file: v2.body.id, sha256: v2.body.sha256 });

    // By id, or by name and digest, picks exactly that upload.
    const byId = await app.request("PUT", `/api/jobs/${job.body.id}`, { token: operator, body: copyJob("Install agent", { file: v1.body.id }) });
    expect(byId.body.definition.steps[0]).toMatchObject({ file: v1.body.id });
    const byDigest = await app.request("PUT", `/api/jobs/${job.body.id}`, { token: operator, body: copyJob("Install agent", { file: "agent.msi", sha256: v1.body.sha256 }) });
    expect(byDigest.body.definition.steps[0]).toMatchObject({ file: v1.body.id });
    expect(await app.prisma.jobVersionFile.count({ where: { jobVersion: { jobId: job.body.id } } })).toBe(4);
  });

  test("a step naming no stored file is a 400 naming body.steps[i].file", async () => {
    const res = await app.request("POST", "/api/jobs", { token: operator, body: { name: "missing file", steps: [{ type: "winrm.exec", target: "t", command: "hostname" }, { type: "winrm.copy", target: "t", file: "/proc/self/environ", destination: "C:\\x" }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: "body.steps[1].file", message: 'body.steps[1].file names no file in the library: "/proc/self/environ" (upload it with POST /api/files first)' }]);
    const digest = await app.request("POST", "/api/jobs", { token: operator, body: copyJob("wrong digest", { file: "agent.msi", sha256: "0".repeat(64) }) });
    expect(digest.body.error.details[0]).toMatchObject({ path: "body.steps[0].file", message: expect.stringContaining(`with SHA-256 ${"0".repeat(64)}`) });
  });

  test("deleting a file a job version copies is a 409; once the job is gone it deletes, bytes and all, and is audited", async () => {
    const file = await upload(operator, "referenced.bin", new Blob([randomBytes(1024 * 1024 + 1)]));
    const job = await app.request("POST", "/api/jobs", { token: operator, body: copyJob("Uses referenced", { file: "referenced.bin" }) });
    expect(job.status).toBe(201);
    const refused = await app.request("DELETE", `/api/files/${file.body.id}`, { token: operator });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "file_in_use", message: expect.stringContaining("version 1 of job Uses referenced") });
    expect(await app.prisma.fileChunk.count({ where: { fileId: file.body.id } })).toBe(2);

    expect((await app.request("DELETE", `/api/jobs/${job.body.id}`, { token: operator })).status).toBe(204);
    expect((await app.request("DELETE", `/api/files/${file.body.id}`, { token: operator })).status).toBe(204);
    expect(await app.prisma.fileChunk.count({ where: { fileId: file.body.id } })).toBe(0);
    expect((await app.request("GET", `/api/files/${file.body.id}`, { token: viewer })).status).toBe(404);
    expect(await app.prisma.auditLog.findFirst({ where: { action: "file.delete", entityId: file.body.id } })).toMatchObject({ actorName: "operator", details: { name: "referenced.bin", sha256: file.body.sha256 } });
    expect((await app.request("DELETE", `/api/files/${file.body.id}`, { token: operator })).status).toBe(404);
  });
});

test("the OpenAPI document describes the upload as a raw body with its limits", async () => {
  const doc = (await app.request("GET", "/api/openapi.json")).body;
  const post = doc.paths["/api/files"].post;
  expect(post["x-permission"]).toBe("files:write");
  expect(Object.keys(post.requestBody.content)).toEqual(["application/octet-stream"]);
  expect(post.responses["413"]).toBeDefined();
  expect(post.parameters.map((p: { name: string }) => p.name)).toEqual(["name"]);
  expect(doc.paths["/api/files/{id}"].delete["x-permission"]).toBe("files:write");
  expect(doc.paths["/api/files"].get["x-permission"]).toBe("files:read");
});

test("the server logged no unexpected error", () => {
  expect(app.output()).not.toMatch(/unexpected error/);
});
