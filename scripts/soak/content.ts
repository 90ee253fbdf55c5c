import { seededBlock } from '../../test/_helpers/upstream.ts';

// The bytes the soak moves: 64 KiB chunks of one fixed pseudo-random block,
// each stamped with its index and the request's seed, so a chunk that is
// lost, repeated, reordered or from another response shows as a mismatch.
// The backend and the clients generate the same bytes from (size, seed).

export const CHUNK_BYTES = 64 * 1024;

const block = new Uint8Array(seededBlock(0x50a4_c0de, CHUNK_BYTES));

/** Chunk `index` of a body with `seed`, `length` bytes long (the last one may be short). */
export function chunkAt(index: number, seed: number, length = CHUNK_BYTES): Uint8Array {
  const chunk = block.slice(0, length);
  const view = new DataView(chunk.buffer);
  if (length >= 8) {
    view.setUint32(0, index);
    view.setUint32(4, seed >>> 0);
  }
  return chunk;
}

/** The chunks of a `size`-byte body, in order. */
export function* chunksOf(size: number, seed: number): Generator<Uint8Array> {
  for (let index = 0, at = 0; at < size; index++, at += CHUNK_BYTES) yield chunkAt(index, seed, Math.min(CHUNK_BYTES, size - at));
}

/**
 * Compares bytes as they arrive against the body they should be; `extra`
 * counts bytes past the end, `mismatch` the first offset that differs.
 */
export class BodyChecker {
  private at = 0;
  private cached: { index: number; bytes: Uint8Array } | undefined;
  mismatchAt: number | undefined;
  constructor(
    readonly size: number,
    readonly seed: number,
  ) {}

  get received(): number {
    return this.at;
  }

  push(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.at >= this.size) {
        this.mismatchAt ??= this.at;
        this.at += bytes.length - offset;
        return;
      }
      const index = Math.floor(this.at / CHUNK_BYTES);
      const within = this.at % CHUNK_BYTES;
      if (this.cached?.index !== index) {
        this.cached = { index, bytes: chunkAt(index, this.seed, Math.min(CHUNK_BYTES, this.size - index * CHUNK_BYTES)) };
      }
      const expected = this.cached.bytes;
      const n = Math.min(expected.length - within, bytes.length - offset);
      if (this.mismatchAt === undefined && Buffer.compare(bytes.subarray(offset, offset + n), expected.subarray(within, within + n)) !== 0) {
        this.mismatchAt = this.at;
      }
      this.at += n;
      offset += n;
    }
  }
}
