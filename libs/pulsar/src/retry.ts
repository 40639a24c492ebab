import { Backoff } from './backoff';
import { isAuthError, isRetriable } from './pulsar-error';

/**
 * Runs `attempt` until it succeeds, a non-retriable error occurs, or `timeoutMs` has passed
 * (then the last error is thrown). Used to create producers and consumers, which may race with
 * topic loading on the broker (ServiceNotReady) or a broker restart.
 */
export async function retryUntil<T>(
  attempt: () => Promise<T>,
  options: {
    timeoutMs: number;
    initialBackoffMs: number;
    maxBackoffMs: number;
    retriable?: (err: unknown) => boolean;
  },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const backoff = new Backoff(options.initialBackoffMs, options.maxBackoffMs);
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const retriable = !isAuthError(err) && (options.retriable ?? isRetriable)(err);
      const delay = backoff.next();
      if (!retriable || Date.now() + delay >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
