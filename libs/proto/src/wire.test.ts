import { decodeMessage, MalformedMessageError, onnx, v1 } from './index';

describe('generated wire types', () => {
  it('round-trips a data chunk, bytes included', () => {
    const chunk = v1.DataChunk.create({
      experimentId: 'e',
      purpose: v1.ChunkPurpose.VALIDATION,
      chunkIndex: 3,
      startIndex: 2 ** 40,
      sampleCount: 2,
      inputNames: ['spot'],
      inputs: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    const back = v1.DataChunk.decode(v1.DataChunk.encode(chunk).finish());
    // A Long object at run time (see index.ts): Number() gives the exact value below 2^53.
    expect(Number(back.startIndex)).toBe(2 ** 40);
    expect(back.purpose).toBe(v1.ChunkPurpose.VALIDATION);
    expect(Array.from(back.inputs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("writes ONNX's upstream field numbers (ir_version = 1, graph = 7, opset_import = 8, metadata_props = 14)", () => {
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      graph: { name: 'g' },
      opsetImport: [{ domain: '', version: 17 }],
      metadataProps: [{ key: 'k', value: 'v' }],
    }).finish();
    // Tags are (field << 3) | wire type: 1:varint = 0x08, 7:bytes = 0x3a, 8:bytes = 0x42, 14:bytes = 0x72.
    expect(bytes[0]).toBe(0x08);
    expect(bytes[1]).toBe(8);
    const tags = new Set<number>();
    for (let i = 2; i < bytes.length;) {
      const tag = bytes[i] as number;
      tags.add(tag);
      i += 2 + (bytes[i + 1] as number);
    }
    expect([...tags].sort((a, b) => a - b)).toEqual([0x3a, 0x42, 0x72]);
  });

  it('names the expected type when bytes do not decode', () => {
    expect(() =>
      decodeMessage(v1.DataGenJob, 'surrogate.v1.DataGenJob', new Uint8Array([0x0a, 0x7f])),
    ).toThrow(MalformedMessageError);
    try {
      decodeMessage(v1.DataGenJob, 'surrogate.v1.DataGenJob', new Uint8Array([0x0a, 0x7f]));
    } catch (err) {
      expect((err as MalformedMessageError).code).toBe('MALFORMED_MESSAGE');
      expect((err as Error).message).toMatch(/^not a valid surrogate\.v1\.DataGenJob: /);
    }
  });
});
