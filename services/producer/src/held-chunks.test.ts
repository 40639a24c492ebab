import { HELD_CHUNKS_FIELD, HeldChunksError, heldChunksFromWire, heldChunksToWire } from './held-chunks';
import { v1 } from '@surrogate/proto';

const PLAN = { training: 40, validation: 4 };

/** What a producer reads: the wire form through an encoded SubmitExperiment, as it travels. */
function roundTrip(held: v1.IHeldChunks): v1.IHeldChunks | null | undefined {
  return v1.SubmitExperiment.decode(v1.SubmitExperiment.encode({ held }).finish()).held;
}

const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

describe('held chunks', () => {
  it('writes indices as sorted inclusive ranges and reads them back', () => {
    const wire = heldChunksToWire({ training: [7, 0, 1, 2, 3, 9, 10, 3], validation: [] });
    expect(wire.training).toEqual([
      { first: 0, last: 3 },
      { first: 7, last: 7 },
      { first: 9, last: 10 },
    ]);
    expect(wire.validation).toEqual([]);
    const held = heldChunksFromWire(roundTrip(wire), PLAN);
    expect(sorted(held.training)).toEqual([0, 1, 2, 3, 7, 9, 10]);
    expect(held.validation.size).toBe(0);
  });

  it('round-trips every subset shape: empty, all, alternating, single', () => {
    const all = Array.from({ length: 40 }, (_, i) => i);
    for (const training of [[], all, all.filter((i) => i % 2 === 1), [39], [0]]) {
      const held = heldChunksFromWire(roundTrip(heldChunksToWire({ training, validation: [3] })), PLAN);
      expect(sorted(held.training)).toEqual(training);
      expect([...held.validation]).toEqual([3]);
    }
    expect(heldChunksToWire({ training: all, validation: [0, 1, 2, 3] })).toEqual({
      training: [{ first: 0, last: 39 }],
      validation: [{ first: 0, last: 3 }],
    });
  });

  it('reads a submission without held chunks, or with one purpose only, as nothing held there', () => {
    expect(heldChunksFromWire(undefined, PLAN).training.size).toBe(0);
    expect(heldChunksFromWire(roundTrip({}), PLAN).validation.size).toBe(0);
    const held = heldChunksFromWire(roundTrip({ validation: [{ first: 1, last: 1 }] }), PLAN);
    expect(held.training.size).toBe(0);
    expect([...held.validation]).toEqual([1]);
  });

  it.each([
    [{ training: [{ first: 5, last: 2 }] }, 'training[0]', '5…2', /the range runs backwards/],
    [{ training: [{ first: 0, last: 3 }, { first: 0, last: 40 }] }, 'training[1]', '0…40', /chunk 40 is outside the plan of 40 training chunks \(indices 0 to 39\)/],
    [{ validation: [{ first: 4, last: 4 }] }, 'validation[0]', '4…4', /chunk 4 is outside the plan of 4 validation chunks/],
  ])('refuses %j naming the field, the value and the rule', (wire, at, value, rule) => {
    let error: unknown;
    try {
      heldChunksFromWire(roundTrip(wire), PLAN);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HeldChunksError);
    const e = error as HeldChunksError;
    expect(e.code).toBe('BAD_HELD_CHUNKS');
    expect(e.message).toContain(`${HELD_CHUNKS_FIELD}.${at} = ${value}: `);
    expect(e.message).toMatch(rule);
    expect(e.details.field).toBe(`${HELD_CHUNKS_FIELD}.${at}`);
  });
});
