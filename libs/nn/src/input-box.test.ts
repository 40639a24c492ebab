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

  it.each([
    ['no normalization', {}],
    ['not JSON', { [METADATA_KEYS.normalization]: '{' }],
    ['another number of inputs', metadata({ inputMin: [0, 0], inputMax: [1, 1] })],
    ['a non-finite bound', metadata({ inputMin: [0, 0, null], inputMax: [1, 1, 1] })],
    ['min above max', metadata({ inputMin: [0, 2, 0], inputMax: [1, 1, 1] })],
  ])('is unknown with %s', (_what, md) => {
    expect(inputBoxFromMetadata(md as Record<string, string>, 3)).toBeUndefined();
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
