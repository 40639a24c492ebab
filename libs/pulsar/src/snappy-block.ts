/**
 * Decoder of the raw Snappy block format (what Pulsar's SNAPPY codec writes): a varint with the
 * uncompressed length, then literals and back-references. Read-only: this client never writes
 * Snappy.
 */

export class SnappyFormatError extends Error {}

export function snappyDecompress(src: Uint8Array): Buffer {
  let i = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (i >= src.length || shift > 28) throw new SnappyFormatError('bad length preamble');
    const byte = src[i++];
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  const dst = Buffer.allocUnsafe(length);
  let out = 0;
  const readLe = (n: number): number => {
    if (i + n > src.length) throw new SnappyFormatError('truncated input');
    let v = 0;
    for (let k = 0; k < n; k++) v += src[i + k] * 2 ** (8 * k);
    i += n;
    return v;
  };
  while (i < src.length) {
    const tag = src[i++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      len = len < 60 ? len + 1 : readLe(len - 59) + 1;
      if (i + len > src.length || out + len > length) throw new SnappyFormatError('literal out of bounds');
      dst.set(src.subarray(i, i + len), out);
      i += len;
      out += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | readLe(1);
    } else {
      len = (tag >>> 2) + 1;
      offset = readLe(kind === 2 ? 2 : 4);
    }
    if (offset === 0 || offset > out || out + len > length) throw new SnappyFormatError('copy out of bounds');
    for (let k = 0; k < len; k++, out++) dst[out] = dst[out - offset];
  }
  if (out !== length) throw new SnappyFormatError(`decompressed ${out} bytes, expected ${length}`);
  return dst;
}
