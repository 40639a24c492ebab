import { METADATA_KEYS } from './export-model';
import { firstOutsideBox, inputBoxFromMetadata } from './input-box';

/** The float32 just below / above v's float32. */
function below(v: number): number {
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  i[0] += v > 0 ? -1 : 1;
  return f[0];
}
function above(v: number): number {
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  i[0] += v > 0 ? 1 : -1;
  return f[0];
}

const metadata = (normalization: unknown): Record<string, string> => ({ [METADATA_KEYS.normalization]: JSON.stringify(normalization) });

describe('the training box of a model', () => {
  const box = { min: [80, 0.1, -0.05], max: [120, 0.5, 0.08] };

  it('is read from the normalization in the metadata', () => {
    const md = metadata({ ...{ inputMin: box.min, inputMax: box.max }, outputMean: [1], outputStd: [2] });
    expect(inputBoxFromMetadata(md, 3)).toEqual(box);
  });

  it('is unknown when the metadata records none (a model not written by Surrogate)', () => {
    expect(inputBoxFromMetadata({}, 3)).toBeUndefined();
  });

  it.each([
    ['not JSON', { [METADATA_KEYS.normalization]: '{' }, /surrogate\.normalization = "\{": not valid JSON/],
    ['another number of inputs', metadata({ inputMin: [0, 0], inputMax: [1, 1] }), /inputMin and inputMax must each be 3 finite numbers \(the model has 3 inputs\)/],
    ['a non-finite bound', metadata({ inputMin: [0, 0, null], inputMax: [1, 1, 1] }), /must each be 3 finite numbers/],
    ['min above max', metadata({ inputMin: [0, 2, 0], inputMax: [1, 1, 1] }), /input 1: inputMin 2 is above inputMax 1/],
    ['no bounds at all', metadata(null), /must each be 3 finite numbers/],
  ])('is refused as an invalid model with %s (it would let every value through)', (_what, md, message) => {
    expect(() => inputBoxFromMetadata(md as Record<string, string>, 3)).toThrow(expect.objectContaining({ code: 'NN_INVALID_MODEL', message: expect.stringMatching(message) }));
  });

  it('holds its own corners given as decimals, compared as float32 (0.1 is not a float32)', () => {
    const corners = new Float32Array([80, 0.1, -0.05, 120, 0.5, 0.08]);
    expect(firstOutsideBox(box, corners, 2)).toBeUndefined();
    expect(firstOutsideBox(box, [80, 0.1, -0.05], 1)).toBeUndefined();
  });

  it('names the first value outside, one float32 step beyond a face, by row and input', () => {
    const x = new Float32Array([100, 0.3, 0, 100, 0.3, 0, 100, below(0.1), above(0.08)]);
    expect(firstOutsideBox(box, x, 3)).toEqual({ row: 2, input: 1, value: below(0.1), min: 0.1, max: 0.5 });
    expect(firstOutsideBox(box, [100, 0.3, above(0.08)], 1)).toEqual({ row: 0, input: 2, value: above(0.08), min: -0.05, max: 0.08 });
    expect(firstOutsideBox(box, [below(80), 0.3, 0], 1)?.input).toBe(0);
    expect(firstOutsideBox(box, [100, 0.3, below(-0.05)], 1)?.input).toBe(2);
  });

  it('checks only the rows asked for', () => {
    expect(firstOutsideBox(box, [100, 0.3, 0, 500, 0.3, 0], 1)).toBeUndefined();
  });
});
