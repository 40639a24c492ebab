import type { SubscribeOptions } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { resolveSubscribeOptions } from './subscribe-options';

const handler = (): void => undefined;
const base: SubscribeOptions = { topic: 'persistent://t/n/jobs', subscription: 'workers', type: 'shared', handler };

describe('resolveSubscribeOptions', () => {
  it('fills in the documented defaults', () => {
    expect(resolveSubscribeOptions(base)).toEqual({
      topic: 'persistent://t/n/jobs',
      subscription: 'workers',
      type: 'shared',
      handler,
      concurrency: 1,
      maxRedeliveries: 5,
      deadLetterTopic: 'persistent://t/n/jobs-workers-DLQ',
      nackRedeliveryDelayMs: 1000,
      ackTimeoutMs: 0,
      initialPosition: 'latest',
      consumerName: undefined,
      durable: true,
      startRollbackMs: 0,
      onDeadLetter: undefined,
    });
  });

  it('keeps given values', () => {
    const onDeadLetter = (): void => undefined;
    const resolved = resolveSubscribeOptions({
      ...base,
      concurrency: 4,
      maxRedeliveries: 0,
      deadLetterTopic: 'dead',
      nackRedeliveryDelayMs: 0,
      ackTimeoutMs: 250,
      initialPosition: 'earliest',
      consumerName: 'worker-1',
      onDeadLetter,
    });
    expect(resolved).toMatchObject({
      concurrency: 4,
      maxRedeliveries: 0,
      deadLetterTopic: 'dead',
      nackRedeliveryDelayMs: 0,
      ackTimeoutMs: 250,
      initialPosition: 'earliest',
      consumerName: 'worker-1',
      onDeadLetter,
    });
  });

  it.each<[string, Partial<SubscribeOptions>]>([
    ['empty topic', { topic: '' }],
    ['fractional concurrency', { concurrency: 1.5 }],
    ['negative nack delay', { nackRedeliveryDelayMs: -1 }],
    ['negative ack timeout', { ackTimeoutMs: -5 }],
    ['unknown initial position', { initialPosition: 'middle' as never }],
    ['empty dead-letter topic', { deadLetterTopic: ' ' }],
    ['non-function onDeadLetter', { onDeadLetter: 'x' as never }],
  ])('rejects %s with INVALID_ARGUMENT', (_what, override) => {
    let error: unknown;
    try {
      resolveSubscribeOptions({ ...base, ...override });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe(BusErrorCode.INVALID_ARGUMENT);
  });
});
