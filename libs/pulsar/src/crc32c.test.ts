import { crc32c } from './crc32c';

/** Bit-at-a-time reference implementation, independent of the sliced tables. */
function slowCrc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check value of "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('is 0 for empty input', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with a bit-at-a-time implementation for every length and offset up to 40', () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 40; len++) {
        const slice = data.subarray(start, start + len);
        expect(crc32c(slice)).toBe(slowCrc32c(slice));
      }
    }
  });

  it('agrees with it on the word path: lengths up to 300 at every 4-byte alignment, and 1 MiB', () => {
    const data = Uint8Array.from({ length: 400 }, (_, i) => (i * 197 + 11) & 0xff);
    for (let start = 0; start < 8; start++) {
      for (let len = 41; len <= 300; len++) {
        const slice = data.subarray(start, start + len);
        expect({ start, len, crc: crc32c(slice) }).toEqual({ start, len, crc: slowCrc32c(slice) });
      }
    }
    // Inside a larger ArrayBuffer at an odd offset, as Buffers from Node's pool are.
    const big = new Uint8Array((1 << 20) + 3);
    let x = 12345;
    for (let i = 0; i < big.length; i++) big[i] = (x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 24;
    const slice = big.subarray(3);
    expect(crc32c(slice)).toBe(slowCrc32c(slice));
    expect(crc32c(slice.subarray(777), crc32c(slice.subarray(0, 777)))).toBe(crc32c(slice));
  });

  it('can be computed incrementally', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    for (const split of [0, 1, 7, 8, 9, 20, data.length]) {
      expect(crc32c(data.subarray(split), crc32c(data.subarray(0, split)))).toBe(crc32c(data));
    }
    expect(crc32c(data)).toBe(0x22620404);
  });
});
