/**
 * Exponential backoff with full jitter in [delay/2, delay], bounded by `maxMs`:
 * 100, 200, 400 … ms, then about `maxMs` forever. `reset()` after a success.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next attempt. */
  next(): number {
    const exp = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(exp / 2 + (exp / 2) * this.random());
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
