/**
 * Negative acks wait `delayMs` before their messages are redelivered, so that a failing message
 * is not retried in a tight loop. Items due at about the same time are reported together.
 */
export class NegativeAckTracker<T> {
  private readonly items = new Map<string, { item: T; due: number }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly delayMs: number,
    private readonly onDue: (items: T[]) => void,
  ) {}

  get size(): number {
    return this.items.size;
  }

  add(key: string, item: T): void {
    this.items.delete(key);
    this.items.set(key, { item, due: Date.now() + this.delayMs });
    this.arm();
  }

  remove(key: string): boolean {
    return this.items.delete(key);
  }

  clear(): void {
    this.items.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer) return;
    const first = this.items.values().next();
    if (first.done) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, first.value.due - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    // Same delay for all: insertion order is due order. Group what falls due within 10 ms.
    const horizon = Date.now() + 10;
    const due: T[] = [];
    for (const [key, entry] of this.items) {
      if (entry.due > horizon) break;
      due.push(entry.item);
      this.items.delete(key);
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }
}
