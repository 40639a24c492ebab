import { javaStringHash, murmur3Hash, murmur3x86_32 } from './key-hash';
import { MessageRouter } from './message-router';

describe('key hashes', () => {
  it('JavaStringHash equals Java String.hashCode() & Integer.MAX_VALUE', () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('hello')).toBe(99162322);
    // "polygenelubricants".hashCode() == Integer.MIN_VALUE, masked to 0.
    expect(javaStringHash('polygenelubricants')).toBe(0);
    // Non-ASCII: hashed over UTF-16 code units, as Java does. "é".hashCode() == 233.
    expect(javaStringHash('é')).toBe(233);
  });

  it('murmur3 x86_32 matches the reference vectors', () => {
    expect(murmur3x86_32(Buffer.from(''), 0)).toBe(0);
    expect(murmur3x86_32(Buffer.from(''), 1)).toBe(0x514e28b7);
    expect(murmur3x86_32(Buffer.from('hello'), 0)).toBe(0x248bfa47);
    expect(murmur3x86_32(Buffer.from('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x2e4ff723);
    expect(murmur3Hash('hello')).toBe(0x248bfa47 & 0x7fffffff);
  });
});

describe('MessageRouter', () => {
  it('sends a key always to the same partition', () => {
    const router = new MessageRouter(5);
    expect(router.choose('hello')).toBe(99162322 % 5);
    for (let i = 0; i < 10; i++) expect(router.choose('hello')).toBe(router.choose('hello'));
  });

  it('round-robins messages without a key', () => {
    const router = new MessageRouter(3, 'java-string', 1);
    expect([router.choose(), router.choose(), router.choose(), router.choose()]).toEqual([1, 2, 0, 1]);
  });
});
