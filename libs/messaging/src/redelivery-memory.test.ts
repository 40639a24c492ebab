import { RedeliveryMemory } from './redelivery-memory';

describe('RedeliveryMemory', () => {
  it('remembers failures per topic, subscription and message, never lowering the count', () => {
    const memory = new RedeliveryMemory();
    memory.recordFailure('t', 's', '1:0:-1', 2, 'second');
    memory.recordFailure('t', 's', '1:0:-1', 1, 'late');
    expect(memory.get('t', 's', '1:0:-1')).toEqual({ failures: 2, lastError: 'late' });
    expect(memory.get('t', 'other', '1:0:-1')).toBeUndefined();
    memory.forget('t', 's', '1:0:-1');
    expect(memory.get('t', 's', '1:0:-1')).toBeUndefined();
  });

  it('drops the least recently touched entries beyond its capacity', () => {
    const memory = new RedeliveryMemory(2);
    memory.recordFailure('t', 's', 'a', 1, 'x');
    memory.recordFailure('t', 's', 'b', 1, 'x');
    memory.recordFailure('t', 's', 'a', 2, 'y');
    memory.recordFailure('t', 's', 'c', 1, 'x');
    expect(memory.size).toBe(2);
    expect(memory.get('t', 's', 'b')).toBeUndefined();
    expect(memory.get('t', 's', 'a')?.failures).toBe(2);
  });
});
