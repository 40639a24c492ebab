import { AckTimeoutTracker } from './ack-timeout-tracker';
import { Backoff } from './backoff';
import { NegativeAckTracker } from './negative-ack-tracker';
import { PulsarErrorCode } from './pulsar-error';
import { ReceiverQueue } from './receiver-queue';
import { Semaphore } from './semaphore';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ReceiverQueue', () => {
  it('hands items to waiting receivers first, in order, and reports dequeues', async () => {
    const dequeued: number[] = [];
    const q = new ReceiverQueue<number>((n) => dequeued.push(n));
    const first = q.receive();
    const second = q.receive();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(q.size).toBe(1);
    expect(await q.receive()).toBe(3);
    expect(dequeued).toEqual([1, 2, 3]);
  });

  it('times out a receive and removes its waiter', async () => {
    const q = new ReceiverQueue<number>();
    await expect(q.receive(20)).rejects.toMatchObject({ code: PulsarErrorCode.OPERATION_TIMEOUT });
    expect(q.waiting).toBe(0);
    q.push(5);
    expect(q.size).toBe(1);
  });

  it('removes matching items and rejects receivers on close', async () => {
    const q = new ReceiverQueue<number>();
    [1, 2, 3, 4].forEach((n) => q.push(n));
    expect(q.removeWhere((n) => n % 2 === 0)).toEqual([2, 4]);
    expect(await q.receive()).toBe(1);
    expect(await q.receive()).toBe(3);
    const pending = q.receive();
    q.close();
    await expect(pending).rejects.toMatchObject({ code: PulsarErrorCode.ALREADY_CLOSED });
    await expect(q.receive()).rejects.toMatchObject({ code: PulsarErrorCode.ALREADY_CLOSED });
  });
});

describe('Semaphore', () => {
  it('blocks beyond its permits and wakes waiters in FIFO order', async () => {
    const s = new Semaphore(2);
    await s.acquire();
    await s.acquire();
    const order: string[] = [];
    const a = s.acquire().then(() => order.push('a'));
    const b = s.acquire().then(() => order.push('b'));
    await sleep(5);
    expect(order).toEqual([]);
    expect(s.queued).toBe(2);
    s.release();
    await a;
    expect(order).toEqual(['a']);
    s.release();
    await b;
    expect(order).toEqual(['a', 'b']);
    expect(s.used).toBe(2);
  });

  it('rejects waiters when closed', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const waiting = s.acquire();
    s.close();
    await expect(waiting).rejects.toMatchObject({ code: PulsarErrorCode.ALREADY_CLOSED });
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay up to the maximum, with jitter in [d/2, d]', () => {
    const low = new Backoff(100, 1000, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff(100, 1000, () => 1);
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1000]);
    high.reset();
    expect(high.next()).toBe(100);
    const real = new Backoff(100, 30_000);
    for (let i = 0; i < 100; i++) expect(real.next()).toBeLessThanOrEqual(30_000);
  });
});

describe('AckTimeoutTracker', () => {
  it('reports items not removed within the timeout, once', async () => {
    const expired: string[][] = [];
    const t = new AckTimeoutTracker<string>(60, (items) => expired.push(items), 20);
    t.add('a', 'a');
    t.add('b', 'b');
    t.remove('b');
    await sleep(150);
    expect(expired).toEqual([['a']]);
    expect(t.size).toBe(0);
    t.clear();
  });
});

describe('NegativeAckTracker', () => {
  it('reports items after the delay, grouped, deduplicated by key', async () => {
    const due: string[][] = [];
    const t = new NegativeAckTracker<string>(50, (items) => due.push(items));
    t.add('x', 'x1');
    t.add('y', 'y');
    t.add('x', 'x2');
    await sleep(20);
    expect(due).toEqual([]);
    await sleep(80);
    expect(due).toEqual([['y', 'x2']]);
    t.add('z', 'z');
    t.remove('z');
    await sleep(80);
    expect(due).toHaveLength(1);
    t.clear();
  });
});
