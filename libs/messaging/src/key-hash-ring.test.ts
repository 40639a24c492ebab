import { KeyHashRing, hash32 } from './key-hash-ring';

const members = (...ids: number[]): { id: number }[] => ids.map((id) => ({ id }));
const keys = Array.from({ length: 2000 }, (_, i) => `experiment-${i}`);

describe('hash32', () => {
  it('is deterministic, unsigned 32-bit, and sensitive to every character', () => {
    expect(hash32('abc')).toBe(hash32('abc'));
    expect(hash32('abc')).not.toBe(hash32('abd'));
    expect(hash32('abc')).not.toBe(hash32('bbc'));
    for (const key of keys.slice(0, 50)) {
      const h = hash32(key);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });
});

describe('KeyHashRing', () => {
  it('has no owner for any key when empty', () => {
    const ring = new KeyHashRing(members());
    expect(ring.size).toBe(0);
    expect(ring.lookup('anything')).toBeUndefined();
  });

  it('maps a key to the same member every time', () => {
    const ring = new KeyHashRing(members(1, 2, 3));
    for (const key of keys.slice(0, 100)) expect(ring.lookup(key)).toBe(ring.lookup(key));
  });

  it('spreads keys roughly evenly', () => {
    const set = members(1, 2, 3);
    const ring = new KeyHashRing(set);
    expect(ring.size).toBe(3);
    const counts = new Map<number, number>();
    for (const key of keys) {
      const owner = ring.lookup(key) as { id: number };
      counts.set(owner.id, (counts.get(owner.id) ?? 0) + 1);
    }
    for (const member of set) {
      expect(counts.get(member.id) ?? 0).toBeGreaterThan(keys.length * 0.2);
      expect(counts.get(member.id) ?? 0).toBeLessThan(keys.length * 0.47);
    }
  });

  it("moves only the leaving member's keys", () => {
    const [a, b, c] = members(7, 8, 9);
    const before = new KeyHashRing([a, b, c]);
    const after = new KeyHashRing([a, c]);
    let moved = 0;
    for (const key of keys) {
      const was = before.lookup(key);
      const now = after.lookup(key);
      if (was === b) moved += 1;
      else expect(now).toBe(was);
      expect(now).not.toBe(b);
    }
    expect(moved).toBeGreaterThan(0);
  });
});
