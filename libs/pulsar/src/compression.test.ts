import { CompressionType, compress, compressionTypeOf, decompress } from './compression';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { snappyDecompress } from './snappy-block';

const text = Buffer.from('{"experimentId":"e-1","chunkIndex":7,"values":[1,2,3,4,5,6,7,8]}'.repeat(40));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PulsarError ? err.code : `not a PulsarError: ${String(err)}`;
  }
  return undefined;
}

describe('compression', () => {
  it.each(['none', 'zlib', 'lz4'] as const)('round-trips %s', (name) => {
    const type = compressionTypeOf(name);
    const packed = compress(type, text);
    if (name !== 'none') expect(packed.length).toBeLessThan(text.length / 4);
    expect(decompress(type, packed, text.length)).toEqual(text);
  });

  it('reads zlib streams written by another implementation (zlib header, as java.util.zip.Deflater)', () => {
    const fromPython = Buffer.from('789ccb48cdc9c957c84022ab72329314d28af273150a2a4b32f2f300df1d0ce4', 'hex');
    expect(decompress(CompressionType.ZLIB, fromPython, 34).toString()).toBe(
      'hello hello hello zlib from python',
    );
    expect(compress(CompressionType.ZLIB, text)[0]).toBe(0x78);
  });

  it('reads unfinished zlib streams (the Java client deflates with SYNC_FLUSH and never finishes)', () => {
    const syncFlushed = Buffer.from(
      '789cca48cdc9c957c84022b312cb12158a2bf39215d2724a8b3300000000ffff',
      'hex',
    );
    expect(decompress(CompressionType.ZLIB, syncFlushed, 33).toString()).toBe(
      'hello hello hello java sync flush',
    );
  });

  it('rejects a payload whose size differs from the metadata, and garbage, with COMPRESSION_ERROR', () => {
    const packed = compress(CompressionType.ZLIB, text);
    expect(codeOf(() => decompress(CompressionType.ZLIB, packed, text.length - 1))).toBe(
      PulsarErrorCode.COMPRESSION_ERROR,
    );
    expect(codeOf(() => decompress(CompressionType.LZ4, Buffer.from([0xff, 1, 2]), 10))).toBe(
      PulsarErrorCode.COMPRESSION_ERROR,
    );
    expect(codeOf(() => decompress(CompressionType.ZLIB, Buffer.from('not zlib'), 10))).toBe(
      PulsarErrorCode.COMPRESSION_ERROR,
    );
  });

  it('reads ZSTD on every Node version', () => {
    const frame = Buffer.from(
      '28b52ffd2443f50000b87a737464206672616d6520666f722070756c7361722c2001005373360111736263',
      'hex',
    );
    const expected = 'zstd frame for pulsar, zstd frame for pulsar, zstd frame for pulsar';
    expect(decompress(CompressionType.ZSTD, frame, expected.length).toString()).toBe(expected);
  });

  it('names an unknown codec with UNSUPPORTED_COMPRESSION', () => {
    const err = (() => {
      try {
        decompress(9, text, text.length);
      } catch (e) {
        return e as PulsarError;
      }
      throw new Error('no error');
    })();
    expect(err.code).toBe(PulsarErrorCode.UNSUPPORTED_COMPRESSION);
    expect(err.message).toContain('codec 9');
    expect(err.details).toMatchObject({ compression: 9 });
  });

  it('refuses to write codecs it cannot write', () => {
    expect(codeOf(() => compress(CompressionType.ZSTD, text))).toBe(PulsarErrorCode.UNSUPPORTED_COMPRESSION);
    expect(codeOf(() => compressionTypeOf('brotli' as never))).toBe(PulsarErrorCode.INVALID_ARGUMENT);
  });
});

describe('snappy block decoder', () => {
  it('decodes literals and 1-, 2- and 4-byte-offset copies (blocks built by hand from the format description)', () => {
    // "abc" literal, then copy len 9 offset 3 (1-byte offset form) => "abcabcabcabc"
    expect(snappyDecompress(Buffer.from([12, 0x08, 0x61, 0x62, 0x63, (5 << 2) | 1, 3])).toString()).toBe(
      'abcabcabcabc',
    );
    // "xy" literal, copy len 6 offset 2 (2-byte offset form) => "xyxyxyxy"
    expect(snappyDecompress(Buffer.from([8, 0x04, 0x78, 0x79, (5 << 2) | 2, 2, 0])).toString()).toBe(
      'xyxyxyxy',
    );
    // "q" literal, copy len 3 offset 1 (4-byte offset form) => "qqqq"
    expect(snappyDecompress(Buffer.from([4, 0x00, 0x71, (2 << 2) | 3, 1, 0, 0, 0])).toString()).toBe('qqqq');
    // 70-byte literal with a 1-byte length (tag 60)
    const long = Buffer.alloc(70, 0x7a);
    expect(snappyDecompress(Buffer.concat([Buffer.from([70, 60 << 2, 69]), long]))).toEqual(long);
  });

  it('decodes through the codec switch and rejects bad input', () => {
    expect(
      decompress(
        CompressionType.SNAPPY,
        Buffer.from([4, 0x00, 0x71, (2 << 2) | 3, 1, 0, 0, 0]),
        4,
      ).toString(),
    ).toBe('qqqq');
    expect(
      codeOf(() =>
        decompress(CompressionType.SNAPPY, Buffer.from([4, 0x00, 0x71, (2 << 2) | 3, 9, 0, 0, 0]), 4),
      ),
    ).toBe(PulsarErrorCode.COMPRESSION_ERROR);
  });
});
