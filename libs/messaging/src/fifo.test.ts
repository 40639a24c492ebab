import { Fifo } from './fifo';

describe('Fifo', () => {
  it('returns items in insertion order and undefined when empty', () => {
    const queue = new Fifo<number>();
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
    queue.push(1);
    queue.push(2);
    expect(queue.peek()).toBe(1);
    expect(queue.length).toBe(2);
    expect(queue.shift()).toBe(1);
    queue.push(3);
    expect([...queue]).toEqual([2, 3]);
    expect(queue.shift()).toBe(2);
    expect(queue.shift()).toBe(3);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('stays correct across compaction of a long queue', () => {
    const queue = new Fifo<number>();
    for (let i = 0; i < 5000; i += 1) queue.push(i);
    for (let i = 0; i < 3000; i += 1) expect(queue.shift()).toBe(i);
    for (let i = 5000; i < 6000; i += 1) queue.push(i);
    expect(queue.length).toBe(3000);
    expect([...queue]).toEqual(Array.from({ length: 3000 }, (_, i) => i + 3000));
  });
});
