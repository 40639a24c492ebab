/**
 * Key hashes of the Java client, so that a key lands on the same partition whichever client
 * published it: JavaStringHash (String.hashCode, the Java client's default hashing scheme) and
 * Murmur3_32Hash (murmur3 x86 32-bit, seed 0, of the UTF-8 bytes). Both are masked to 31 bits.
 */

export type HashingScheme = 'java-string' | 'murmur3-32';

/** Java's String.hashCode over UTF-16 code units, & Integer.MAX_VALUE. */
export function javaStringHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h & 0x7fffffff;
}

/** MurmurHash3 x86_32 of `data` with `seed` (unmasked, unsigned). */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = data.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= data[blocks + 2] << 16;
    if (tail >= 2) k ^= data[blocks + 1] << 8;
    k ^= data[blocks];
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function murmur3Hash(key: string): number {
  return murmur3x86_32(Buffer.from(key, 'utf8'), 0) & 0x7fffffff;
}

export function keyHash(scheme: HashingScheme, key: string): number {
  return scheme === 'murmur3-32' ? murmur3Hash(key) : javaStringHash(key);
}
