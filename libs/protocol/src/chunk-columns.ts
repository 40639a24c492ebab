/**
 * Column-major little-endian float32, the layout of DataChunk.inputs/outputs: column j holds
 * `count` values. Typed arrays use the platform's byte order, so on a big-endian host every value
 * is swapped explicitly.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeColumns(columns: readonly ArrayLike<number>[], count: number): Uint8Array {
  const out = new Float32Array(columns.length * count);
  columns.forEach((col, j) => {
    if (col.length !== count) throw new RangeError(`column ${j} has ${col.length} values, expected ${count}`);
    for (let i = 0; i < count; i++) out[j * count + i] = col[i] as number;
  });
  const bytes = new Uint8Array(out.buffer);
  if (!LITTLE_ENDIAN) swap32(bytes);
  return bytes;
}

/** Splits column-major bytes into `columns` Float32Arrays of `count` values each. */
export function decodeColumns(bytes: Uint8Array, columns: number, count: number): Float32Array[] {
  const expected = columns * count * 4;
  if (bytes.byteLength !== expected) {
    throw new RangeError(
      `expected ${expected} bytes for ${columns} float32 columns of ${count} values, got ${bytes.byteLength}`,
    );
  }
  const copy = new Uint8Array(expected);
  copy.set(bytes);
  if (!LITTLE_ENDIAN) swap32(copy);
  const all = new Float32Array(copy.buffer);
  return Array.from({ length: columns }, (_, j) => all.subarray(j * count, (j + 1) * count));
}

function swap32(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 4) {
    const a = bytes[i] as number;
    const b = bytes[i + 1] as number;
    bytes[i] = bytes[i + 3] as number;
    bytes[i + 1] = bytes[i + 2] as number;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}
