// The byte stream copyFile writes to the copy script's stdin (powershell.ts, copyScript): the file's
// bytes as they are, in frames, so that the script can tell the end of the file from a cut stream.
import { createHash } from "node:crypto";

/** Bytes in front of each frame's payload: its length, a little-endian uint32. */
export const FRAME_HEADER_BYTES = 4;
/** Bytes after the last frame: a zero length, then the SHA-256 of the file. */
export const TRAILER_BYTES = FRAME_HEADER_BYTES + 32;

/** One Send's worth of the copy stream. */
export interface CopyChunk {
  /** The bytes to send; its memory is reused once the chunk after the next one is asked for. */
  data: Buffer;
  /** File bytes in `data`. */
  fileBytes: number;
  /** True for the last chunk, which also carries the end frame and the digest. */
  last: boolean;
  /** Hex SHA-256 of the whole file, on the last chunk. */
  sha256?: string;
}

type Source = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>;

/**
 * Frames `source` for the copy script, one chunk per Send: each chunk is one frame of up to
 * `frameBytes` file bytes; the last one is followed, in the same chunk, by the end frame and the
 * digest. The source is pulled only as chunks are asked for, and every byte is copied once.
 */
export async function* copyFrames(source: Source, frameBytes: number): AsyncGenerator<CopyChunk> {
  if (!Number.isInteger(frameBytes) || frameBytes < 1) throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  const hash = createHash("sha256");
  const size = FRAME_HEADER_BYTES + frameBytes + TRAILER_BYTES;
  // Two buffers take turns: one full frame held back until the source shows there is more, one filling.
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  let turn = 0;
  let frame = buffers[turn] as Buffer;
  let filled = 0;
  let full: Buffer | undefined;
  for await (const part of source) {
    const chunk = typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    let offset = 0;
    while (offset < chunk.length) {
      if (full) {
        yield { data: full.subarray(0, FRAME_HEADER_BYTES + frameBytes), fileBytes: frameBytes, last: false };
        full = undefined;
      }
      const n = Math.min(frameBytes - filled, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + n);
      hash.update(piece);
      piece.copy(frame, FRAME_HEADER_BYTES + filled);
      filled += n;
      offset += n;
      if (filled === frameBytes) {
        frame.writeUInt32LE(frameBytes, 0);
        full = frame;
        turn ^= 1;
        frame = buffers[turn] as Buffer;
        filled = 0;
      }
    }
  }
  const last = full ?? frame;
  const fileBytes = full ? frameBytes : filled;
  let end = 0;
  if (fileBytes > 0) {
    last.writeUInt32LE(fileBytes, 0);
    end = FRAME_HEADER_BYTES + fileBytes;
  }
  last.writeUInt32LE(0, end);
  const digest = hash.digest();
  digest.copy(last, end + FRAME_HEADER_BYTES);
  yield { data: last.subarray(0, end + TRAILER_BYTES), fileBytes, last: true, sha256: digest.toString("hex") };
}
