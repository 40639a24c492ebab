import { type HashingScheme, keyHash } from './key-hash';

/**
 * Picks the partition of a message: by key hash when it has a key (so a key always lands on the
 * same partition, with the Java client's hash), round-robin otherwise.
 */
export class MessageRouter {
  private next: number;

  constructor(
    private readonly partitions: number,
    private readonly scheme: HashingScheme = 'java-string',
    start = Math.floor(Math.random() * partitions),
  ) {
    this.next = start;
  }

  choose(key?: string): number {
    if (key !== undefined) return keyHash(this.scheme, key) % this.partitions;
    const p = this.next % this.partitions;
    this.next = (this.next + 1) % this.partitions;
    return p;
  }
}
