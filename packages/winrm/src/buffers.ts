// Large buffers for a stream of requests of about the same size (a copy's Sends), reused instead of
// allocated anew: a fresh buffer of ~500 KB costs page faults on first touch, measured here at 10
// to 30 times the copy into a buffer that is already mapped.

/** A few buffers taken and given back in turn; what was not given back is simply collected. */
export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #backing = new WeakMap<Buffer, Buffer>();
  readonly #keep: number;

  constructor(keep = 2) {
    this.#keep = keep;
  }

  /** A buffer of `size` bytes (uninitialised), its memory reused when one large enough was given back. */
  take(size: number): Buffer {
    const index = this.#free.findIndex((buffer) => buffer.length >= size);
    // A little headroom, so that a slightly larger request next time still fits.
    const backing = index >= 0 ? (this.#free.splice(index, 1)[0] as Buffer) : Buffer.allocUnsafeSlow(size + 4096);
    const view = backing.subarray(0, size);
    this.#backing.set(view, backing);
    return view;
  }

  /** Gives back a buffer from take(); the caller must not use it afterwards. */
  give(buffer: Buffer): void {
    const backing = this.#backing.get(buffer);
    if (!backing) return;
    this.#backing.delete(buffer);
    if (this.#free.length < this.#keep) this.#free.push(backing);
  }
}
