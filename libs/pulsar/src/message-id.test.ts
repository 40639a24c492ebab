import { MessageId } from './message-id';
import { PulsarError } from './pulsar-error';

describe('MessageId', () => {
  it('prints like the Java client and parses back', () => {
    expect(new MessageId(12, 7).toString()).toBe('12:7:-1');
    expect(new MessageId(12, 7, 3, 4, 10).toString()).toBe('12:7:3:4');
    const parsed = MessageId.parse('12:7:3:4');
    expect(parsed.equals(new MessageId(12, 7, 3, 4))).toBe(true);
    expect(MessageId.parse('12:7').toString()).toBe('12:7:-1');
    expect(() => MessageId.parse('x:1')).toThrow(PulsarError);
    expect(() => MessageId.parse('1')).toThrow(PulsarError);
  });

  it('orders by ledger, entry, batch index', () => {
    const ids = [
      new MessageId(2, 0),
      new MessageId(1, 5, -1, 1),
      new MessageId(1, 5, -1, 0),
      new MessageId(1, 4),
    ];
    expect(ids.sort((a, b) => a.compareTo(b)).map(String)).toEqual([
      '1:4:-1',
      '1:5:-1:0',
      '1:5:-1:1',
      '2:0:-1',
    ]);
  });

  it('takes partition and batch index from the wire unless the client knows better', () => {
    expect(MessageId.fromData({ ledgerId: 1, entryId: 2 }).toString()).toBe('1:2:-1');
    expect(MessageId.fromData({ ledgerId: 1, entryId: 2, partition: -1 }, 3, 0, 2).toString()).toBe(
      '1:2:3:0',
    );
    expect(new MessageId(1, 2, 3, 0).toEntryData()).toEqual({ ledgerId: 1, entryId: 2 });
    expect(new MessageId(1, 2, 3, 0).entryKey()).toBe('1:2');
  });
});
