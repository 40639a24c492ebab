import { createLogger } from '@surrogate/core';
import { BrokerError, PulsarError, PulsarErrorCode } from './pulsar-error';
import { Reconnector } from './reconnector';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function setup(failures: unknown[]): {
  r: Reconnector;
  attempts: () => number;
  permanent: unknown[];
  records: string[];
} {
  let attempts = 0;
  const permanent: unknown[] = [];
  const records: string[] = [];
  const log = createLogger({
    name: 't',
    level: 'debug',
    destination: { write: (line: string) => void records.push(line) },
  });
  const r = new Reconnector({
    attempt: async () => {
      const failure = failures[attempts++];
      if (failure) throw failure;
    },
    isClosed: () => false,
    onPermanentFailure: (err) => permanent.push(err),
    log,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
  });
  return { r, attempts: () => attempts, permanent, records };
}

describe('Reconnector', () => {
  it('retries connection errors with backoff until an attempt succeeds, logging each attempt with its cause', async () => {
    const lost = new PulsarError(PulsarErrorCode.CONNECTION_FAILED, 'connection refused');
    const { r, attempts, permanent, records } = setup([lost, lost, undefined]);
    r.start(new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, 'socket closed'));
    await sleep(200);
    expect(attempts()).toBe(3);
    expect(permanent).toEqual([]);
    expect(r.active).toBe(false);
    const tries = records.map((l) => JSON.parse(l)).filter((l) => l.msg === 'connection lost: reconnecting');
    expect(tries.map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(tries[0].cause).toBe('PULSAR_CONNECTION_CLOSED: socket closed');
    expect(tries[1].cause).toBe('PULSAR_CONNECTION_FAILED: connection refused');
  });

  it('gives up at once on an authentication error (no reconnect storm)', async () => {
    const { r, attempts, permanent } = setup([new BrokerError('AuthenticationError', 'bad token')]);
    r.start(new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, 'closed'));
    await sleep(100);
    expect(attempts()).toBe(1);
    expect(permanent).toHaveLength(1);
    expect((permanent[0] as BrokerError).code).toBe('AuthenticationError');
  });

  it('ignores start while active and stops on stop()', async () => {
    const lost = new PulsarError(PulsarErrorCode.CONNECTION_FAILED, 'refused');
    const { r, attempts } = setup(Array(100).fill(lost));
    r.start(lost);
    r.start(lost);
    await sleep(60);
    r.stop();
    const after = attempts();
    await sleep(60);
    expect(attempts()).toBe(after);
  });
});
