// Turns the raw bytes of a command's stdout/stderr into text as Receive responses arrive.
// Windows splits output wherever its buffers end, so a UTF-8 sequence can straddle two responses;
// powershell.exe writes its error records to stderr as CLIXML, which nobody wants to read raw.

const CLIXML_HEADER = "#< CLIXML";

/** Decodes one output stream incrementally: UTF-8 across chunk boundaries, a leading BOM dropped. */
export class StreamDecoder {
  // TextDecoder strips a BOM at the start of the stream (ignoreBOM defaults to false).
  readonly #utf8 = new TextDecoder("utf-8", { fatal: false });

  /** Decodes a chunk, holding back an incomplete trailing UTF-8 sequence. */
  write(chunk: Uint8Array): string {
    return this.#utf8.decode(chunk, { stream: true });
  }

  /** Flushes whatever is held back (an incomplete sequence becomes U+FFFD). */
  end(): string {
    return this.#utf8.decode();
  }
}

// PowerShell serialises strings with XmlConvert.EncodeName-style escapes: _x000D__x000A_ is CRLF.
function decodeClixmlText(text: string): string {
  return text
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
      if (e === "lt") return "<";
      if (e === "gt") return ">";
      if (e === "amp") return "&";
      if (e === "quot") return '"';
      if (e === "apos") return "'";
      return String.fromCodePoint(e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10));
    });
}

// Prefixes PowerShell's console host prints for the non-error streams.
const STREAM_PREFIX: Record<string, string> = { warning: "WARNING: ", verbose: "VERBOSE: ", debug: "DEBUG: " };

/**
 * Converts PowerShell's CLIXML stderr (`#< CLIXML` followed by `<Objs>` documents) into the text the
 * console would have shown, incrementally; text that is not CLIXML passes through unchanged.
 */
export class ClixmlDecoder {
  #buffer = "";
  #mode: "undecided" | "clixml" | "plain" = "undecided";

  /** Feeds decoded stderr text and returns the readable text that is complete so far. */
  write(text: string): string {
    if (this.#mode === "plain") return text;
    this.#buffer += text;
    if (this.#mode === "undecided") {
      const head = this.#buffer.trimStart();
      if (head.length < CLIXML_HEADER.length && CLIXML_HEADER.startsWith(head)) return "";
      this.#mode = head.startsWith(CLIXML_HEADER) ? "clixml" : "plain";
      if (this.#mode === "plain") {
        const all = this.#buffer;
        this.#buffer = "";
        return all;
      }
    }
    return this.#drain(false);
  }

  /** Returns whatever is left when the stream ends. */
  end(): string {
    if (this.#mode !== "clixml") {
      const rest = this.#buffer;
      this.#buffer = "";
      return rest;
    }
    return this.#drain(true);
  }

  #drain(final: boolean): string {
    let out = "";
    for (;;) {
      const b = this.#buffer.replace(/^\s+/, "");
      this.#buffer = b;
      if (b === "") break;
      if (b.startsWith("#")) {
        if (!b.startsWith(CLIXML_HEADER)) {
          if (b.length < CLIXML_HEADER.length && CLIXML_HEADER.startsWith(b) && !final) break;
          out += this.#takePlain();
          continue;
        }
        const eol = b.indexOf("\n");
        if (eol < 0 && !final) break;
        this.#buffer = eol < 0 ? "" : b.slice(eol + 1);
        continue;
      }
      if (!b.startsWith("<")) {
        out += this.#takePlain();
        continue;
      }
      const tagEnd = b.indexOf(">");
      if (tagEnd < 0) {
        if (final) out += this.#takeAll();
        break;
      }
      const tag = b.slice(1, tagEnd);
      const name = /^\/?([\w:.-]+)/.exec(tag)?.[1] ?? "";
      if (tag.startsWith("/") || tag.endsWith("/") || name === "Objs" || tag.startsWith("?")) {
        // <Objs ...>, </Objs>, <?xml ...?> and empty elements carry no text.
        this.#buffer = b.slice(tagEnd + 1);
        continue;
      }
      const close = findClose(b, name, tagEnd + 1);
      if (close < 0) {
        if (final) out += this.#takeAll();
        break;
      }
      if (name === "S") {
        const stream = /\bS="([^"]*)"/.exec(tag)?.[1] ?? "";
        const content = decodeClixmlText(b.slice(tagEnd + 1, close));
        out += (STREAM_PREFIX[stream.toLowerCase()] ?? "") + content;
      }
      // Other top-level objects (progress records, serialised error objects) are not console text.
      this.#buffer = b.slice(close + `</${name}>`.length);
    }
    return out;
  }

  #takePlain(): string {
    const b = this.#buffer;
    const next = b.search(/#< CLIXML|</);
    const end = next <= 0 ? b.length : next;
    this.#buffer = b.slice(end);
    return b.slice(0, end);
  }

  #takeAll(): string {
    const b = this.#buffer;
    this.#buffer = "";
    return b;
  }
}

// Index of the `</name>` that closes the element opened just before `from`, honouring nesting.
function findClose(text: string, name: string, from: number): number {
  let depth = 1;
  const open = new RegExp(`<${name.replace(/[.]/g, "\\.")}(?=[\\s/>])|</${name.replace(/[.]/g, "\\.")}>`, "g");
  open.lastIndex = from;
  for (let m = open.exec(text); m; m = open.exec(text)) {
    if (m[0].startsWith("</")) {
      depth--;
      if (depth === 0) return m.index;
    } else {
      const end = text.indexOf(">", m.index);
      if (end < 0) return -1;
      if (text[end - 1] !== "/") depth++;
    }
  }
  return -1;
}

/** Decodes a command's stdout and stderr as they arrive; stderr CLIXML becomes readable text. */
export class OutputDecoder {
  readonly #stdout = new StreamDecoder();
  readonly #stderr = new StreamDecoder();
  readonly #clixml = new ClixmlDecoder();

  /** Decodes a chunk of the named stream; returns the text to emit (possibly empty). */
  write(stream: string, chunk: Uint8Array): { stream: "stdout" | "stderr"; text: string } {
    if (stream === "stderr") return { stream: "stderr", text: this.#clixml.write(this.#stderr.write(chunk)) };
    return { stream: "stdout", text: this.#stdout.write(chunk) };
  }

  /** Flushes both streams at the end of the command. */
  end(): { stdout: string; stderr: string } {
    const stdout = this.#stdout.end();
    const stderr = this.#clixml.write(this.#stderr.end()) + this.#clixml.end();
    return { stdout, stderr };
  }
}
