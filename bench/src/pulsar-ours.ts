/**
 * Our side of `surrogate bench pulsar`: the libs/pulsar client driven the way pulsar-perf drives
 * the Java client, and measured the same way.
 *
 * - produce: one producer sends the same payload as fast as the pending-message limit allows (as
 *   pulsar-perf with blockIfQueueFull), for `seconds`; the count is every message that got its
 *   receipt, including the ones still in flight at the deadline, over the sending time.
 * - consume: one exclusive consumer reads a subscription's backlog from the start and acks every
 *   message, until it has `messages`; the time runs from the subscription to the last message.
 */
import { PulsarClient } from '@surrogate/pulsar';
import { BenchError } from './bench-error';
import type { PerfRun, PerfSettings } from './pulsar-perf';

/** The payload both sides send: `size` bytes of letters (pulsar-perf sends random letters). */
export function benchPayload(size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = 65 + ((i * 7) % 26);
  return payload;
}

export async function ourProduce(
  client: PulsarClient,
  settings: PerfSettings,
  topic: string,
  seconds: number,
): Promise<PerfRun> {
  const producer = await client.createProducer({
    topic,
    maxPendingMessages: settings.maxPending,
    sendTimeoutMs: 0,
    batching: settings.batching
      ? {
          maxMessages: settings.batchMaxMessages,
          maxBytes: settings.batchMaxBytes,
          maxPublishDelayMs: settings.batchDelayMs,
          keyBased: false,
        }
      : false,
  });
  const payload = benchPayload(settings.size);
  const message = { payload };
  let acked = 0;
  let failure: unknown;
  const onReceipt = (): void => {
    acked++;
  };
  const onError = (err: unknown): void => {
    failure ??= err;
  };
  // Receipts come in order, so waiting for the oldest pending send frees one slot.
  const window: Promise<unknown>[] = new Array(settings.maxPending);
  let head = 0;
  let inFlight = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let sent = 0;
  while (failure === undefined) {
    if ((sent & 63) === 0 && performance.now() >= deadline) break;
    if (inFlight === settings.maxPending) {
      await window[head];
      inFlight--;
      head = (head + 1) % settings.maxPending;
    }
    const pending = producer.send(message);
    pending.then(onReceipt, onError);
    window[(head + inFlight) % settings.maxPending] = pending;
    inFlight++;
    sent++;
  }
  const elapsed = (Math.max(performance.now(), deadline) - start) / 1000;
  await producer.flush().catch(onError);
  await producer.close();
  if (failure !== undefined)
    throw new BenchError('BENCH_FAILED', `our producer failed on ${topic}: ${(failure as Error).message}`, {
      cause: failure,
    });
  return { messages: acked, seconds: elapsed };
}

export async function ourConsume(
  client: PulsarClient,
  settings: PerfSettings,
  topic: string,
  subscription: string,
  messages: number,
  timeLimitSeconds: number,
): Promise<PerfRun> {
  const consumer = await client.subscribe({
    topic,
    subscription,
    type: 'exclusive',
    initialPosition: 'earliest',
    receiverQueueSize: settings.receiverQueueSize,
    batchIndexAck: false,
  });
  const start = performance.now();
  let received = 0;
  // One watchdog instead of a timer per receive: closing the consumer ends a stuck receive.
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    void consumer.close();
  }, timeLimitSeconds * 1000);
  try {
    while (received < messages) {
      const message = await consumer.receive();
      received++;
      void consumer.ack(message);
    }
  } catch (err) {
    const why = timedOut ? `no more messages within ${timeLimitSeconds} s` : (err as Error).message;
    throw new BenchError(
      'BENCH_FAILED',
      `our consumer got ${received} of ${messages} messages on ${topic}: ${why}`,
      { cause: err },
    );
  } finally {
    clearTimeout(watchdog);
  }
  const seconds = (performance.now() - start) / 1000;
  await consumer.unsubscribe();
  return { messages: received, seconds };
}
