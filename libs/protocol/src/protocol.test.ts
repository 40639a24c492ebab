import { isRejectMessageError } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import {
  chunkKey,
  Codecs,
  decodeColumns,
  encodeColumns,
  eventKind,
  purposeName,
  purposeValue,
} from './index';

describe('chunk columns', () => {
  it('are column-major little-endian float32', () => {
    const bytes = encodeColumns([new Float64Array([1, 2]), new Float32Array([-0.5, 3])], 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([0, 4, 8, 12].map((o) => view.getFloat32(o, true))).toEqual([1, 2, -0.5, 3]);
    expect(decodeColumns(bytes, 2, 2).map((c) => Array.from(c))).toEqual([
      [1, 2],
      [-0.5, 3],
    ]);
  });

  it('refuse a byte count that does not match', () => {
    expect(() => decodeColumns(new Uint8Array(12), 2, 2)).toThrow(/expected 16 bytes/);
    expect(() => encodeColumns([new Float32Array(3)], 2)).toThrow(/column 0 has 3 values, expected 2/);
  });
});

describe('codecs', () => {
  it('round-trip the message of each topic and name event kinds', () => {
    const event = v1.ExperimentEvent.create({ experimentId: 'e', chunkAccepted: { chunkIndex: 4 } });
    const back = Codecs.event.decode(Codecs.event.encode(event));
    expect(eventKind(back)).toBe('chunkAccepted');
    expect(back.chunkAccepted?.chunkIndex).toBe(4);
  });

  it('turn undecodable bytes into a rejection (dead letter, no retry)', () => {
    let thrown: unknown;
    try {
      Codecs.chunk.decode(new Uint8Array([0x0a, 0xff, 0xff]));
    } catch (err) {
      thrown = err;
    }
    expect(isRejectMessageError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/surrogate\.v1\.DataChunk/);
  });
});

describe('chunk identity', () => {
  it('maps purposes both ways and rejects an unset one', () => {
    expect(purposeName(purposeValue('validation'))).toBe('validation');
    expect(() => purposeName(v1.ChunkPurpose.CHUNK_PURPOSE_UNSPECIFIED)).toThrow(RangeError);
    expect(chunkKey('e', 'training', 7)).toBe('e/training/7');
  });
});
