import { CompressionType, decompress } from './compression';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { ZSTD_VECTORS, zstdVectorText } from './test-support/zstd-vectors';
import { ZSTD_WINDOW_FLOOR, scanZstdFrames, zstdDecompress } from './zstd-read';

const text = Buffer.from(zstdVectorText());
const vector = (name: keyof typeof ZSTD_VECTORS): Buffer => Buffer.from(ZSTD_VECTORS[name], 'base64');

function errorOf(fn: () => unknown): PulsarError {
  try {
    fn();
  } catch (err) {
    return err as PulsarError;
  }
  throw new Error('expected an error');
}

describe('ZSTD reader (pure JS, frames written by the reference zstd)', () => {
  it.each(['LEVEL19', 'LEVEL1', 'NO_CONTENT_SIZE', 'STREAMED'] as const)('decodes %s byte-exact', (name) => {
    expect(text.length).toBe(7681);
    const out = zstdDecompress(vector(name), text.length);
    expect(out.equals(text)).toBe(true);
  });

  it('reads the frame headers: content size, window, checksum flag', () => {
    expect(scanZstdFrames(vector('LEVEL19'))).toEqual([
      expect.objectContaining({
        contentSize: 7681,
        hasChecksum: true,
        compressedSize: vector('LEVEL19').length,
      }),
    ]);
    expect(scanZstdFrames(vector('LEVEL1'))[0]).toMatchObject({ contentSize: 7681, hasChecksum: false });
    const [noSize] = scanZstdFrames(vector('NO_CONTENT_SIZE'));
    expect(noSize.contentSize).toBeUndefined();
    expect(noSize.windowSize).toBe(8 * 1024);
    expect(scanZstdFrames(vector('STREAMED'))[0].windowSize).toBe(2 * 1024 * 1024);
  });

  it('decodes several concatenated frames, skippable frames, an empty frame and an RLE block', () => {
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('xyz')]);
    const multi = Buffer.concat([vector('LEVEL1'), skippable, vector('LEVEL19')]);
    expect(scanZstdFrames(multi)).toHaveLength(2);
    expect(zstdDecompress(multi, 2 * text.length).equals(Buffer.concat([text, text]))).toBe(true);
    expect(zstdDecompress(vector('EMPTY'), 0)).toHaveLength(0);
    expect(zstdDecompress(vector('RLE'), 5000).equals(Buffer.alloc(5000, 'a'))).toBe(true);
  });

  it('is what decompress() uses for CompressionType.ZSTD (or node:zlib, with the same result)', () => {
    expect(decompress(CompressionType.ZSTD, vector('LEVEL19'), text.length).equals(text)).toBe(true);
  });

  it('rejects a size that disagrees with the metadata, in either direction', () => {
    // Declared content size larger than the metadata: refused before decoding.
    const declared = errorOf(() => zstdDecompress(vector('LEVEL19'), text.length - 1));
    expect(declared.code).toBe(PulsarErrorCode.COMPRESSION_ERROR);
    expect(declared.message).toContain('7681');
    // No declared size: decoding stops as soon as the output would exceed the metadata's size.
    const more = errorOf(() => zstdDecompress(vector('NO_CONTENT_SIZE'), 100));
    expect(more.code).toBe(PulsarErrorCode.COMPRESSION_ERROR);
    expect(more.message).toMatch(/more than the 100 bytes/);
    const less = errorOf(() => zstdDecompress(vector('LEVEL19'), text.length + 5));
    expect(less.message).toMatch(/decompressed to 7681 bytes, the metadata says 7686/);
  });

  it('rejects truncated, foreign and hostile frames with COMPRESSION_ERROR', () => {
    const frame = vector('LEVEL19');
    for (const cut of [3, 5, 8, 100, frame.length - 1]) {
      const err = errorOf(() => zstdDecompress(frame.subarray(0, cut), text.length));
      expect({ cut, code: err.code }).toEqual({ cut, code: PulsarErrorCode.COMPRESSION_ERROR });
    }
    expect(errorOf(() => zstdDecompress(Buffer.from('definitely not zstd'), 10)).message).toMatch(/magic/);
    // A window of 2^30 bytes for a 100-byte message: refused before the decoder allocates it.
    const hugeWindow = Buffer.from(vector('NO_CONTENT_SIZE'));
    hugeWindow[5] = (30 - 10) << 3;
    const err = errorOf(() => zstdDecompress(hugeWindow, 100));
    expect(err.message).toContain(`exceeds the ${ZSTD_WINDOW_FLOOR}-byte limit`);
    // Reserved block type 3.
    const reserved = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, 0x07, 0x00, 0x00]);
    expect(errorOf(() => zstdDecompress(reserved, 5)).message).toMatch(/reserved block type/);
    // Corrupt compressed content inside a well-formed frame.
    const garbled = Buffer.from(frame);
    for (let i = 20; i < 60; i++) garbled[i] ^= 0x5a;
    expect(errorOf(() => zstdDecompress(garbled, text.length)).code).toBe(PulsarErrorCode.COMPRESSION_ERROR);
  });
});
