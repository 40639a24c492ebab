/**
 * Resolves at the first SIGTERM or SIGINT. Call it before announcing that a service is ready:
 * whoever waits for that announcement may signal at once, and a signal that arrives before the
 * handlers are installed kills the process with its default action instead of stopping it cleanly.
 */
export function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}
