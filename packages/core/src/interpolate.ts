import type { InterpolateOptions, InterpolationShell, ParameterValue } from "./contracts.ts";

/** A `{{ name }}` or `{{ name | raw }}` occurrence in a template. */
export interface Placeholder {
  name: string;
  raw: boolean;
  /** Offset of the first `{` in the template. */
  start: number;
  /** Offset just past the last `}`. */
  end: number;
}

/** Thrown when a template or a value cannot be interpolated safely; the message says why and what to do. */
export class InterpolationError extends Error {
  override readonly name = "InterpolationError";
  /** The placeholder's parameter name, when the problem concerns one. */
  readonly parameter: string | undefined;
  constructor(message: string, parameter?: string) {
    super(message);
    this.parameter = parameter;
  }
}

// Only names that look like identifiers are placeholders, so text such as .NET's "{{0}}" format
// escapes passes through untouched.
const placeholderPattern = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*)?\}\}/g;

/** Lists the placeholders of a template in order; throws `InterpolationError` for an unknown filter. */
export function listPlaceholders(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  for (const match of template.matchAll(placeholderPattern)) {
    const name = match[1]!;
    const filter = match[2];
    if (filter !== undefined && filter !== "raw") {
      throw new InterpolationError(`{{ ${name} | ${filter} }} uses the unknown filter "${filter}"; the only filter is "raw".`, name);
    }
    found.push({ name, raw: filter === "raw", start: match.index, end: match.index + match[0].length });
  }
  return found;
}

/** Characters PowerShell's tokenizer treats as a single quote (ASCII ' and U+2018..U+201B). */
export const POWERSHELL_SINGLE_QUOTES = Object.freeze(["'", "\u2018", "\u2019", "\u201A", "\u201B"] as const);
/** Characters PowerShell's tokenizer treats as a double quote (ASCII " and U+201C..U+201E). */
export const POWERSHELL_DOUBLE_QUOTES = Object.freeze(['"', "\u201C", "\u201D", "\u201E"] as const);

const psSingle = new Set<string>(POWERSHELL_SINGLE_QUOTES);
const psDouble = new Set<string>(POWERSHELL_DOUBLE_QUOTES);
const psSingleGlobal = /['\u2018-\u201B]/g;

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  const names: Record<number, string> = { 0: "NUL", 9: "tab", 10: "line feed", 13: "carriage return", 0x22: "double quote", 0x25: "percent sign", 0x21: "exclamation mark" };
  return names[code] ? `${names[code]} (${hex})` : hex;
}

function findLoneSurrogate(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

function rejectUncarriable(value: string, parameter: string | undefined, shellName: string): void {
  const nul = value.indexOf("\0");
  if (nul !== -1) {
    throw new InterpolationError(
      `${subject(parameter)} contains a NUL character (U+0000), which ${shellName} cannot carry: Windows command lines end at NUL.`,
      parameter,
    );
  }
  if (findLoneSurrogate(value) !== -1) {
    throw new InterpolationError(
      `${subject(parameter)} contains an unpaired UTF-16 surrogate, which is not a character and cannot be sent to Windows unchanged.`,
      parameter,
    );
  }
}

function subject(parameter: string | undefined): string {
  return parameter === undefined ? "The value" : `The value of "${parameter}"`;
}

/**
 * Quotes a string as a PowerShell single-quoted literal. Inside such a literal nothing is
 * expanded; the only special characters are the five single quotes, each written twice.
 */
export function quotePowerShell(value: string, parameter?: string): string {
  rejectUncarriable(value, parameter, "PowerShell");
  return `'${value.replace(psSingleGlobal, (q) => q + q)}'`;
}

// A plain loop rather than a character class: the rule is about control characters, and spelling
// them out in a regular expression hides which ones are meant.
function findCmdForbidden(value: string): string | undefined {
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || ch === '"' || ch === "%" || ch === "!") return ch;
  }
  return undefined;
}

/**
 * Quotes a string as one cmd.exe argument in double quotes. Inside double quotes cmd treats
 * `& | < > ( ) ^` and spaces as text, but still expands `%VAR%` (and `!VAR!` with delayed
 * expansion) and has no way to escape a `"`; values holding those, or control characters such
 * as line breaks, are rejected.
 */
export function quoteCmd(value: string, parameter?: string): string {
  rejectUncarriable(value, parameter, "cmd.exe");
  const bad = findCmdForbidden(value);
  if (bad !== undefined) {
    throw new InterpolationError(
      `${subject(parameter)} contains a ${describeChar(bad)}, which cmd.exe cannot pass safely inside a quoted argument. ` +
        `Use shell "powershell" for values containing double quotes, % or !, or line breaks and other control characters.`,
      parameter,
    );
  }
  // Programs split their command line by the Microsoft C runtime rules, where backslashes right
  // before a closing quote escape it: double a trailing run so the quote still closes the argument.
  return `"${value.replace(/(\\+)$/, "$1$1")}"`;
}

function formatNumber(value: number, parameter: string): string {
  if (!Number.isFinite(value)) throw new InterpolationError(`The value of "${parameter}" is not a finite number.`, parameter);
  return String(value);
}

function render(value: ParameterValue, parameter: string, shell: InterpolationShell): string {
  if (shell === "text") return String(value);
  if (shell === "powershell") {
    if (typeof value === "boolean") return value ? "$true" : "$false";
    if (typeof value === "number") return formatNumber(value, parameter);
    return quotePowerShell(value, parameter);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return formatNumber(value, parameter);
  return quoteCmd(value, parameter);
}

type Context = "code" | "string" | "comment" | "escaped" | "variable" | "prefix" | "verbatim";

const contextProblems: Record<Exclude<Context, "code">, string> = {
  string: "stands inside a quoted string; remove the quotes around it, the value is quoted for you",
  comment: "stands inside a comment, where a value could end the comment",
  escaped: "follows an escape character, which would swallow the opening quote",
  variable: "stands inside a ${...} variable name",
  prefix: "directly follows '$' or '@', which would change how PowerShell reads the quoted value",
  verbatim: "stands after the stop-parsing token --%, where PowerShell passes text on without quoting",
};

const psDashes = new Set(["-", "\u2013", "\u2014", "\u2015"]);
// Characters after which PowerShell is certainly at the start of a token (so '#' starts a comment).
// Only ASCII whitespace: whether other spaces separate tokens is not something to rely on.
const psTokenStart = new Set([" ", "\t", "\n", "\r", ";", "(", "{", "|"]);
// Line separators other than CR and LF: whether PowerShell ends a comment or a here-string line
// at them is not something to rely on either.
const psExoticBreaks = ["\u0085", "\u2028", "\u2029", "\0"];

function isPsQuote(ch: string | undefined): boolean {
  return ch !== undefined && (psSingle.has(ch) || psDouble.has(ch));
}

interface PowerShellScan {
  contexts: (Context | undefined)[];
  /** Offset from which the tracker cannot know how PowerShell reads the template, and why. */
  ambiguity?: { at: number; reason: string };
}

// Walks a PowerShell template the way PowerShell's tokenizer would, far enough to know in which
// context each placeholder sits. Where PowerShell's reading depends on its parser rather than its
// tokenizer (is this '#' a comment?), the tracker does not guess: every later placeholder is
// rejected unless both readings agree.
function powershellContexts(template: string, placeholders: readonly Placeholder[]): PowerShellScan {
  const scan: PowerShellScan = { contexts: [] };
  const at = new Map(placeholders.map((p, index) => [p.start, index]));
  let i = 0;
  const mark = (context: Context): boolean => {
    const index = at.get(i);
    if (index === undefined) return false;
    scan.contexts[index] = context;
    i = placeholders[index]!.end;
    return true;
  };
  const startsWith = (text: string) => template.startsWith(text, i);
  const isNewline = (ch: string | undefined) => ch === "\n" || ch === "\r";
  const lineEnd = (from: number): number => {
    let j = from;
    while (j < template.length && !isNewline(template[j])) j++;
    return j;
  };
  const ambiguous = (reason: string) => {
    if (scan.ambiguity === undefined || i < scan.ambiguity.at) scan.ambiguity = { at: i, reason };
  };
  const isStopParsing = (j: number) => psDashes.has(template[j] ?? "") && psDashes.has(template[j + 1] ?? "") && template[j + 2] === "%";
  // Whether reading the rest of a line as code could change the tracker's state; if not, it does
  // not matter whether PowerShell reads it as code or as a comment.
  const restOfLineMatters = (from: number): boolean => {
    const end = lineEnd(from);
    for (let j = from; j < end; j++) {
      const ch = template[j]!;
      if (isPsQuote(ch) || "`#$(){}".includes(ch) || isStopParsing(j)) return true;
    }
    return false;
  };

  // ${name} variable names end at '}' and take backtick escapes.
  function skipBracedVariable(inner: Context): void {
    i += 2;
    while (i < template.length && template[i] !== "}") {
      if (mark(inner)) continue;
      i += template[i] === "`" ? 2 : 1;
    }
    i++;
  }

  // In an expandable (double-quoted) string: backtick escapes, $( ) subexpressions and ${ }.
  function expandable(ch: string): boolean {
    if (ch === "`") {
      i++;
      if (!mark("string")) i++;
      return true;
    }
    if (ch === "$" && template[i + 1] === "(") {
      i += 2;
      code(true, "string");
      return true;
    }
    if (ch === "$" && template[i + 1] === "{") {
      skipBracedVariable("string");
      return true;
    }
    return false;
  }

  function skipHereString(quote: "single" | "double"): void {
    i += 2;
    for (;;) {
      if (i >= template.length) return;
      if (mark("string")) continue;
      const ch = template[i]!;
      if (quote === "double" && expandable(ch)) continue;
      if (isNewline(ch) && i + 1 < template.length) {
        let j = i + 1;
        if (ch === "\r" && template[j] === "\n") j++;
        const q = template[j];
        if (q !== undefined && (quote === "single" ? psSingle.has(q) : psDouble.has(q)) && template[j + 1] === "@") {
          i = j + 2;
          return;
        }
      }
      i++;
    }
  }

  function skipQuoted(quotes: ReadonlySet<string>, expand: boolean): void {
    i++;
    for (;;) {
      if (i >= template.length) return;
      if (mark("string")) continue;
      const ch = template[i]!;
      if (expand && expandable(ch)) continue;
      if (quotes.has(ch)) {
        // Any two quote characters of the string's kind in a row stand for one literal quote.
        if (quotes.has(template[i + 1] ?? "")) {
          i += 2;
          continue;
        }
        i++;
        return;
      }
      i++;
    }
  }

  // `inner` marks placeholders found in nested code (a subexpression inside a string) with the
  // enclosing context, since we only accept placeholders in plain code.
  function code(untilParen: boolean, inner: Context = "code"): void {
    let depth = 0;
    while (i < template.length) {
      if (mark(inner)) continue;
      const ch = template[i]!;
      const previous = template[i - 1];
      const atTokenStart = previous === undefined || psTokenStart.has(previous);
      if (ch === "`") {
        i++;
        if (!mark("escaped")) i++;
      } else if ((ch === "$" || ch === "@") && at.has(i + 1)) {
        i++;
        mark("prefix");
      } else if (ch === "@" && isPsQuote(template[i + 1])) {
        // A here-string header is "@'" or '@"' at the start of a token, then only spaces to the
        // end of the line; anything else is read differently (or refused) by PowerShell.
        if (!atTokenStart || !/^[ \t]*(\r|\n)/.test(template.slice(i + 2, lineEnd(i + 2) + 1))) {
          ambiguous("'@' before a quote that does not start a here-string");
        }
        skipHereString(psSingle.has(template[i + 1]!) ? "single" : "double");
      } else if (psSingle.has(ch)) {
        skipQuoted(psSingle, false);
      } else if (psDouble.has(ch)) {
        skipQuoted(psDouble, true);
      } else if (startsWith("<#")) {
        if (!atTokenStart) ambiguous("'<#' in the middle of a word may or may not start a block comment");
        i += 2;
        while (i < template.length && !startsWith("#>")) if (!mark("comment")) i++;
        i += 2;
      } else if (ch === "#") {
        if (!atTokenStart && restOfLineMatters(i + 1)) {
          ambiguous("'#' in the middle of a word may or may not start a comment");
        }
        while (i < template.length && !isNewline(template[i])) if (!mark("comment")) i++;
      } else if (isStopParsing(i)) {
        // After --% PowerShell hands the rest of the line to the program as it is.
        i += 3;
        const end = lineEnd(i);
        if (restOfLineMatters(i) && !placeholdersOnly(i, end)) ambiguous("text after --% is not parsed by PowerShell");
        while (i < end) if (!mark("verbatim")) i++;
      } else if (startsWith("${")) {
        skipBracedVariable("variable");
      } else if (untilParen && ch === "(") {
        depth++;
        i++;
      } else if (untilParen && ch === ")") {
        i++;
        if (depth === 0) return;
        depth--;
      } else {
        i++;
      }
    }
  }

  // Whether the only notable characters between from and end belong to placeholders.
  function placeholdersOnly(from: number, end: number): boolean {
    for (let j = from; j < end; j++) {
      const index = at.get(j);
      if (index !== undefined) {
        j = placeholders[index]!.end - 1;
        continue;
      }
      const ch = template[j]!;
      if (isPsQuote(ch) || "`#$(){}".includes(ch) || isStopParsing(j)) return false;
    }
    return true;
  }

  for (const ch of psExoticBreaks) {
    const at = template.indexOf(ch);
    if (at !== -1 && (scan.ambiguity === undefined || at < scan.ambiguity.at)) {
      scan.ambiguity = { at, reason: `the template contains ${describeChar(ch)}, which PowerShell may treat as a line break` };
    }
  }
  code(false);
  return scan;
}

type CmdContext = "code" | "string" | "escaped" | "percent" | "first";

const cmdProblems: Record<Exclude<CmdContext, "code">, string> = {
  string: "stands inside a quoted string; remove the quotes around it, the value is quoted for you",
  escaped: "follows the escape character ^, which would turn the opening quote into a literal one",
  percent: "stands between % signs, where cmd.exe would read it as part of a variable name",
  first:
    "is in a command line that starts with a quote; cmd /c then strips the line's first and last quote, which would unbalance the quoting. Start the line with an unquoted program name",
};

// cmd.exe: %VAR% is expanded first, inside quotes too; then `"` toggles quoting and `^` escapes the
// next character outside quotes. `cmd /c` strips the first and the last quote of a line that
// starts with one (see `cmd /?`), so a placeholder on such a line is never safe.
function cmdContexts(template: string, placeholders: readonly Placeholder[]): CmdContext[] {
  const contexts: CmdContext[] = [];
  const at = new Map(placeholders.map((p, index) => [p.start, index]));
  const startsQuoted = /^\s*("|\{\{)/.test(template);
  let quoted = false;
  let percents = 0;
  for (let i = 0; i < template.length; ) {
    const index = at.get(i);
    if (index !== undefined) {
      contexts[index] = startsQuoted ? "first" : quoted ? "string" : percents % 2 === 1 ? "percent" : "code";
      i = placeholders[index]!.end;
      continue;
    }
    const ch = template[i]!;
    if (ch === "\n" || ch === "\r") {
      quoted = false;
      percents = 0;
    } else if (ch === "%") {
      percents++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === "^" && !quoted) {
      const next = at.get(i + 1);
      if (next !== undefined) {
        contexts[next] = "escaped";
        i = placeholders[next]!.end;
        continue;
      }
      if (template[i + 1] === "%") percents++;
      i++;
    }
    i++;
  }
  return contexts;
}

/**
 * Replaces `{{ name }}` placeholders with values written as data for the target shell:
 * PowerShell single-quoted literals, cmd.exe double-quoted arguments, or plain text.
 * `{{ name | raw }}` inserts the value unquoted, for trusted template authors only.
 * Throws `InterpolationError` for an unknown name, a placeholder where quoting cannot protect it,
 * or a value the shell cannot carry.
 *
 * @example interpolate("Restart-Service {{ svc }}", { svc: "Spooler" }, { shell: "powershell" }) // "Restart-Service 'Spooler'"
 */
export function interpolate(
  template: string,
  values: Readonly<Record<string, ParameterValue>>,
  options: InterpolateOptions,
): string {
  const { shell } = options;
  if (shell !== "powershell" && shell !== "cmd" && shell !== "text") {
    throw new TypeError(`interpolate(): shell must be "powershell", "cmd" or "text", got ${JSON.stringify(shell)}.`);
  }
  const placeholders = listPlaceholders(template);
  if (placeholders.length === 0) return template;
  const problems = shell === "powershell" ? powershellProblems(template, placeholders) : shell === "cmd" ? cmdProblemList(template, placeholders) : [];

  let out = "";
  let last = 0;
  placeholders.forEach((placeholder, index) => {
    const { name } = placeholder;
    if (!Object.hasOwn(values, name) || values[name] === undefined) {
      throw new InterpolationError(`{{ ${name} }} has no value: "${name}" was not supplied and has no default.`, name);
    }
    const problem = problems[index];
    if (!placeholder.raw && problem !== undefined) {
      throw new InterpolationError(`{{ ${name} }} ${problem}. Use {{ ${name} | raw }} only if the template author quotes it correctly.`, name);
    }
    out += template.slice(last, placeholder.start);
    out += placeholder.raw ? String(values[name]) : render(values[name], name, shell);
    last = placeholder.end;
  });
  return out + template.slice(last);
}

// Why each placeholder of a PowerShell template cannot be quoted safely (undefined: it can).
function powershellProblems(template: string, placeholders: readonly Placeholder[]): (string | undefined)[] {
  const scan = powershellContexts(template, placeholders);
  return placeholders.map((placeholder, index) => {
    if (scan.ambiguity !== undefined && placeholder.start >= scan.ambiguity.at) {
      return `comes after text whose meaning PowerShell decides while parsing (${scan.ambiguity.reason}), so it cannot be quoted safely`;
    }
    const context = scan.contexts[index];
    if (context === undefined) return "stands where the template cannot be read reliably";
    if (context !== "code") return contextProblems[context];
    // PowerShell reads two quotes in a row inside a quoted string as one literal quote, so a
    // quote touching the value's quotes would merge both into one string.
    const previous = template[placeholder.start - 1];
    if (previous !== undefined && psSingle.has(previous)) return "directly follows a single quote, which PowerShell would join with the quoted value";
    const next = template[placeholder.end];
    if (next !== undefined && psSingle.has(next)) return "is directly followed by a single quote, which PowerShell would join with the quoted value";
    const before = placeholders[index - 1];
    if (before !== undefined && before.end === placeholder.start && !before.raw) {
      return `directly follows {{ ${before.name} }}; put a space or another separator between them, or PowerShell joins the two quoted values`;
    }
    return undefined;
  });
}

function cmdProblemList(template: string, placeholders: readonly Placeholder[]): (string | undefined)[] {
  const contexts = cmdContexts(template, placeholders);
  return placeholders.map((_, index) => {
    const context = contexts[index];
    if (context === undefined) return "stands where the template cannot be read reliably";
    return context === "code" ? undefined : cmdProblems[context];
  });
}
