import { isUnacked, unackedSet } from './ack-set';
import { ackSetForWire, decodeCommand, encodeCommandBody, CommandType, proto } from './wire';

describe('batch-index ack sets', () => {
  it('sets the bits of the unacknowledged indexes, little-endian in 64-bit words (java.util.BitSet layout)', () => {
    // Indexes 1, 4, 5, 6, 8, 9 unacked: 2 + 16 + 32 + 64 + 256 + 512.
    expect(unackedSet(10, new Set([0, 2, 3, 7]))).toEqual([{ low: 882, high: 0 }]);
    // All 64 bits of a full word, including the sign bit of both halves.
    expect(unackedSet(64, new Set())).toEqual([{ low: -1, high: -1 }]);
    // Index 63 alone is the int64 sign bit; index 65 is bit 1 of the second word.
    expect(unackedSet(64, new Set(Array.from({ length: 63 }, (_, i) => i)))).toEqual([
      { low: 0, high: -2147483648 },
    ]);
    const all70 = new Set(Array.from({ length: 70 }, (_, i) => i));
    all70.delete(65);
    expect(unackedSet(70, all70)).toEqual([
      { low: 0, high: 0 },
      { low: 2, high: 0 },
    ]);
  });

  it('trims trailing empty words (as BitSet.toLongArray), down to nothing when all are acked', () => {
    const upper = new Set(Array.from({ length: 64 }, (_, i) => 64 + i));
    expect(unackedSet(128, upper)).toEqual([{ low: -1, high: -1 }]);
    expect(unackedSet(5, new Set([0, 1, 2, 3, 4]))).toEqual([]);
  });

  it('reads back what it writes, and survives the wire as int64', () => {
    const acked = new Set([0, 31, 32, 63, 64, 99]);
    const words = unackedSet(100, acked);
    for (let i = 0; i < 100; i++)
      expect({ i, unacked: isUnacked(words, i) }).toEqual({ i, unacked: !acked.has(i) });
    expect(isUnacked(words, 100)).toBe(false);
    const bytes = encodeCommandBody({
      type: CommandType.ACK,
      ack: {
        consumerId: 1,
        ackType: proto.CommandAck.AckType.Individual,
        messageId: [{ ledgerId: 7, entryId: 9, ackSet: ackSetForWire(words) }],
      },
    });
    const back = decodeCommand(bytes).ack?.messageId?.[0];
    expect(back?.ackSet).toEqual(words);
  });
});
