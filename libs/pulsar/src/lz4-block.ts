/**
 * The raw LZ4 block format (no frame header, no checksum), as Pulsar's LZ4 codec uses it: the
 * uncompressed size travels in MessageMetadata.uncompressed_size, not in the block.
 *
 * A block is a list of sequences: token (literal length << 4 | match length - 4, 15 meaning
 * "more bytes follow, each added until one is < 255"), literals, 2-byte little-endian offset,
 * extra match length bytes. The last sequence has literals only.
 */

const MIN_MATCH = 4;
/** The last 5 bytes are always literals. */
const LAST_LITERALS = 5;
/** No match may start within the last 12 bytes. */
const MF_LIMIT = 12;
const MAX_OFFSET = 65535;
const HASH_LOG = 14;

export class Lz4FormatError extends Error {}

/** Worst-case compressed size of `n` bytes. */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function hash(value: number): number {
  return Math.imul(value, 2654435761) >>> (32 - HASH_LOG);
}

function read32(src: Uint8Array, i: number): number {
  return (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> 0;
}

/** Compresses `src` into one LZ4 block (greedy matching over a 16K-entry hash table). */
export function lz4Compress(src: Uint8Array): Buffer {
  const dst = Buffer.allocUnsafe(lz4CompressBound(src.length));
  const table = new Int32Array(1 << HASH_LOG).fill(-1);
  let out = 0;
  let anchor = 0;
  let i = 0;
  const matchLimit = src.length - LAST_LITERALS;
  const searchLimit = src.length - MF_LIMIT;

  const writeLength = (extra: number): void => {
    let n = extra;
    while (n >= 255) {
      dst[out++] = 255;
      n -= 255;
    }
    dst[out++] = n;
  };

  while (i < searchLimit) {
    const seq = read32(src, i);
    const h = hash(seq);
    const candidate = table[h];
    table[h] = i;
    if (candidate < 0 || i - candidate > MAX_OFFSET || read32(src, candidate) !== seq) {
      i++;
      continue;
    }
    let matchLen = MIN_MATCH;
    while (i + matchLen < matchLimit && src[candidate + matchLen] === src[i + matchLen]) matchLen++;

    const literalLen = i - anchor;
    const tokenAt = out++;
    const litNibble = literalLen >= 15 ? 15 : literalLen;
    if (literalLen >= 15) writeLength(literalLen - 15);
    dst.set(src.subarray(anchor, i), out);
    out += literalLen;
    const offset = i - candidate;
    dst[out++] = offset & 0xff;
    dst[out++] = offset >>> 8;
    const matchExtra = matchLen - MIN_MATCH;
    const matchNibble = matchExtra >= 15 ? 15 : matchExtra;
    if (matchExtra >= 15) writeLength(matchExtra - 15);
    dst[tokenAt] = (litNibble << 4) | matchNibble;

    i += matchLen;
    anchor = i;
    // Index a position inside the match so that the next search finds nearby repeats.
    if (i - 2 < searchLimit && i - 2 >= 0) table[hash(read32(src, i - 2))] = i - 2;
  }

  const literalLen = src.length - anchor;
  const tokenAt = out++;
  if (literalLen >= 15) writeLength(literalLen - 15);
  dst[tokenAt] = (literalLen >= 15 ? 15 : literalLen) << 4;
  dst.set(src.subarray(anchor), out);
  out += literalLen;
  return dst.subarray(0, out);
}

/**
 * Decompresses one LZ4 block whose decompressed size is known. Throws Lz4FormatError on any
 * malformed input (reads or writes out of bounds, size mismatch) instead of producing garbage.
 */
export function lz4Decompress(src: Uint8Array, uncompressedSize: number): Buffer {
  const dst = Buffer.allocUnsafe(uncompressedSize);
  let i = 0;
  let out = 0;
  const readLength = (base: number): number => {
    let n = base;
    if (base === 15) {
      let byte: number;
      do {
        if (i >= src.length) throw new Lz4FormatError('truncated length');
        byte = src[i++];
        n += byte;
      } while (byte === 255);
    }
    return n;
  };

  while (i < src.length) {
    const token = src[i++];
    const literalLen = readLength(token >>> 4);
    if (i + literalLen > src.length) throw new Lz4FormatError('literals run past the end of the input');
    if (out + literalLen > uncompressedSize) throw new Lz4FormatError('literals run past the declared size');
    dst.set(src.subarray(i, i + literalLen), out);
    i += literalLen;
    out += literalLen;
    if (i === src.length) break; // last sequence: literals only
    if (i + 2 > src.length) throw new Lz4FormatError('truncated match offset');
    const offset = src[i] | (src[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > out) throw new Lz4FormatError(`invalid match offset ${offset}`);
    const matchLen = readLength(token & 0x0f) + MIN_MATCH;
    if (out + matchLen > uncompressedSize) throw new Lz4FormatError('match runs past the declared size');
    let from = out - offset;
    if (offset >= matchLen) {
      dst.copyWithin(out, from, from + matchLen);
      out += matchLen;
    } else {
      // Overlapping copy (e.g. offset 1 repeats one byte): byte by byte, forwards.
      for (let k = 0; k < matchLen; k++) dst[out++] = dst[from++];
    }
  }
  if (out !== uncompressedSize)
    throw new Lz4FormatError(`decompressed ${out} bytes, expected ${uncompressedSize}`);
  return dst;
}
