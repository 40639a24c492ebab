import { decodeSingleMetadata, encodeSingleMetadata } from './single-message-metadata';
import {
  type SingleMessageMetadata,
  decodeSingleMessageMetadata,
  encodeSingleMessageMetadata,
  proto,
} from './wire';

/** Deterministic pseudo-random numbers for the cases. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    return (x >>> 8) / (1 << 24);
  };
}

/** protobufjs gives every message an own `properties` array; ours only when there are properties. */
const norm = (m: SingleMessageMetadata): SingleMessageMetadata => ({ ...m, properties: m.properties ?? [] });

const STRINGS = ['', 'k', 'key-1', 'ünïcödé ✓', '🔑'.repeat(40), 'x'.repeat(200)];
const NUMBERS = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 32, 2 ** 40 + 5, 2 ** 53 - 1];

describe('hand-written SingleMessageMetadata codec (checked against the protobufjs codec)', () => {
  it('writes the same bytes as protobufjs for the fields the producer sets', () => {
    const next = rng(42);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
    for (let n = 0; n < 500; n++) {
      const properties: Record<string, string> = {};
      const count = Math.floor(next() * 4);
      for (let i = 0; i < count; i++) properties[`${pick(STRINGS)}${i}`] = pick(STRINGS);
      const partitionKey = next() < 0.5 ? pick(STRINGS) : undefined;
      const eventTime = next() < 0.5 ? pick(NUMBERS) : undefined;
      const payloadSize =
        next() < 0.1 ? -1 - Math.floor(next() * 1000) : pick(NUMBERS.filter((x) => x < 2 ** 31));
      const sequenceId = pick(NUMBERS);
      const ours = encodeSingleMetadata({
        properties: count > 0 || next() < 0.5 ? properties : undefined,
        partitionKey,
        payloadSize,
        eventTime,
        sequenceId,
      });
      const reference = Buffer.from(
        encodeSingleMessageMetadata({
          properties: Object.entries(properties).map(([key, value]) => ({ key, value })),
          ...(partitionKey === undefined ? {} : { partitionKey }),
          payloadSize,
          ...(eventTime === undefined ? {} : { eventTime }),
          sequenceId,
        }),
      );
      expect({ n, hex: ours.toString('hex') }).toEqual({ n, hex: reference.toString('hex') });
      expect({ n, decoded: norm(decodeSingleMetadata(ours)) }).toEqual({
        n,
        decoded: norm(decodeSingleMessageMetadata(reference)),
      });
    }
  });

  it('reads every field protobufjs writes, including the ones it skips or never writes', () => {
    const full = {
      properties: [
        { key: 'a', value: '1' },
        { key: 'ü', value: '' },
      ],
      partitionKey: 'pk',
      payloadSize: 17,
      compactedOut: true,
      eventTime: 2 ** 41,
      partitionKeyB64Encoded: true,
      orderingKey: Buffer.from([1, 2, 3]),
      sequenceId: 2 ** 45 + 3,
      nullValue: true,
      nullPartitionKey: false,
    };
    const bytes = Buffer.from(proto.SingleMessageMetadata.encode(full).finish());
    const decoded = decodeSingleMetadata(bytes);
    expect({ ...decoded, orderingKey: [...(decoded.orderingKey ?? [])] }).toEqual({
      ...full,
      orderingKey: [1, 2, 3],
    });
    // Unknown fields (here: numbers 15 varint, 16 length-delimited, 17 fixed64, 18 fixed32) are skipped.
    const unknown = Buffer.concat([
      Buffer.from([15 << 3, 0x96, 0x01]),
      Buffer.from([(16 << 3) | 2, 0x01, 3, 65, 66, 67]),
      Buffer.from([(17 << 3) | 1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]),
      Buffer.from([(18 << 3) | 5, 0x01, 1, 2, 3, 4]),
    ]);
    expect(decodeSingleMetadata(Buffer.concat([unknown, bytes]))).toEqual(decoded);
  });

  it('rejects truncated input and a missing payload_size', () => {
    const bytes = encodeSingleMetadata({
      properties: { key: 'value' },
      partitionKey: 'k',
      payloadSize: 3,
      eventTime: 9,
      sequenceId: 4,
    });
    // Cut anywhere before payload_size is complete: truncated, or no payload_size.
    const payloadSizeAt = bytes.indexOf(Buffer.from([3 << 3, 3]));
    expect(payloadSizeAt).toBe(17);
    for (let cut = 1; cut <= payloadSizeAt + 1; cut++) {
      expect(() => decodeSingleMetadata(bytes.subarray(0, cut))).toThrow(/malformed SingleMessageMetadata/);
    }
    // A length running past the end.
    const overrun = Buffer.from(bytes);
    overrun[1] = 100;
    expect(() => decodeSingleMetadata(overrun)).toThrow(/overruns/);
    expect(() => decodeSingleMetadata(Buffer.from([8 << 3, 1]))).toThrow(/payload_size/);
  });
});
