import { type Logger, createLogger } from '@surrogate/core';

export {
  BROKER_START_TIMEOUT_MS,
  PULSAR_SCRIPT,
  admin,
  adminUrl,
  brokerUrl,
  createPartitionedTopic,
  topicStats,
  uniqueTopic,
  unloadTopic,
} from '@surrogate/testing';

/** Quiet logger for tests (LOG_LEVEL=debug to see the client's logs). */
export function testLogger(): Logger {
  return createLogger({ name: 'pulsar-test', level: process.env.LOG_LEVEL ?? 'silent' });
}

/** A logger whose records are kept in `records` (raw JSON lines). */
export function capturingLogger(level = 'debug'): { logger: Logger; records: string[] } {
  const records: string[] = [];
  const logger = createLogger({
    name: 'pulsar-test',
    level,
    destination: { write: (line: string) => void records.push(line) },
  });
  return { logger, records };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` (sync or async) every 20 ms until true; throws after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
