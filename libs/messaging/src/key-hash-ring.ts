/** 32-bit FNV-1a over the string's UTF-16 code units, finished with murmur3's avalanche step. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Points each member has on the ring; more points, more even spread. */
const POINTS_PER_MEMBER = 64;

/**
 * Consistent hashing of keys over a set of members: a key maps to the same member while the set is
 * unchanged, and when a member leaves only its keys move.
 */
export class KeyHashRing<M extends { readonly id: number }> {
  private readonly points: { hash: number; member: M }[] = [];

  constructor(members: Iterable<M>) {
    for (const member of members) {
      for (let i = 0; i < POINTS_PER_MEMBER; i += 1) this.points.push({ hash: hash32(`${member.id}#${i}`), member });
    }
    this.points.sort((a, b) => a.hash - b.hash || a.member.id - b.member.id);
  }

  get size(): number {
    return this.points.length / POINTS_PER_MEMBER;
  }

  /** The member owning `key`, or undefined for an empty ring. */
  lookup(key: string): M | undefined {
    if (this.points.length === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid].hash < h) lo = mid + 1;
      else hi = mid;
    }
    return this.points[lo === this.points.length ? 0 : lo].member;
  }
}
