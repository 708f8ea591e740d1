// copyFile as it was before raw stdin (issue 12, item 3), kept for the bench only so that old and
// new run side by side: the file travels as base64 lines inside the stdin stream, which Send
// base64-encodes again, and the script decodes it line by line. The client side goes through
// runCmd's stdin with the old script; bench/server.ts answers its marker with v1Handler.
import { createHash } from "node:crypto";
import { mkdir, open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { WinRMClient } from "../src/index.ts";
import { PROGRESS_PREAMBLE, powershellCommandLine } from "../src/powershell.ts";
import { windowsPathOnDisk } from "../src/testing/files.ts";
import { normalizeWindowsPath } from "../src/testing/index.ts";
import type { WinRMCommandContext } from "../src/testing/index.ts";

/** The old copy script's first line. */
export const V1_MARKER = "# opsconductor-copy v1";

const psQuote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The old copy script, as the client sent it. */
function copyScriptV1(remotePath: string, overwrite: boolean): string {
  const dest = Buffer.from(remotePath, "utf8").toString("base64");
  return [
    `${V1_MARKER} dest=${dest} overwrite=${overwrite}`,
    "$ErrorActionPreference='Stop'",
    PROGRESS_PREAMBLE,
    `$dest=[IO.Path]::GetFullPath([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(${psQuote(dest)})))`,
    `if(-not $${overwrite} -and (Test-Path -LiteralPath $dest)){throw "The file '$dest' already exists and overwrite was not requested."}`,
    "$dir=[IO.Path]::GetDirectoryName($dest)",
    "if($dir -and -not (Test-Path -LiteralPath $dir)){[void][IO.Directory]::CreateDirectory($dir)}",
    "$tmp=$dest+'.opsconductor-partial'",
    "$sha=[Security.Cryptography.SHA256]::Create()",
    "$out=[IO.File]::Open($tmp,[IO.FileMode]::Create,[IO.FileAccess]::Write,[IO.FileShare]::None)",
    "$ok=$false",
    "try{",
    "$in=[Console]::In",
    "while($null -ne ($line=$in.ReadLine())){",
    "if($line.Length -eq 0){continue}",
    "$bytes=[Convert]::FromBase64String($line)",
    "[void]$sha.TransformBlock($bytes,0,$bytes.Length,$null,0)",
    "$out.Write($bytes,0,$bytes.Length)",
    "}",
    "[void]$sha.TransformFinalBlock((New-Object byte[] 0),0,0)",
    "$ok=$true",
    "}finally{$out.Dispose();if(-not $ok){Remove-Item -LiteralPath $tmp -Force -ErrorAction SilentlyContinue}}",
    "if(Test-Path -LiteralPath $dest){[IO.File]::Delete($dest)}",
    "[IO.File]::Move($tmp,$dest)",
    "'sha256:'+(([BitConverter]::ToString($sha.Hash)) -replace '-','').ToLowerInvariant()",
  ].join("\n");
}

/**
 * Copies `source` the old way and checks the server's digest against the local one. The old
 * client sized each base64 line to fill one Send of `sendChunkBytes` stdin bytes; runCmd's stdin
 * re-chunks the lines to that size, so the number and size of Sends stay the same.
 */
export async function copyFileV1(client: WinRMClient, source: AsyncIterable<Uint8Array>, remotePath: string, sendChunkBytes: number): Promise<{ bytes: number; sha256: string }> {
  const lineBytes = Math.floor((sendChunkBytes - 1) / 4) * 3;
  const hash = createHash("sha256");
  let bytes = 0;
  async function* lines(): AsyncGenerator<Buffer> {
    let pending = Buffer.alloc(0);
    for await (const chunk of source) {
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      while (pending.length >= lineBytes) {
        const block = pending.subarray(0, lineBytes);
        hash.update(block);
        bytes += block.length;
        yield Buffer.from(`${block.toString("base64")}\n`, "latin1");
        pending = pending.subarray(lineBytes);
      }
    }
    if (pending.length > 0) {
      hash.update(pending);
      bytes += pending.length;
      yield Buffer.from(`${pending.toString("base64")}\n`, "latin1");
    }
  }
  const result = await client.runCmd(powershellCommandLine(copyScriptV1(remotePath, true)), [], { stdin: lines() });
  const remote = /sha256:([0-9a-f]{64})/.exec(result.stdout)?.[1];
  const local = hash.digest("hex");
  if (result.exitCode !== 0 || remote !== local) throw new Error(`old copy failed (exit ${result.exitCode}, server ${remote}, local ${local}): ${result.stderr}`);
  return { bytes, sha256: local };
}

/** The old protocol's server side, writing to disk under `fileRoot` like the new one: base64 lines, decoded and hashed. */
export async function v1Handler(ctx: WinRMCommandContext, fileRoot: string): Promise<number> {
  const dest = /\bdest=([A-Za-z0-9+/=]+)/.exec(ctx.script ?? "")?.[1] ?? "";
  const file = windowsPathOnDisk(fileRoot, normalizeWindowsPath(Buffer.from(dest, "base64").toString("utf8")));
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.opsconductor-partial`;
  const out = await open(partial, "w");
  const hash = createHash("sha256");
  let pending = "";
  try {
    for await (const chunk of ctx.stdin) {
      pending += (chunk as Buffer).toString("latin1");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line) continue;
        const bytes = Buffer.from(line, "base64");
        hash.update(bytes);
        await out.write(bytes);
      }
    }
  } finally {
    await out.close();
  }
  await rename(partial, file);
  ctx.stdout.write(`sha256:${hash.digest("hex")}\r\n`);
  return 0;
}
