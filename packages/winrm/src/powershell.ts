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
export const COPY_SCRIPT_MARKER = "# opsconductor-copy v2";

/** What the copy script appends to the destination path for the file it writes before moving it into place. */
export const PARTIAL_SUFFIX = ".opsconductor-partial";

const psQuote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * The copy script, run with -EncodedCommand (it must not share stdin with a bootstrap's text
 * reader, which would buffer file bytes ahead). stdin carries raw bytes framed by copyFrames
 * (copy.ts): each frame a 4-byte little-endian length and that many bytes of the file, then a
 * zero length and the client's 32-byte SHA-256. The script streams the frames into a temporary
 * file next to the destination while hashing them, compares its digest with the client's, then
 * moves the file into place and prints `sha256:<hex>`. On any failure, including stdin ending
 * before the end frame (how the client cancels), its finally block removes the temporary file.
 */
export function copyScript(remotePath: string, overwrite: boolean): string {
  const dest = Buffer.from(remotePath, "utf8").toString("base64");
  // Terse on purpose: the script travels UTF-16LE and base64-encoded on a cmd.exe command line of at
  // most 8191 characters, where each of its characters costs as much as three of the path's bytes
  // (a 260-character path of any script must fit). No $ProgressPreference: nothing here reports
  // progress. $d destination, $t partial file, $w overwrite, $x the exists check, $i stdin, $b
  // buffer, $h header and digest, $s SHA-256, $f the file, $l bytes left in the frame, $k done.
  // Function names avoid PowerShell's aliases (r, h, ...), which would win over a function.
  return [
    COPY_SCRIPT_MARKER,
    "$ErrorActionPreference='Stop'",
    `$d=[IO.Path]::GetFullPath([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(${psQuote(dest)})))`,
    `$w=$${overwrite}`,
    `$x={if(Test-Path -LiteralPath $d -PathType Container){throw "'$d' is a folder"};if(!$w -and (Test-Path -LiteralPath $d)){throw "The file '$d' already exists and overwrite was not requested."}}`,
    "&$x",
    "$p=[IO.Path]::GetDirectoryName($d)",
    "if($p -and !(Test-Path -LiteralPath $p)){[void][IO.Directory]::CreateDirectory($p)}",
    `$t=$d+'${PARTIAL_SUFFIX}'`,
    // Raw bytes: [Console]::In would decode them as text in the console's input code page.
    "$i=[Console]::OpenStandardInput()",
    "$b=New-Object byte[] 1MB",
    "$h=New-Object byte[] 32",
    "$e='opsconductor-copy: stdin ended before the end of the file'",
    "function Fill($n){$o=0;while($o -lt $n){$r=$i.Read($h,$o,$n-$o);if($r -le 0){throw $e};$o+=$r}}",
    "function Hex($a){-join($a[0..31]|%{$_.ToString('x2')})}",
    "$s=[Security.Cryptography.SHA256]::Create()",
    "$f=[IO.File]::Open($t,'Create','Write','None')",
    "$k=0",
    "try{",
    "while(1){Fill 4;$l=[BitConverter]::ToInt32($h,0);if(!$l){break}",
    "if($l -lt 0){throw 'opsconductor-copy: malformed stdin'}",
    "while($l -gt 0){$r=$i.Read($b,0,[Math]::Min($l,$b.Length));if($r -le 0){throw $e}",
    "[void]$s.TransformBlock($b,0,$r,$null,0);$f.Write($b,0,$r);$l-=$r}}",
    "Fill 32",
    "[void]$s.TransformFinalBlock($b,0,0)",
    "$m=Hex $s.Hash;$c=Hex $h",
    `if($m -ne $c){throw "opsconductor-copy: SHA-256 mismatch: wrote $m, the client sent $c"}`,
    "$f.Dispose()",
    "&$x",
    // [IO.File] rather than Move-Item: Windows PowerShell 5.1 expands wildcards in -Destination, so a name with [ ] could hit another file.
    "if(Test-Path -LiteralPath $d){[IO.File]::Delete($d)}",
    "[IO.File]::Move($t,$d)",
    "$k=1",
    "}finally{$f.Dispose();if(!$k){Remove-Item -LiteralPath $t -Force -ErrorAction SilentlyContinue}}",
    "'sha256:'+$m",
  ].join("\n");
}
