// RC4 for NTLM sealing, which needs a keystream that continues across messages (MS-NLMP 3.4.3).
// OpenSSL 3 only offers RC4 through its legacy provider, so it is ours: the keystream loop runs in
// a small WebAssembly module (about 1.7× the JavaScript loop's speed; it seals every byte a copy
// sends), with the same loop in JavaScript where WebAssembly is unavailable.

/** A keystream generator: XORs data with the next bytes of its keystream. */
interface Keystream {
  update(data: Uint8Array): Buffer;
  /** The same as update, writing the result over `data` instead of into a new Buffer. */
  updateInPlace(data: Uint8Array): void;
}

function schedule(s: Uint8Array | Int32Array, key: Uint8Array): void {
  if (key.length === 0) throw new RangeError("RC4 key must not be empty");
  for (let i = 0; i < 256; i++) s[i] = i;
  let j = 0;
  for (let i = 0; i < 256; i++) {
    const si = s[i] as number;
    j = (j + si + (key[i % key.length] as number)) & 0xff;
    s[i] = s[j] as number;
    s[j] = si;
  }
}

/** @internal RC4 in JavaScript: the fallback without WebAssembly, and the tests' second implementation. */
export class RC4Js implements Keystream {
  // Int32 rather than Uint8 entries: about a tenth faster in V8, and every value stays below 256.
  #s = new Int32Array(256);
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    schedule(this.#s, key);
  }

  update(data: Uint8Array): Buffer {
    const out = Buffer.from(data);
    this.updateInPlace(out);
    return out;
  }

  updateInPlace(data: Uint8Array): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i] as number;
      j = (j + si) & 0xff;
      const sj = s[j] as number;
      s[i] = sj;
      s[j] = si;
      data[n] = (data[n] as number) ^ (s[(si + sj) & 0xff] as number);
    }
    this.#i = i;
    this.#j = j;
  }
}

// ---- the WebAssembly module ----------------------------------------------------------------------
// Memory layout: S at bytes 0..255, i at 256, j at 257, the data at DATA. One export,
// rc4(ptr, len), encrypts memory[ptr, ptr+len) in place, the same loop as RC4Js.update.

const DATA = 512;
const PAGE = 65536;
const SLICE = 4 * PAGE - DATA;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    const low = n & 0x7f;
    n >>>= 7;
    out.push(n ? low | 0x80 : low);
  } while (n);
  return out;
};
// i32.const takes a signed LEB128; every constant here is small and non-negative.
const sleb = (n: number): number[] => (n < 0x40 ? [n] : [(n & 0x7f) | 0x80, ...sleb(n >>> 7)]);
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (text: string): number[] => [...uleb(text.length), ...Buffer.from(text, "latin1")];

const I32 = 0x7f;
const OP = Object.freeze({ block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, end: 0x0b, get: 0x20, set: 0x21, tee: 0x22, load8: 0x2d, store8: 0x3a, const: 0x41, geU: 0x4f, add: 0x6a, and: 0x71, xor: 0x73 });
const MEMARG = [0, 0]; // alignment 2^0, offset 0
const int = (n: number): number[] => [OP.const, ...sleb(n)];
const load = (...address: number[]): number[] => [...address, OP.load8, ...MEMARG];
// Locals: the two parameters, then four of the function's own.
const [PTR, END, I, J, SI, SJ] = [0, 1, 2, 3, 4, 5];

const CODE = [
  ...[OP.get, PTR, OP.get, END, OP.add, OP.set, END], // end = ptr + len
  ...load(...int(256)), OP.set, I,
  ...load(...int(257)), OP.set, J,
  OP.block, 0x40, OP.loop, 0x40,
  ...[OP.get, PTR, OP.get, END, OP.geU, OP.brIf, 1], // while (ptr < end)
  ...load(OP.get, I, ...int(1), OP.add, ...int(255), OP.and, OP.tee, I), OP.set, SI, // i = (i + 1) & 255; si = S[i]
  ...load(OP.get, J, OP.get, SI, OP.add, ...int(255), OP.and, OP.tee, J), OP.set, SJ, // j = (j + si) & 255; sj = S[j]
  ...[OP.get, I, OP.get, SJ, OP.store8, ...MEMARG], // S[i] = sj
  ...[OP.get, J, OP.get, SI, OP.store8, ...MEMARG], // S[j] = si
  OP.get, PTR, // memory[ptr] ^= S[(si + sj) & 255]
  ...load(OP.get, PTR),
  ...load(OP.get, SI, OP.get, SJ, OP.add, ...int(255), OP.and),
  ...[OP.xor, OP.store8, ...MEMARG],
  ...[OP.get, PTR, ...int(1), OP.add, OP.set, PTR], // ptr++
  ...[OP.br, 0, OP.end, OP.end],
  ...[...int(256), OP.get, I, OP.store8, ...MEMARG],
  ...[...int(257), OP.get, J, OP.store8, ...MEMARG],
  OP.end,
];
const FUNCTION_BODY = [...vec([[4, I32]]), ...CODE];

const MODULE_BYTES = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([])]])), // type 0: (i32, i32) -> ()
  ...section(3, vec([[0]])), // function 0 has type 0
  ...section(5, vec([[0x00, 1]])), // one memory, at least one page
  ...section(7, vec([[...name("rc4"), 0x00, 0], [...name("memory"), 0x02, 0]])),
  ...section(10, vec([[...uleb(FUNCTION_BODY.length), ...FUNCTION_BODY]])),
]);

// TypeScript declares WebAssembly only in its "dom" lib; Node has it as a global. The names used here:
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
declare const WebAssembly: { Module: new (bytes: Uint8Array) => WasmModule; Instance: new (module: WasmModule) => { exports: Record<string, unknown> } } | undefined;

let compiled: WasmModule | null | undefined;
function wasmModule(): WasmModule | null {
  if (compiled === undefined) {
    // Absent under --jitless, for instance.
    compiled = typeof WebAssembly === "object" ? new WebAssembly.Module(MODULE_BYTES) : null;
  }
  return compiled;
}

class RC4Wasm implements Keystream {
  readonly #memory: WasmMemory;
  readonly #run: (ptr: number, len: number) => void;

  constructor(module: WasmModule, key: Uint8Array) {
    const instance = new (WebAssembly as NonNullable<typeof WebAssembly>).Instance(module);
    this.#memory = instance.exports.memory as WasmMemory;
    this.#run = instance.exports.rc4 as (ptr: number, len: number) => void;
    const state = new Uint8Array(this.#memory.buffer, 0, 258);
    schedule(state, key);
    state[256] = 0;
    state[257] = 0;
  }

  update(data: Uint8Array): Buffer {
    const out = Buffer.from(data);
    this.updateInPlace(out);
    return out;
  }

  // Through the module's memory in slices, so that it stays small whatever the message's size.
  updateInPlace(data: Uint8Array): void {
    const size = Math.min(SLICE, data.length);
    if (this.#memory.buffer.byteLength < DATA + size) this.#memory.grow(Math.ceil((DATA + size - this.#memory.buffer.byteLength) / PAGE));
    const window = new Uint8Array(this.#memory.buffer, DATA, size);
    for (let offset = 0; offset < data.length; offset += size) {
      const part = data.subarray(offset, Math.min(offset + size, data.length));
      window.set(part);
      this.#run(DATA, part.length);
      part.set(window.subarray(0, part.length));
    }
  }
}

/** A stateful RC4 stream cipher whose keystream continues across `update` calls. */
export class RC4 implements Keystream {
  readonly #impl: Keystream;

  constructor(key: Uint8Array) {
    if (key.length === 0) throw new RangeError("RC4 key must not be empty");
    const module = wasmModule();
    this.#impl = module ? new RC4Wasm(module, key) : new RC4Js(key);
  }

  /** Encrypts or decrypts `data` (the same operation) with the next bytes of the keystream. */
  update(data: Uint8Array): Buffer {
    return this.#impl.update(data);
  }

  /** As update, but overwrites `data` with the result (no allocation). */
  updateInPlace(data: Uint8Array): void {
    this.#impl.updateInPlace(data);
  }
}
