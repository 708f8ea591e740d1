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
