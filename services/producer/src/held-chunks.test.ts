import { encodeHeldChunks, HELD_CHUNKS_PROPERTY, HeldChunksError, parseHeldChunks } from './held-chunks';

const PLAN = { training: 40, validation: 4 };

describe('held chunks', () => {
  it('encodes indices as sorted ranges and parses them back', () => {
    const text = encodeHeldChunks({ training: [7, 0, 1, 2, 3, 9, 10, 3], validation: [] });
    expect(text).toBe('training=0-3,7,9-10;validation=');
    const held = parseHeldChunks(text, PLAN);
    expect([...held.training].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 7, 9, 10]);
    expect(held.validation.size).toBe(0);
  });

  it('round-trips every subset shape: empty, all, alternating, single', () => {
    const all = Array.from({ length: 40 }, (_, i) => i);
    for (const training of [[], all, all.filter((i) => i % 2 === 1), [39]]) {
      const held = parseHeldChunks(encodeHeldChunks({ training, validation: [3] }), PLAN);
      expect([...held.training].sort((a, b) => a - b)).toEqual(training);
      expect([...held.validation]).toEqual([3]);
    }
    expect(encodeHeldChunks({ training: all, validation: [0, 1, 2, 3] })).toBe('training=0-39;validation=0-3');
  });

  it('reads an empty property, or an omitted purpose, as nothing held', () => {
    expect(parseHeldChunks('', PLAN).training.size).toBe(0);
    const held = parseHeldChunks('validation=1', PLAN);
    expect(held.training.size).toBe(0);
    expect([...held.validation]).toEqual([1]);
  });

  it.each([
    ['training=0-3;test=1', /"test" is not a chunk purpose/],
    ['training=1;training=2', /training is given twice/],
    ['training=1,x', /"x" is neither an index nor a range/],
    ['training=-1', /"-1" is neither an index nor a range/],
    ['training=1.5', /"1\.5" is neither an index nor a range/],
    ['training=5-2', /the range 5-2 runs backwards/],
    ['training=0-40', /training chunk 40 is outside the plan of 40 training chunks \(indices 0 to 39\)/],
    ['validation=4', /validation chunk 4 is outside the plan of 4 validation chunks/],
  ])('refuses %s naming the property, the value and the rule', (text, rule) => {
    let error: unknown;
    try {
      parseHeldChunks(text, PLAN);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HeldChunksError);
    const e = error as HeldChunksError;
    expect(e.code).toBe('BAD_HELD_CHUNKS');
    expect(e.message).toContain(`${HELD_CHUNKS_PROPERTY} = ${JSON.stringify(text)}`);
    expect(e.message).toMatch(rule);
    expect(e.details).toEqual({ field: HELD_CHUNKS_PROPERTY, value: text });
  });
});
