import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { interpolate, InterpolationError, listPlaceholders, quoteCmd, quotePowerShell } from "./interpolate.ts";

const ps = { shell: "powershell" } as const;
const cmd = { shell: "cmd" } as const;

function interpolationError(run: () => unknown): InterpolationError {
  try {
    run();
  } catch (error) {
    if (error instanceof InterpolationError) return error;
    throw error;
  }
  throw new Error("expected an InterpolationError");
}

describe("placeholders", () => {
  test("the issue's example becomes quoted PowerShell literals", () => {
    const template = "Restart-Service {{ svc }}; (Get-Service {{ svc }}).Status";
    expect(interpolate(template, { svc: "Spooler" }, ps)).toBe("Restart-Service 'Spooler'; (Get-Service 'Spooler').Status");
  });

  test("spaces inside the braces are optional", () => {
    expect(interpolate("echo {{svc}} {{ svc}} {{svc }}", { svc: "a" }, ps)).toBe("echo 'a' 'a' 'a'");
  });

  test("an unknown name is an error naming it, and nothing is substituted", () => {
    const error = interpolationError(() => interpolate("Stop-Service {{ svc }}; {{ other }}", { svc: "x" }, ps));
    expect(error.parameter).toBe("other");
    expect(error.message).toBe('{{ other }} has no value: "other" was not supplied and has no default.');
  });

  test("an unknown filter is an error", () => {
    expect(() => listPlaceholders("{{ a | upper }}")).toThrow('unknown filter "upper"');
  });

  test("text that is not a placeholder stays as it is", () => {
    const template = "'{0}{1}' -f 'a','b'; '{{0}}'";
    expect(interpolate(template, {}, ps)).toBe(template);
  });

  test("{{ name | raw }} inserts the value unquoted", () => {
    expect(interpolate("Get-Service {{ filter | raw }}", { filter: "Spool*" }, ps)).toBe("Get-Service Spool*");
    expect(interpolate('echo "{{ a | raw }}"', { a: "x" }, cmd)).toBe('echo "x"');
  });

  test("numbers and booleans are written as PowerShell and cmd literals", () => {
    expect(interpolate("Start-Sleep {{ n }}; $f = {{ b }}", { n: 2.5, b: true }, ps)).toBe("Start-Sleep 2.5; $f = $true");
    expect(interpolate("timeout {{ n }} {{ b }}", { n: 3, b: false }, cmd)).toBe("timeout 3 false");
  });

  test("the text shell inserts values as they are", () => {
    expect(interpolate("C:\\logs\\{{ name }}.txt", { name: "a'b" }, { shell: "text" })).toBe("C:\\logs\\a'b.txt");
  });

  test("an unknown shell is a TypeError", () => {
    expect(() => interpolate("x", {}, { shell: "bash" as never })).toThrow(/shell must be/);
  });
});

describe("PowerShell quoting", () => {
  test.each([
    ["it's", "'it''s'"],
    ["\u2018a\u2019", "'\u2018\u2018a\u2019\u2019'"],
    ["\u201Aa\u201B", "'\u201A\u201Aa\u201B\u201B'"],
    ['say "hi" \u201Cthere\u201D', "'say \"hi\" \u201Cthere\u201D'"],
    ["$(Remove-Item C:\\ -Recurse)", "'$(Remove-Item C:\\ -Recurse)'"],
    ["a`nb; c | d & e", "'a`nb; c | d & e'"],
  ])("%j becomes %j", (value, quoted) => {
    expect(quotePowerShell(value)).toBe(quoted);
  });

  test("NUL and unpaired surrogates are rejected", () => {
    expect(() => quotePowerShell("a\0b", "p")).toThrow(/"p" contains a NUL/);
    expect(() => quotePowerShell("a\uD800b", "p")).toThrow(/unpaired UTF-16 surrogate/);
  });

  test.each([
    ['Write-Host "Service {{ v }}"', "inside a quoted string"],
    ["Write-Host 'Service {{ v }}'", "inside a quoted string"],
    ["Write-Host @'\n{{ v }}\n'@", "inside a quoted string"],
    ['Write-Host @"\n$( {{ v }} )\n"@', "inside a quoted string"],
    ['Write-Host "$( Get-Item {{ v }} )"', "inside a quoted string"],
    ['Write-Host "${a"b} {{ v }}"', "inside a quoted string"],
    ["Get-Item x # {{ v }}", "inside a comment"],
    ["<# {{ v }} #> Get-Item x", "inside a comment"],
    ["Write-Host `{{ v }}", "escape character"],
    ["${{{ v }}}", "inside a ${...} variable name"],
    ["Write-Host ${{ v }}", "'$' or '@'"],
    ["@{{ v }}", "'$' or '@'"],
    ["icacls.exe --% {{ v }}", "stop-parsing"],
    ["Write-Host 'a'{{ v }}", "follows a single quote"],
    ["Write-Host {{ v }}'a'", "followed by a single quote"],
    ["Write-Host {{ v }}{{ v }}", "directly follows {{ v }}"],
    ["echo a#b '\n{{ v }}\n'", "'#' in the middle of a word"],
    ["echo a<#b '\n{{ v }}\n'", "'<#' in the middle of a word"],
    ["echo a@'\nfoo ' bar\n'@ {{ v }}", "'@' before a quote that does not start a here-string"],
    ["# note\u2028'\n{{ v }}", "U+2028"],
    ["echo a\u00A0#b '\n{{ v }}\n'", "'#' in the middle of a word"],
  ])("a placeholder is refused where quoting cannot protect it: %j", (template, reason) => {
    const error = interpolationError(() => interpolate(template, { v: "x" }, ps));
    expect(error.parameter).toBe("v");
    expect(error.message).toContain(reason);
  });

  test("placeholders before an ambiguous '#' and after a harmless one are fine", () => {
    expect(interpolate("Get-Item {{ v }}; echo a#b 'x'", { v: "y" }, ps)).toBe("Get-Item 'y'; echo a#b 'x'");
    expect(interpolate("Get-Item C:\\a#b\nGet-Item {{ v }}", { v: "y" }, ps)).toBe("Get-Item C:\\a#b\nGet-Item 'y'");
    expect(interpolate("# comment 'x\nGet-Item {{ v }} # done", { v: "y" }, ps)).toBe("# comment 'x\nGet-Item 'y' # done");
  });

  test("here-strings and comments at the start of a token are followed exactly", () => {
    expect(interpolate("$t = @'\nit's $x\n'@\nWrite-Host {{ v }}", { v: "y" }, ps)).toBe("$t = @'\nit's $x\n'@\nWrite-Host 'y'");
    expect(interpolate('Write-Host "a `" $(")") b" {{ v }}', { v: "y" }, ps)).toBe(`Write-Host "a \`" $(")") b" 'y'`);
    expect(interpolate("<# it's #> Write-Host {{ v }}", { v: "y" }, ps)).toBe("<# it's #> Write-Host 'y'");
  });

  test("a raw placeholder is allowed anywhere", () => {
    expect(interpolate('Write-Host "Hello {{ v | raw }}"', { v: "you" }, ps)).toBe('Write-Host "Hello you"');
  });
});

describe("cmd quoting", () => {
  test.each([
    ["Print Spooler", '"Print Spooler"'],
    ["a & b | c < d > e ( f ) ^ g", '"a & b | c < d > e ( f ) ^ g"'],
    ["C:\\dir\\", '"C:\\dir\\\\"'],
    ["tab\there", '"tab\there"'],
  ])("%j becomes %j", (value, quoted) => {
    expect(quoteCmd(value)).toBe(quoted);
  });

  test.each([
    ["a\nb", "line feed (U+000A)"],
    ["a\r\nb", "carriage return (U+000D)"],
    ["a\0b", "NUL"],
    ['a"b', "double quote (U+0022)"],
    ["%PATH%", "percent sign (U+0025)"],
    ["!x!", "exclamation mark (U+0021)"],
    ["bell\u0007", "U+0007"],
  ])("%j is rejected with a clear reason", (value, reason) => {
    const error = interpolationError(() => interpolate("echo {{ v }}", { v: value }, cmd));
    expect(error.parameter).toBe("v");
    expect(error.message).toContain('"v"');
    expect(error.message).toContain(reason);
    expect(error.message).toContain("which cmd.exe cannot");
  });

  test.each([
    ['echo "{{ v }}"', "inside a quoted string"],
    ["echo ^{{ v }}", "escape character ^"],
    ["echo %{{ v }}%", "between % signs"],
    ["{{ v }} /?", "starts with a quote"],
    ['"C:\\Program Files\\app.exe" {{ v }}', "starts with a quote"],
  ])("a placeholder is refused where quoting cannot protect it: %j", (template, reason) => {
    const error = interpolationError(() => interpolate(template, { v: "x" }, cmd));
    expect(error.message).toContain(reason);
  });

  test("an escaped caret or percent sign is followed correctly", () => {
    expect(interpolate("echo ^^{{ v }}", { v: "x" }, cmd)).toBe('echo ^^"x"');
    expect(interpolate("echo 100%% {{ v }}", { v: "x" }, cmd)).toBe('echo 100%% "x"');
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests: a small, independent reader for each shell checks that an interpolated value
// always comes back as exactly one literal token equal to the value, with everything around it
// unchanged. A value either passes that check or is refused with an InterpolationError.

const SINGLE = new Set(["'", "\u2018", "\u2019", "\u201A", "\u201B"]);
const DOUBLE = new Set(['"', "\u201C", "\u201D", "\u201E"]);

type Token = { k: string; v: string };

// Reads the subset of PowerShell the test templates use: words, variables, punctuation, comments,
// single-quoted strings (any two single quotes in a row are one literal quote) and double-quoted
// strings (with backtick escapes).
function tokenizePowerShell(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const isSpace = (ch: string) => ch === " " || ch === "\t";
  const punctuation = ";(){}|=.,";
  while (i < source.length) {
    const ch = source[i]!;
    if (isSpace(ch)) {
      i++;
    } else if (ch === "\n" || ch === "\r") {
      tokens.push({ k: "newline", v: "" });
      i++;
    } else if (SINGLE.has(ch) || DOUBLE.has(ch)) {
      const quotes = SINGLE.has(ch) ? SINGLE : DOUBLE;
      let value = "";
      i++;
      for (;;) {
        if (i >= source.length) throw new Error("unterminated string");
        const c = source[i]!;
        if (quotes === DOUBLE && c === "`") {
          value += source[i + 1] ?? "";
          i += 2;
        } else if (quotes.has(c)) {
          if (quotes.has(source[i + 1] ?? "")) {
            value += source[i + 1];
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          value += c;
          i++;
        }
      }
      tokens.push({ k: quotes === SINGLE ? "string" : "expandable", v: value });
    } else if (ch === "#") {
      let value = "";
      while (i < source.length && source[i] !== "\n" && source[i] !== "\r") value += source[i++];
      tokens.push({ k: "comment", v: value });
    } else if (punctuation.includes(ch)) {
      tokens.push({ k: "punct", v: ch });
      i++;
    } else {
      let value = "";
      while (i < source.length && !isSpace(source[i]!) && !"\r\n#".includes(source[i]!) && !punctuation.includes(source[i]!) && !SINGLE.has(source[i]!) && !DOUBLE.has(source[i]!)) {
        value += source[i++];
      }
      tokens.push({ k: value.startsWith("$") ? "variable" : "word", v: value });
    }
  }
  return tokens;
}

// cmd.exe as `cmd /c <line>` runs it: quote stripping of a line that starts with a quote,
// %VAR% and !VAR! expansion (delayed expansion assumed on), then operators and ^ outside quotes;
// each command's text is finally split into arguments by the Microsoft C runtime rules.
function tokenizeCmd(line: string): Token[] {
  let text = line;
  if (text.trimStart().startsWith('"')) {
    const first = text.indexOf('"');
    const last = text.lastIndexOf('"');
    text = text.slice(0, first) + text.slice(first + 1, last) + text.slice(last + 1);
  }
  if (["\r", "\n", "\0"].some((ch) => text.includes(ch))) return [{ k: "broken", v: "line break or NUL" }];
  const tokens: Token[] = [];
  // Phase 1: expansions, found before quotes mean anything.
  let expanded = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "%" || ch === "!") {
      const end = text.indexOf(ch, i + 1);
      if (end > i + 1) {
        expanded += `\u0001${ch}${text.slice(i + 1, end)}\u0001`;
        i = end;
        continue;
      }
    }
    expanded += ch;
  }
  // Phase 2: operators split commands; quotes and carets decide what is an operator.
  let quoted = false;
  let current = "";
  const flush = () => {
    for (const arg of splitArguments(current)) tokens.push({ k: "arg", v: arg });
    current = "";
  };
  for (let i = 0; i < expanded.length; i++) {
    const ch = expanded[i]!;
    if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (!quoted && ch === "^") {
      current += expanded[i + 1] ?? "";
      i++;
    } else if (!quoted && "&|<>()".includes(ch)) {
      flush();
      tokens.push({ k: "op", v: ch });
    } else {
      current += ch;
    }
  }
  flush();
  return tokens;
}

function splitArguments(commandLine: string): string[] {
  const args: string[] = [];
  let arg: string | undefined;
  let quoted = false;
  for (let i = 0; i < commandLine.length; i++) {
    const ch = commandLine[i]!;
    if (ch === "\\") {
      let count = 0;
      while (commandLine[i] === "\\") {
        count++;
        i++;
      }
      if (commandLine[i] === '"') {
        arg = (arg ?? "") + "\\".repeat(Math.floor(count / 2));
        if (count % 2 === 1) arg += '"';
        else {
          quoted = !quoted;
          arg = arg ?? "";
        }
      } else {
        arg = (arg ?? "") + "\\".repeat(count);
        i--;
      }
    } else if (ch === '"') {
      arg = arg ?? "";
      if (quoted && commandLine[i + 1] === '"') {
        arg += '"';
        i++;
      } else quoted = !quoted;
    } else if (!quoted && (ch === " " || ch === "\t")) {
      if (arg !== undefined) args.push(arg);
      arg = undefined;
    } else {
      arg = (arg ?? "") + ch;
    }
  }
  if (arg !== undefined) args.push(arg);
  return args;
}

const SENTINEL = "SENTINELVALUE";

const hostileFragment = fc.constantFrom(
  "'", "\u2018", "\u2019", "\u201A", "\u201B", '"', "\u201C", "\u201D", "\u201E", "''", "$(", ")", "$(Remove-Item C:\\)", "${env:PATH}",
  "`", "`n", ";", "&", "&&", "|", "||", "%PATH%", "%", "!x!", "^", "^^", "\n", "\r\n", "\r", "\0", "#", "<#", "#>", "@'", "'@", "@\"",
  "--%", "{", "}", "{{ v }}", " ", "\t", "\\", "\\\\", "a", "Z", "9", "é", "\u00A0", "\u2028", "\u0085", "\uFF02", "😀", "\uD800", "\uDC00",
);
const hostileValue = fc.oneof(
  fc.array(hostileFragment, { maxLength: 12 }).map((parts) => parts.join("")),
  fc.string({ unit: "binary", maxLength: 24 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 12 }),
  fc.tuple(fc.string({ maxLength: 6 }), hostileFragment, fc.string({ unit: "grapheme", maxLength: 6 })).map((parts) => parts.join("")),
);

const hasLoneSurrogate = (value: string) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);

// The README's list: double quote, %, !, and control characters other than tab.
function cmdCannotCarry(value: string): boolean {
  return [...value].some((ch) => '"%!'.includes(ch) || (ch.charCodeAt(0) < 0x20 && ch !== "\t") || ch === "\u007F");
}

function expectedTokens(tokens: Token[], sentinelToken: (t: Token) => boolean, value: string): Token[] {
  return tokens.map((token) => (sentinelToken(token) ? { ...token, v: value } : token));
}

describe("property: values never change the command's structure", () => {
  const powershellTemplates = [
    "Restart-Service {{ v }}; (Get-Service {{ v }}).Status",
    "Write-Output {{ v }}",
    "$x = {{ v }}; if ($x -eq {{ v }}) { \"same\" } # done",
    "Set-Content -Path C:\\temp\\out.txt -Value {{ v }}\nGet-Content C:\\temp\\out.txt",
    "$a = 'fixed'\nWrite-Host {{ v }} \"after\", {{ v }}",
  ];

  test.each(powershellTemplates)("PowerShell: %j", (template) => {
    const expected = tokenizePowerShell(template.replaceAll("{{ v }}", `'${SENTINEL}'`));
    fc.assert(
      fc.property(hostileValue, (value) => {
        let result: string;
        try {
          result = interpolate(template, { v: value }, ps);
        } catch (error) {
          // Only values PowerShell cannot receive unchanged are refused.
          expect(error).toBeInstanceOf(InterpolationError);
          expect(value.includes("\0") || hasLoneSurrogate(value)).toBe(true);
          return;
        }
        const want = expectedTokens(expected, (t) => t.k === "string" && t.v === SENTINEL, value);
        expect(tokenizePowerShell(result)).toEqual(want);
      }),
      { numRuns: 1500 },
    );
  });

  const cmdTemplates = [
    "sc.exe stop {{ v }} & sc.exe query {{ v }}",
    "echo {{ v }}",
    "dir {{ v }} /b | findstr x",
    "copy C:\\src\\a.txt {{ v }} > nul && type {{ v }}",
    "if exist {{ v }} (echo yes) else (echo no)",
  ];

  test.each(cmdTemplates)("cmd: %j", (template) => {
    const expected = tokenizeCmd(template.replaceAll("{{ v }}", `"${SENTINEL}"`));
    fc.assert(
      fc.property(hostileValue, (value) => {
        let result: string;
        try {
          result = interpolate(template, { v: value }, cmd);
        } catch (error) {
          expect(error).toBeInstanceOf(InterpolationError);
          // The refusal is for a documented reason, not an over-cautious guess.
          expect(cmdCannotCarry(value) || hasLoneSurrogate(value)).toBe(true);
          return;
        }
        const want = expectedTokens(expected, (t) => t.k === "arg" && t.v === SENTINEL, value);
        expect(tokenizeCmd(result)).toEqual(want);
      }),
      { numRuns: 1500 },
    );
  });

  test("the readers themselves notice a value that escapes its quotes", () => {
    // Without quoting the property would fail: this keeps the property tests honest.
    const unsafe = "x'; Remove-Item C:\\ -Recurse; '";
    const template = "Write-Output {{ v }}";
    const expected = expectedTokens(tokenizePowerShell(`Write-Output '${SENTINEL}'`), (t) => t.v === SENTINEL, unsafe);
    expect(tokenizePowerShell(`Write-Output '${unsafe}'`)).not.toEqual(expected);
    expect(tokenizePowerShell(interpolate(template, { v: unsafe }, ps))).toEqual(expected);

    const cmdUnsafe = "x & del C:\\";
    const cmdExpected = expectedTokens(tokenizeCmd(`echo "${SENTINEL}"`), (t) => t.v === SENTINEL, cmdUnsafe);
    expect(tokenizeCmd(`echo ${cmdUnsafe}`)).not.toEqual(cmdExpected);
    expect(tokenizeCmd(interpolate("echo {{ v }}", { v: cmdUnsafe }, cmd))).toEqual(cmdExpected);
  });
});
