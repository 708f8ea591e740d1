// Every PowerShell text the client sends lives here: the command line that starts a script and the
// copy script that receives a file through stdin.

/** The line prepended to every script: progress bars would otherwise arrive as CLIXML on stderr. */
export const PROGRESS_PREAMBLE = "$ProgressPreference='SilentlyContinue'";

/** Encodes a script for powershell.exe's -EncodedCommand: base64 of its UTF-16LE bytes. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

/** The command line that runs `script` (as given, nothing prepended) in a fresh powershell.exe. */
export function powershellCommandLine(script: string): string {
  return `powershell -NoProfile -NonInteractive -EncodedCommand ${encodePowerShell(script)}`;
}

/** The first line of the stdin bootstrap; the test server recognises it (handler.ts, STDIN_MARKER). */
export const STDIN_SCRIPT_MARKER = "# opsconductor-stdin v1";

/** The first line of the long-cmd bootstrap; the test server recognises it (handler.ts, CMD_FILE_MARKER). */
export const CMD_FILE_MARKER = "# opsconductor-cmdfile v1";

/**
 * The bootstrap runPowerShell starts: it reads the first stdin line (the script, base64 of its
 * UTF-8 bytes, so the console's input code page cannot garble it) and dot-sources it. `exit N` and
 * terminating errors leave the block as they would leave -EncodedCommand; the appended `$?` check
 * applies -Command's rule (a failed last statement exits 1) inside the block, where `$?` still
 * describes the script's last statement rather than the block's invocation. Whatever follows that
 * line on stdin is the caller's data, left for the script's [Console]::In.
 */
export const STDIN_BOOTSTRAP = [
  STDIN_SCRIPT_MARKER,
  ". ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))+\"`n\"+'if(-not $?){exit 1}'))",
].join("\n");

/**
 * The bootstrap of a cmd script too long for a command line: writes the first stdin line (base64)
 * to a temporary .cmd file, runs it with cmd.exe inheriting stdout/stderr (no PowerShell
 * re-encoding, no NativeCommandError records), removes the file and exits with cmd's exit code.
 */
export const CMD_FILE_BOOTSTRAP = [
  CMD_FILE_MARKER,
  PROGRESS_PREAMBLE,
  "$f=Join-Path ([IO.Path]::GetTempPath()) ('opsconductor-'+[guid]::NewGuid().ToString('N')+'.cmd')",
  "[IO.File]::WriteAllBytes($f,[Convert]::FromBase64String([Console]::In.ReadLine()))",
  "try{$p=Start-Process -FilePath $env:ComSpec -ArgumentList '/d','/c',('\"'+$f+'\"') -NoNewWindow -Wait -PassThru;$c=$p.ExitCode}",
  "finally{Remove-Item -LiteralPath $f -Force -ErrorAction SilentlyContinue}",
  "exit $c",
].join("\n");

/** The first stdin line both bootstraps read: base64 of the UTF-8 text, then LF. */
export function stdinScriptLine(script: string): Buffer {
  return Buffer.from(`${Buffer.from(script, "utf8").toString("base64")}\n`, "latin1");
}

/** The first-line marker of the copy script; the test server's handler recognises it (handler.ts, COPY_MARKER). */
export const COPY_SCRIPT_MARKER = "# opsconductor-copy v1";

const psQuote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * The copy script: reads base64 lines from stdin one at a time, appends the decoded bytes to a
 * temporary file next to the destination while hashing them, then moves it into place and prints
 * `sha256:<hex>`. Memory stays flat on the Windows side too; the command line stays short whatever the
 * file size, because the data never appears on it.
 */
export function copyScript(remotePath: string, overwrite: boolean): string {
  const dest = Buffer.from(remotePath, "utf8").toString("base64");
  return [
    `${COPY_SCRIPT_MARKER} dest=${dest} overwrite=${overwrite}`,
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
    // [IO.File] rather than Move-Item: the destination must not be read as a wildcard pattern.
    "if(Test-Path -LiteralPath $dest){[IO.File]::Delete($dest)}",
    "[IO.File]::Move($tmp,$dest)",
    "'sha256:'+(([BitConverter]::ToString($sha.Hash)) -replace '-','').ToLowerInvariant()",
  ].join("\n");
}
