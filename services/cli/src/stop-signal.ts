export interface StopSignal {
  /** Resolves at the first SIGTERM or SIGINT. */
  readonly received: Promise<void>;
  /**
   * Gives the signals back to their default action (termination): for a command that fails
   * before it runs, so that a SIGTERM while it closes is not taken as a request to stop gracefully
   * that nobody waits for any more.
   */
  release(): void;
}

/**
 * Catches SIGTERM and SIGINT. Call it before announcing that a service is ready: whoever waits for
 * that announcement may signal at once, and a signal that arrives before the handlers are
 * installed kills the process with its default action instead of stopping it cleanly.
 */
export function stopSignal(): StopSignal {
  let release = (): void => undefined;
  const received = new Promise<void>((resolve) => {
    const onSignal = (): void => {
      release();
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    release = () => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    };
  });
  return { received, release: () => release() };
}
