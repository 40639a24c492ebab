import { Lz4FormatError, lz4Compress, lz4CompressBound, lz4Decompress } from './lz4-block';

/** 585 bytes with short and long repeats and incompressible runs. */
function sample(): Buffer {
  return Buffer.concat([
    Buffer.from('Pulsar Pulsar Pulsar! '.repeat(20)),
    Buffer.from(Array.from({ length: 64 }, (_, i) => i)),
    Buffer.from('a'.repeat(76) + ' end.'),
  ]);
}

/** The block the reference `lz4` tool (lz4 -9) wrote for sample(). */
const REFERENCE_BLOCK = Buffer.from(
  '7950756c7361722007002f21201600ff90ff32000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f610100385020656e642e',
  'hex',
);

/** Deterministic pseudo-random bytes. */
function noise(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('lz4 block', () => {
  it('decompresses a block written by the reference lz4 implementation', () => {
    expect(lz4Decompress(REFERENCE_BLOCK, 585)).toEqual(sample());
  });

  it('round-trips data of every kind and size', () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('abcdefghijkl'),
      Buffer.from('abcdefghijklm'),
      Buffer.alloc(1000, 7),
      sample(),
      noise(5000),
      Buffer.concat([noise(70_000, 3), noise(70_000, 3)]), // repeat beyond the 64K window
      Buffer.from(JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ i, name: `item-${i % 17}` })))),
    ];
    for (const input of inputs) {
      const block = lz4Compress(input);
      expect(block.length).toBeLessThanOrEqual(lz4CompressBound(input.length));
      expect(lz4Decompress(block, input.length)).toEqual(input);
    }
  });

  it('actually compresses repetitive data', () => {
    const input = Buffer.from('the same words again and again, '.repeat(500));
    expect(lz4Compress(input).length).toBeLessThan(input.length / 10);
  });

  it('keeps the last five bytes as literals and starts no match in the last 12 (format rules)', () => {
    const input = Buffer.alloc(100, 1);
    const block = lz4Compress(input);
    // Final sequence: token with literal length 12..15 (>= 5), no match part.
    expect(lz4Decompress(block, 100)).toEqual(input);
    expect(block.subarray(block.length - 5)).toEqual(Buffer.alloc(5, 1));
  });

  it('rejects malformed blocks with a typed error', () => {
    expect(() => lz4Decompress(REFERENCE_BLOCK, 584)).toThrow(Lz4FormatError);
    expect(() => lz4Decompress(REFERENCE_BLOCK, 600)).toThrow(Lz4FormatError);
    expect(() => lz4Decompress(REFERENCE_BLOCK.subarray(0, 30), 585)).toThrow(Lz4FormatError);
    expect(() => lz4Decompress(Buffer.from([0x0f, 0x10, 0x00]), 19)).toThrow(/offset/);
  });
});
