/**
 * Client-side ack timeout: items handed to the application are tracked until acked (or nacked);
 * those still unacked `timeoutMs` after delivery are reported, once, to `onExpired` (which
 * redelivers them). Checked every `tickMs`, so an item expires between timeoutMs and
 * timeoutMs + tickMs after it was added.
 */
export class AckTimeoutTracker<T> {
  private readonly items = new Map<string, { item: T; deadline: number }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: (items: T[]) => void,
    private readonly tickMs = Math.max(20, Math.min(1000, Math.floor(timeoutMs / 4))),
  ) {}

  get size(): number {
    return this.items.size;
  }

  add(key: string, item: T): void {
    this.items.delete(key);
    this.items.set(key, { item, deadline: Date.now() + this.timeoutMs });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  remove(key: string): boolean {
    return this.items.delete(key);
  }

  /** Removes every item matching `predicate`. */
  removeWhere(predicate: (item: T) => boolean): void {
    for (const [key, entry] of this.items) if (predicate(entry.item)) this.items.delete(key);
  }

  clear(): void {
    this.items.clear();
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = Date.now();
    const expired: T[] = [];
    // Insertion order is delivery order (re-adding moves to the end): stop at the first live one.
    for (const [key, entry] of this.items) {
      if (entry.deadline > now) break;
      expired.push(entry.item);
      this.items.delete(key);
    }
    if (this.items.size === 0) this.stop();
    if (expired.length > 0) this.onExpired(expired);
  }
}
