import { TrainingSlots } from './training-slots';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('TrainingSlots', () => {
  it('grants at most `limit` at once, the others in the order they asked, each as one gives its slot back', async () => {
    const slots = new TrainingSlots(2);
    const order: string[] = [];
    const take = (name: string): Promise<() => void> =>
      slots.acquire(new AbortController().signal).then((release) => {
        order.push(name);
        return release;
      });
    const a = take('a');
    const b = take('b');
    const c = take('c');
    const d = take('d');
    await tick();
    expect(order).toEqual(['a', 'b']);
    expect([slots.running, slots.queued]).toEqual([2, 2]);
    const releaseB = await b;
    releaseB();
    releaseB(); // twice is once
    await tick();
    expect(order).toEqual(['a', 'b', 'c']);
    expect([slots.running, slots.queued]).toEqual([2, 1]);
    (await a)();
    await tick();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    (await c)();
    (await d)();
    expect([slots.running, slots.queued]).toEqual([0, 0]);
  });

  it('gives up a wait whose signal aborts, and its place goes to the next', async () => {
    const slots = new TrainingSlots(1);
    const release = await slots.acquire(new AbortController().signal);
    const cancel = new AbortController();
    const given = slots.acquire(cancel.signal);
    const next = slots.acquire(new AbortController().signal);
    cancel.abort();
    await expect(given).rejects.toMatchObject({ code: 'TRAINING_SLOT_WAIT_ABORTED' });
    expect(slots.queued).toBe(1);
    release();
    (await next)();
    expect(slots.running).toBe(0);
    const aborted = new AbortController();
    aborted.abort();
    await expect(slots.acquire(aborted.signal)).rejects.toMatchObject({ code: 'TRAINING_SLOT_WAIT_ABORTED' });
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) expect(() => new TrainingSlots(limit)).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
