/** What a masked secret is replaced with. */
export const MASK = "***";

/** Masks secrets in a stream of chunks; text that might be the start of a secret is held back until it is decided. */
export interface SecretMaskStream {
  /** Takes the next chunk and returns the text that is now safe to show (possibly empty). */
  push(chunk: string): string;
  /** Returns whatever is still held back, masked; call at the end of the stream. */
  flush(): string;
}

/** Redacts known secret values from text, including text that arrives in chunks. */
export interface SecretMasker {
  /** Replaces every occurrence of every secret in a complete text. */
  mask(text: string): string;
  /** Masks every string inside a JSON-like value (objects and arrays are copied). */
  maskDeep<T>(value: T): T;
  /** Starts masking a stream of chunks (one per output stream). */
  stream(): SecretMaskStream;
  /** Adds secrets learned later, e.g. a credential's password once it is resolved. */
  add(...secrets: readonly string[]): void;
  /** How many distinct secrets are masked. */
  readonly size: number;
}

// Marks every character covered by an occurrence of any secret, overlapping ones included, so
// that two secrets sharing characters ("abc", "bcd" in "abcd") are both hidden entirely.
function coverage(text: string, secrets: Iterable<string>): Uint8Array {
  const covered = new Uint8Array(text.length);
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) covered.fill(1, at, at + secret.length);
  }
  return covered;
}

// Replaces each run of covered characters in text[0, end) with one MASK.
function redact(text: string, covered: Uint8Array, end: number): string {
  let out = "";
  let i = 0;
  while (i < end) {
    if (covered[i]) {
      while (i < end && covered[i]) i++;
      out += MASK;
    } else {
      const start = i;
      while (i < end && !covered[i]) i++;
      out += text.slice(start, i);
    }
  }
  return out;
}

/** Creates a masker for the given secret values (empty strings are ignored). */
export function createSecretMasker(secrets: Iterable<string> = []): SecretMasker {
  const known = new Set<string>();
  let longest = 0;

  const add = (...more: readonly string[]) => {
    for (const secret of more) {
      if (typeof secret === "string" && secret !== "" && !known.has(secret)) {
        known.add(secret);
        longest = Math.max(longest, secret.length);
      }
    }
  };
  add(...secrets);

  const mask = (text: string) => (known.size === 0 || text === "" ? text : redact(text, coverage(text, known), text.length));

  // Length of the longest suffix of `text` that is a proper prefix of some secret: that much
  // must wait for the next chunk.
  const pendingLength = (text: string): number => {
    for (let length = Math.min(longest - 1, text.length); length > 0; length--) {
      const suffix = text.slice(text.length - length);
      for (const secret of known) if (secret.length > length && secret.startsWith(suffix)) return length;
    }
    return 0;
  };

  const maskDeep = <T,>(value: T): T => {
    if (typeof value === "string") return mask(value) as T;
    if (Array.isArray(value)) return value.map((item) => maskDeep(item)) as T;
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = maskDeep(item);
      return out as T;
    }
    return value;
  };

  return {
    mask,
    maskDeep,
    add,
    get size() {
      return known.size;
    },
    stream(): SecretMaskStream {
      let held = "";
      return {
        push(chunk: string): string {
          const text = held + chunk;
          if (known.size === 0) {
            held = "";
            return text;
          }
          // Text after `boundary` might be the start of a secret and waits for the next chunk. An
          // occurrence starting before it ends inside `text` (else the boundary would be earlier),
          // but a masked run reaching the boundary may still grow, so it waits too: the stream
          // then shows exactly what masking the whole text at once would.
          const covered = coverage(text, known);
          let boundary = text.length - pendingLength(text);
          while (boundary > 0 && covered[boundary - 1]) boundary--;
          held = text.slice(boundary);
          return redact(text, covered, boundary);
        },
        flush(): string {
          const rest = mask(held);
          held = "";
          return rest;
        },
      };
    },
  };
}
