import type { Logger } from '@surrogate/core';
import { Backoff } from './backoff';
import { isAuthError, isRetriable } from './pulsar-error';

export interface ReconnectorOptions {
  /** Opens the connection and re-creates the producer/consumer on it; throws on failure. */
  attempt(): Promise<void>;
  /** True once the owner is closed: stop trying. */
  isClosed(): boolean;
  /** Called when reconnecting is pointless (authentication failed, topic deleted…). */
  onPermanentFailure(err: unknown): void;
  /** Errors that are worth retrying (default: `isRetriable`). Auth errors never are. */
  retriable?(err: unknown): boolean;
  log: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Re-establishes a producer or consumer after its connection is lost: exponential backoff
 * (bounded, jittered), one log line per attempt with its cause, no retry after an authentication
 * failure (no reconnect storm with bad credentials).
 */
export class Reconnector {
  private readonly backoff: Backoff;
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly options: ReconnectorOptions) {
    this.backoff = new Backoff(options.initialBackoffMs ?? 100, options.maxBackoffMs ?? 30_000);
  }

  /** True while a reconnect is scheduled or in progress. */
  get active(): boolean {
    return this.running;
  }

  /** Starts reconnecting because of `cause` (no-op if already reconnecting). */
  start(cause: unknown): void {
    if (this.running || this.options.isClosed()) return;
    this.running = true;
    this.scheduleNext(cause);
  }

  /** Stops any pending attempt. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = false;
  }

  /** Marks the connection healthy again (resets the backoff). */
  succeeded(): void {
    this.backoff.reset();
  }

  private scheduleNext(cause: unknown): void {
    const delayMs = this.backoff.next();
    this.options.log.warn(
      { attempt: this.backoff.attempts, delayMs, cause: describe(cause) },
      'connection lost: reconnecting',
    );
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.options.isClosed()) {
      this.running = false;
      return;
    }
    try {
      await this.options.attempt();
      this.running = false;
      this.backoff.reset();
      this.options.log.info('reconnected');
    } catch (err) {
      if (this.options.isClosed()) {
        this.running = false;
        return;
      }
      const retriable = !isAuthError(err) && (this.options.retriable ?? isRetriable)(err);
      if (!retriable) {
        this.running = false;
        this.options.log.error({ cause: describe(err) }, 'giving up reconnecting');
        this.options.onPermanentFailure(err);
        return;
      }
      this.scheduleNext(err);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error)
    return 'code' in err && typeof err.code === 'string' ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}
