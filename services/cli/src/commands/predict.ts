import { readFile } from 'node:fs/promises';
import { firstOutsideBox, InferenceModel, METADATA_KEYS } from '@surrogate/nn';
import { badInput } from '../cli-error';
import { parseJsonParams } from '../json-params';

/**
 * The model's input and output names. They come from the metadata every exported model carries
 * (libs/nn has checked them against the graph); a model without them is not a Surrogate model, as
 * for `surrogate serve`.
 */
function namesOf(model: InferenceModel, file: string): { inputs: readonly string[]; outputs: readonly string[] } {
  const missing = [METADATA_KEYS.inputNames, METADATA_KEYS.outputNames].filter((k) => !(k in model.metadata));
  if (missing.length > 0)
    throw badInput('MODEL_METADATA_MISSING', `${file}: not a Surrogate model (metadata ${missing.join(', ')} missing); was it exported by surrogate run?`);
  return { inputs: model.inputNames, outputs: model.outputNames };
}

/**
 * `surrogate predict <model.onnx> --params '<json>'`: evaluates the model at one point (a JSON
 * object of input name: value) or several (an array of such objects); prints the outputs as JSON.
 */
export async function predictCommand(
  file: string | undefined,
  params: string | undefined,
  o: { allowExtrapolation?: boolean } = {},
): Promise<string> {
  if (!file) throw badInput('MISSING_ARGUMENT', "usage: surrogate predict <model.onnx> --params '<json>' [--allow-extrapolation]");
  const points = parseJsonParams(params, '--params', true);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw badInput(
      'MODEL_NOT_FOUND',
      `cannot read model ${file}: ${{ ENOENT: 'no such file', EISDIR: 'a directory, not a file' }[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message}`,
    );
  }
  let model: InferenceModel;
  try {
    model = await InferenceModel.load(bytes);
  } catch (err) {
    throw badInput('MODEL_INVALID', `${file}: ${(err as Error).message}`);
  }
  try {
    const { inputs, outputs } = namesOf(model, file);
    const x = new Float32Array(points.length * inputs.length);
    points.forEach((point, i) => {
      const where = points.length > 1 ? `--params[${i}]` : '--params';
      for (const key of Object.keys(point)) {
        if (!inputs.includes(key))
          throw badInput(
            'UNKNOWN_INPUT',
            `${where}.${key}: not an input of this model; inputs: ${inputs.join(', ')}`,
          );
      }
      inputs.forEach((name, j) => {
        const v = point[name];
        if (v === undefined)
          throw badInput('MISSING_INPUT', `${where}.${name} is missing: every input (${inputs.join(', ')}) needs a value`);
        // JSON.parse reads 1e400 as Infinity; the model reads float32, where 1e39 is Infinity too
        if (typeof v !== 'number' || !Number.isFinite(Math.fround(v)))
          throw badInput(
            'BAD_INPUT',
            `${where}.${name} = ${typeof v === 'number' ? String(v) : JSON.stringify(v)}: every input (${inputs.join(', ')}) needs a finite number` +
              (typeof v === 'number' && Number.isFinite(v) ? ' that float32 can hold (the model reads float32; |value| ≤ 3.4e38)' : ''),
          );
        x[i * inputs.length + j] = v;
      });
    });
    const outside = o.allowExtrapolation || !model.inputBox ? undefined : firstOutsideBox(model.inputBox, x, points.length);
    if (outside) {
      const where = points.length > 1 ? `--params[${outside.row}]` : '--params';
      throw badInput(
        'OUTSIDE_TRAINING_BOX',
        `${where}.${inputs[outside.input]} = ${String(points[outside.row][inputs[outside.input]])} is outside the model's training box [${outside.min}, ${outside.max}]; ` +
          'the model answers only where it was trained and validated (--allow-extrapolation to answer anyway)',
      );
    }
    const y = await model.predict(x, points.length);
    const rows = points.map((_, i) =>
      Object.fromEntries(outputs.map((name, k) => [name, y[i * outputs.length + k] as number])),
    );
    return JSON.stringify(points.length === 1 && !params?.trim().startsWith('[') ? rows[0] : rows);
  } finally {
    await model.close();
  }
}
