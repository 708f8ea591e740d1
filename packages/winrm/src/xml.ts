// A minimal XML reader for WS-Management responses: elements, attributes, text, CDATA, comments,
// processing instructions and entities. Names are kept with their prefix and matched by local name,
// since WinRM's prefixes vary between Windows versions while the local names do not.

/** A parsed XML element. */
export interface XmlNode {
  /** Qualified name as written (e.g. "rsp:Stream"). */
  name: string;
  /** Local name (e.g. "Stream"). */
  local: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

function decode(raw: string): string {
  if (!raw.includes("&")) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (e === "lt") return "<";
    if (e === "gt") return ">";
    if (e === "amp") return "&";
    if (e === "quot") return '"';
    if (e === "apos") return "'";
    return String.fromCodePoint(e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10));
  });
}

/** Escapes text for use inside XML element content or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;"));
}

function localName(qname: string): string {
  const colon = qname.indexOf(":");
  return colon < 0 ? qname : qname.slice(colon + 1);
}

const isSpace = (code: number): boolean => code === 32 || code === 9 || code === 10 || code === 13;

/** Reads the attributes of a start tag's inside, from `at` to `end`; malformed pieces are skipped. */
function readAttributes(xml: string, at: number, end: number): Record<string, string> {
  const attrs: Record<string, string> = {};
  let pos = at;
  while (pos < end) {
    const code = xml.charCodeAt(pos);
    if (isSpace(code) || code === 47 /* / */) {
      pos++;
      continue;
    }
    const eq = xml.indexOf("=", pos);
    if (eq < 0 || eq >= end) break;
    const name = xml.slice(pos, eq).trim();
    let q = eq + 1;
    while (q < end && isSpace(xml.charCodeAt(q))) q++;
    const quote = xml[q];
    if (quote !== '"' && quote !== "'") {
      pos = q + 1;
      continue;
    }
    const close = xml.indexOf(quote, q + 1);
    if (close < 0 || close >= end) break;
    if (name && !/[\s/>]/.test(name)) attrs[name] = decode(xml.slice(q + 1, close));
    pos = close + 1;
  }
  return attrs;
}

/** Parses an XML document, throwing an Error naming the offset when it is malformed. */
export function parseXml(xml: string): XmlNode {
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`malformed XML from the WinRM server: ${what} at offset ${pos}`);
  };
  while (pos < xml.length) {
    const lt = xml.indexOf("<", pos);
    if (lt < 0) {
      if (xml.slice(pos).trim() && stack.length === 0) fail("text outside the root element");
      const top = stack[stack.length - 1];
      if (top) top.text += decode(xml.slice(pos));
      break;
    }
    if (lt > pos) {
      const top = stack[stack.length - 1];
      if (top) top.text += decode(xml.slice(pos, lt));
      else if (xml.slice(pos, lt).trim() && xml.charCodeAt(pos) !== 0xfeff) fail("text outside the root element");
    }
    pos = lt;
    const next = xml.charCodeAt(pos + 1);
    if (next === 63 /* ? */) {
      const end = xml.indexOf("?>", pos);
      if (end < 0) fail("unterminated processing instruction");
      pos = end + 2;
    } else if (next === 33 /* ! */) {
      if (xml.startsWith("<!--", pos)) {
        const end = xml.indexOf("-->", pos);
        if (end < 0) fail("unterminated comment");
        pos = end + 3;
      } else if (xml.startsWith("<![CDATA[", pos)) {
        const end = xml.indexOf("]]>", pos);
        if (end < 0) fail("unterminated CDATA");
        const top = stack[stack.length - 1];
        if (top) top.text += xml.slice(pos + 9, end);
        pos = end + 3;
      } else {
        fail("DTDs are not accepted");
      }
    } else if (next === 47 /* / */) {
      const end = xml.indexOf(">", pos);
      if (end < 0) fail("unterminated end tag");
      const name = xml.slice(pos + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) fail(`end tag </${name}> does not match <${open?.name ?? ""}>`);
      pos = end + 1;
    } else {
      // The tag's end, skipping '>' inside quoted attribute values.
      let end = pos + 1;
      let quote = 0;
      for (; end < xml.length; end++) {
        const c = xml.charCodeAt(end);
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 34 || c === 39) quote = c;
        else if (c === 62 /* > */) break;
      }
      if (end >= xml.length) fail("unterminated start tag");
      const selfClosing = xml.charCodeAt(end - 1) === 47;
      const innerEnd = selfClosing ? end - 1 : end;
      let nameEnd = pos + 1;
      while (nameEnd < innerEnd && !isSpace(xml.charCodeAt(nameEnd)) && xml.charCodeAt(nameEnd) !== 47) nameEnd++;
      const name = xml.slice(pos + 1, nameEnd);
      if (!name) fail("element without a name");
      const node: XmlNode = { name, local: localName(name), attrs: nameEnd < innerEnd ? readAttributes(xml, nameEnd, innerEnd) : {}, children: [], text: "" };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(node);
      else if (root) fail("more than one root element");
      else root = node;
      if (!selfClosing) stack.push(node);
      pos = end + 1;
    }
  }
  if (stack.length) fail(`unclosed element <${stack[stack.length - 1]?.name ?? ""}>`);
  if (!root) fail("no root element");
  return root as XmlNode;
}

/** Returns the first descendant (depth-first, including `node`) with the given local name. */
export function findFirst(node: XmlNode | undefined, local: string): XmlNode | undefined {
  if (!node) return undefined;
  if (node.local === local) return node;
  for (const child of node.children) {
    const found = findFirst(child, local);
    if (found) return found;
  }
  return undefined;
}

/** Returns every descendant with the given local name, in document order. */
export function findAll(node: XmlNode | undefined, local: string, out: XmlNode[] = []): XmlNode[] {
  if (!node) return out;
  if (node.local === local) out.push(node);
  for (const child of node.children) findAll(child, local, out);
  return out;
}

/** Reads an attribute by local name, ignoring its prefix. */
export function attr(node: XmlNode, local: string): string | undefined {
  if (local in node.attrs) return node.attrs[local];
  for (const [key, value] of Object.entries(node.attrs)) if (localName(key) === local) return value;
  return undefined;
}
