import { decodeBatch, encodeBatchItem } from './batch-codec';
import { PulsarError } from './pulsar-error';

describe('batch payload codec', () => {
  const items = [
    encodeBatchItem(
      { properties: { a: '1' }, partitionKey: 'k1', sequenceId: 10, eventTime: 1234 },
      Buffer.from('first'),
    ),
    encodeBatchItem(
      { properties: {}, partitionKey: undefined, sequenceId: 11, eventTime: undefined },
      Buffer.alloc(0),
    ),
    encodeBatchItem(
      { properties: undefined, partitionKey: 'k3', sequenceId: 12, eventTime: undefined },
      Buffer.from([0, 255, 7]),
    ),
  ];
  const batch = Buffer.concat(items);

  it('frames each message as [size][SingleMessageMetadata][payload]', () => {
    const metaSize = items[0].readUInt32BE(0);
    expect(items[0].length).toBe(4 + metaSize + 'first'.length);
    expect(items[0].subarray(4 + metaSize).toString()).toBe('first');
  });

  it('round-trips messages with their metadata', () => {
    const decoded = decodeBatch(batch, 3);
    expect(decoded.map((d) => [...d.payload])).toEqual([[...Buffer.from('first')], [], [0, 255, 7]]);
    expect(decoded[0].metadata).toMatchObject({
      partitionKey: 'k1',
      sequenceId: 10,
      eventTime: 1234,
      payloadSize: 5,
      properties: [{ key: 'a', value: '1' }],
    });
    expect(decoded[1].metadata.payloadSize).toBe(0);
    expect(decoded[2].metadata).toMatchObject({ partitionKey: 'k3', sequenceId: 12 });
    expect(decoded[1].metadata).not.toHaveProperty('partitionKey');
  });

  it('rejects truncated batches and wrong counts with a protocol error', () => {
    expect(() => decodeBatch(batch.subarray(0, batch.length - 1), 3)).toThrow(PulsarError);
    expect(() => decodeBatch(batch, 4)).toThrow(/message 3 of 4/);
    // A metadata size pointing into the payload of the next message.
    const bad = Buffer.from(batch);
    bad.writeUInt32BE(2, 0);
    expect(() => decodeBatch(bad, 3)).toThrow(/message 0 of 3/);
  });
});
