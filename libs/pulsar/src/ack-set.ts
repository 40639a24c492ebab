/**
 * Batch-index ack sets (PIP-54). A bit set over the indexes of one batch, carried as repeated
 * int64 words (little-endian: index i is bit i % 64 of word i / 64, as java.util.BitSet's
 * toLongArray). A SET bit means "not acknowledged": the broker ANDs the sets it receives, and
 * on dispatch sends the remaining set so that the consumer skips the acknowledged messages.
 */
import type { AckSetWord } from './wire';

/** The set of the indexes in [0, size) that are NOT in `acked` (trailing zero words trimmed, as Java). */
export function unackedSet(size: number, acked: ReadonlySet<number>): AckSetWord[] {
  const words: AckSetWord[] = [];
  for (let base = 0; base < size; base += 64) {
    let low = 0;
    let high = 0;
    for (let bit = 0; bit < 64 && base + bit < size; bit++) {
      if (acked.has(base + bit)) continue;
      if (bit < 32) low |= 1 << bit;
      else high |= 1 << (bit - 32);
    }
    words.push({ low, high });
  }
  while (words.length > 0 && words[words.length - 1].low === 0 && words[words.length - 1].high === 0)
    words.pop();
  return words;
}

/** True when `index` is set (not acknowledged) in `words`. */
export function isUnacked(words: readonly AckSetWord[], index: number): boolean {
  const word = words[Math.floor(index / 64)];
  if (!word) return false;
  const bit = index % 64;
  return bit < 32 ? ((word.low >>> bit) & 1) === 1 : ((word.high >>> (bit - 32)) & 1) === 1;
}
