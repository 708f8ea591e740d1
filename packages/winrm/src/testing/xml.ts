// A small namespace-aware XML reader for the test server. It is deliberately independent of the
// client's XML code so that the two sides of a test cannot share a parsing bug. It handles what
// SOAP 1.2 envelopes from WinRM clients contain: elements, attributes, namespaces, text, CDATA,
// comments, processing instructions and the predefined/numeric entities. DTDs are refused.
import { isAscii } from "node:buffer";
import { randomBytes } from "node:crypto";

/** A parsed XML element with namespace-resolved names. */
export interface XmlElement {
  /** Local name without prefix. */
  readonly local: string;
  /** Namespace URI ("" when none). */
  readonly ns: string;
  /** Attributes keyed by local name (namespaced attributes other than xmlns are keyed by local name too). */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

/** Thrown when a document is not well-formed enough to read. */
export class XmlSyntaxError extends Error {
  constructor(message: string, position: number) {
    super(`${message} at offset ${position}`);
    this.name = "XmlSyntaxError";
  }
}

const XML_NS = "http://www.w3.org/XML/1998/namespace";

// Character data of this many bytes or more (a Send's base64) stays in the request's bytes: as one
// string it would land in V8's large-object space, whose fresh pages cost several times the
// decoding itself. The parser sees a short token in its place and the element reads it back.
const LARGE_TEXT = 32 * 1024;
// Decoded in pieces whose strings stay small; a multiple of 4, so base64 groups are never split.
const BASE64_PIECE = 64 * 1024;
const TOKEN_PREFIX = `{{large-text ${randomBytes(8).toString("hex")} `;
const TOKEN = new RegExp(`${TOKEN_PREFIX.replace(/[{}]/g, "\\$&")}\\d+\\}\\}`, "g");

interface LargeText {
  /** The element's text before the run (whitespace in practice). */
  before: string;
  run: Buffer;
}

// Elements whose text is `before` + a large run, for as long as nothing else was appended.
const largeTexts = new WeakMap<XmlElement, LargeText>();

function attachLargeText(element: XmlElement, run: Buffer): void {
  const large: LargeText = { before: element.text, run };
  largeTexts.set(element, large);
  Object.defineProperty(element, "text", {
    configurable: true,
    enumerable: true,
    get: () => large.before + large.run.toString("latin1"),
    set: (value: string) => {
      largeTexts.delete(element);
      Object.defineProperty(element, "text", { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

/** The bytes an element's base64 character data stands for (whitespace around it ignored). */
export function base64Content(element: XmlElement | undefined): Buffer {
  if (!element) return Buffer.alloc(0);
  const large = largeTexts.get(element);
  const run = large?.run;
  // Node's decoder skips whitespace, which could straddle pieces; WinRM clients send none inside.
  if (!large || !run || large.before.trim() !== "" || [0x20, 0x09, 0x0a, 0x0d].some((c) => run.indexOf(c) >= 0)) {
    return Buffer.from(element.text.trim(), "base64");
  }
  const out = Buffer.allocUnsafe(Math.ceil(run.length / 4) * 3);
  let length = 0;
  for (let start = 0; start < run.length; start += BASE64_PIECE) {
    length += out.write(run.toString("latin1", start, Math.min(start + BASE64_PIECE, run.length)), length, "base64");
  }
  return out.subarray(0, length);
}

/**
 * Parses a request body (UTF-8, or UTF-16LE with its byte order mark). Runs of plain ASCII
 * character data of 32 KiB or more are not copied into the document's string; their elements read
 * them from `body` when asked (`text`, or `base64Content` without any string of their size).
 */
export function parseXmlBytes(body: Buffer): XmlElement {
  if (body[0] === 0xff && body[1] === 0xfe) return parseXml(body.subarray(2).toString("utf16le"));
  const encoding = isAscii(body) ? "latin1" : "utf8";
  if (body.length < LARGE_TEXT) return parseXml(body.toString(encoding));
  const large = new Map<string, Buffer>();
  let text = "";
  let from = 0;
  for (let pos = 0; ; ) {
    const gt = body.indexOf(0x3e, pos);
    const lt = gt < 0 ? -1 : body.indexOf(0x3c, gt + 1);
    if (lt < 0) break;
    const run = body.subarray(gt + 1, lt);
    // Without & " ' > (nor CR, which the parser would normalise) the bytes after a > are character data (or inside a comment, CDATA or
    // processing instruction, where the same bytes read back mean the same).
    if (run.length >= LARGE_TEXT && [0x26, 0x22, 0x27, 0x3e, 0x0d].every((c) => run.indexOf(c) < 0) && (encoding === "latin1" || isAscii(run))) {
      const token = `${TOKEN_PREFIX}${large.size}}}`;
      large.set(token, run);
      text += body.toString(encoding, from, gt + 1) + token;
      from = lt;
    }
    pos = lt;
  }
  return parseXml(text + body.toString(encoding, from), large);
}

function decodeEntities(raw: string, position: number): string {
  if (!raw.includes("&")) return raw;
  return raw.replace(/&([^;&\s]*);?/g, (match, name: string) => {
    if (!match.endsWith(";")) throw new XmlSyntaxError(`unterminated entity reference "${match}"`, position);
    switch (name) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const numeric = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(name);
    if (!numeric?.[1]) throw new XmlSyntaxError(`unknown entity "&${name};"`, position);
    const code = numeric[1].startsWith("x") ? Number.parseInt(numeric[1].slice(1), 16) : Number.parseInt(numeric[1], 10);
    if (code > 0x10ffff) throw new XmlSyntaxError(`character reference out of range "&${name};"`, position);
    return String.fromCodePoint(code);
  });
}

interface OpenElement {
  qname: string;
  element: XmlElement;
  scope: Map<string, string>;
}

const NAME = /[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/y;
const MAX_NAME = 512;

/** The XML name at `at`, if one starts there (at most MAX_NAME characters of it). */
function nameAt(text: string, at: number): string | undefined {
  NAME.lastIndex = at;
  const match = NAME.exec(text)?.[0];
  return match && match.length > MAX_NAME ? match.slice(0, MAX_NAME) : match;
}

// \s as JavaScript's regular expressions define it; the common ASCII cases without a regex.
const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(String.fromCharCode(code)));

/** Parses a complete document and returns its root element. */
export function parseXml(input: string, large?: ReadonlyMap<string, Buffer>): XmlElement {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  // A Send's base64 has no CR; scanning for one is far cheaper than running the regex over it.
  if (text.includes("\r")) text = text.replace(/\r\n?/g, "\n");
  let pos = 0;
  let root: XmlElement | undefined;
  const stack: OpenElement[] = [];
  const rootScope = new Map<string, string>([["xml", XML_NS]]);

  // Large runs inside CDATA sections and attribute values read back as they were.
  const restore = (raw: string): string =>
    large && raw.includes(TOKEN_PREFIX) ? raw.replace(TOKEN, (token) => large.get(token)?.toString("latin1") ?? token) : raw;

  const resolve = (qname: string, scope: Map<string, string>, isAttribute: boolean, at: number): { ns: string; local: string } => {
    const colon = qname.indexOf(":");
    if (colon < 0) return { ns: isAttribute ? "" : (scope.get("") ?? ""), local: qname };
    const prefix = qname.slice(0, colon);
    const ns = scope.get(prefix);
    if (ns === undefined) throw new XmlSyntaxError(`undeclared namespace prefix "${prefix}"`, at);
    return { ns, local: qname.slice(colon + 1) };
  };

  while (pos < text.length) {
    const lt = text.indexOf("<", pos);
    const chunkEnd = lt < 0 ? text.length : lt;
    if (chunkEnd > pos) {
      const chars = text.slice(pos, chunkEnd);
      const top = stack.at(-1);
      const run = large?.get(chars);
      if (top && run && !largeTexts.has(top.element)) attachLargeText(top.element, run);
      else if (top) top.element.text += run ? run.toString("latin1") : decodeEntities(restore(chars), pos);
      else if ((run ? run.toString("latin1") : restore(chars)).trim() !== "") throw new XmlSyntaxError("text outside the root element", pos);
    }
    if (lt < 0) break;
    pos = lt;
    if (text.startsWith("<!--", pos)) {
      const end = text.indexOf("-->", pos + 4);
      if (end < 0) throw new XmlSyntaxError("unterminated comment", pos);
      pos = end + 3;
    } else if (text.startsWith("<![CDATA[", pos)) {
      const end = text.indexOf("]]>", pos + 9);
      if (end < 0) throw new XmlSyntaxError("unterminated CDATA section", pos);
      const top = stack.at(-1);
      if (!top) throw new XmlSyntaxError("CDATA outside the root element", pos);
      top.element.text += restore(text.slice(pos + 9, end));
      pos = end + 3;
    } else if (text.startsWith("<?", pos)) {
      const end = text.indexOf("?>", pos + 2);
      if (end < 0) throw new XmlSyntaxError("unterminated processing instruction", pos);
      pos = end + 2;
    } else if (text.startsWith("<!", pos)) {
      // A DOCTYPE could declare entities (billion laughs); WinRM never sends one.
      throw new XmlSyntaxError("document type declarations are not accepted", pos);
    } else if (text.startsWith("</", pos)) {
      const qname = nameAt(text, pos + 2);
      if (!qname) throw new XmlSyntaxError("malformed end tag", pos);
      let p = pos + 2 + qname.length;
      while (isSpace(text.charCodeAt(p))) p++;
      if (text[p] !== ">") throw new XmlSyntaxError("malformed end tag", pos);
      const open = stack.pop();
      if (!open || open.qname !== qname) throw new XmlSyntaxError(`end tag </${qname}> does not match <${open?.qname ?? ""}>`, pos);
      pos = p + 1;
      if (stack.length === 0) root = open.element;
    } else {
      if (root) throw new XmlSyntaxError("more than one root element", pos);
      const qname = nameAt(text, pos + 1);
      if (!qname) throw new XmlSyntaxError("malformed start tag", pos);
      let p = pos + 1 + qname.length;
      const rawAttrs: [string, string][] = [];
      let selfClosing = false;
      for (;;) {
        const ws = p;
        while (isSpace(text.charCodeAt(p))) p++;
        if (text.startsWith("/>", p)) {
          selfClosing = true;
          p += 2;
          break;
        }
        if (text[p] === ">") {
          p += 1;
          break;
        }
        if (p === ws) throw new XmlSyntaxError("expected whitespace before an attribute", p);
        const attrName = nameAt(text, p);
        if (!attrName) throw new XmlSyntaxError("malformed attribute", p);
        p += attrName.length;
        while (isSpace(text.charCodeAt(p))) p++;
        if (text[p] !== "=") throw new XmlSyntaxError("expected = after an attribute name", p);
        p++;
        while (isSpace(text.charCodeAt(p))) p++;
        const quote = text[p];
        if (quote !== '"' && quote !== "'") throw new XmlSyntaxError("attribute value must be quoted", p);
        const close = text.indexOf(quote, p + 1);
        if (close < 0) throw new XmlSyntaxError("unterminated attribute value", p);
        const rawValue = restore(text.slice(p + 1, close));
        if (rawValue.includes("<")) throw new XmlSyntaxError("< in an attribute value", p);
        const value = decodeEntities(rawValue, p);
        rawAttrs.push([attrName, value.includes("\t") || value.includes("\n") ? value.replace(/[\t\n]/g, " ") : value]);
        p = close + 1;
      }
      const parentScope = stack.at(-1)?.scope ?? rootScope;
      let scope = parentScope;
      for (const [name, value] of rawAttrs) {
        if (name === "xmlns" || name.startsWith("xmlns:")) {
          if (scope === parentScope) scope = new Map(parentScope);
          scope.set(name === "xmlns" ? "" : name.slice(6), value);
        }
      }
      const attrs: Record<string, string> = {};
      for (const [name, value] of rawAttrs) {
        if (name === "xmlns" || name.startsWith("xmlns:")) continue;
        attrs[resolve(name, scope, true, pos).local] = value;
      }
      const { ns, local } = resolve(qname, scope, false, pos);
      const element: XmlElement = { local, ns, attrs, children: [], text: "" };
      stack.at(-1)?.element.children.push(element);
      if (selfClosing) {
        if (stack.length === 0) root = element;
      } else {
        stack.push({ qname, element, scope });
      }
      pos = p;
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`unclosed element <${stack.at(-1)?.qname ?? ""}>`, text.length);
  if (!root) throw new XmlSyntaxError("no root element", 0);
  return root;
}

/** The first direct child with this namespace and local name. */
export function child(parent: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return parent?.children.find((c) => c.ns === ns && c.local === local);
}

/** All direct children with this namespace and local name. */
export function childrenNamed(parent: XmlElement | undefined, ns: string, local: string): XmlElement[] {
  return parent ? parent.children.filter((c) => c.ns === ns && c.local === local) : [];
}

/** Escapes text for use in element content or a double-quoted attribute. */
export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === '"' ? "&quot;" : "&apos;"));
}
