import { readFile } from 'node:fs/promises';
import { firstOutsideBox, InferenceModel } from '@surrogate/nn';
import { badInput } from '../cli-error';
import { parseJsonParams } from '../json-params';

function namesFrom(metadata: Record<string, string>, key: string, file: string): string[] {
  const raw = metadata[key];
  try {
    const names = JSON.parse(raw ?? '') as unknown;
    if (Array.isArray(names) && names.every((n) => typeof n === 'string')) return names as string[];
  } catch {
    // reported below
  }
  throw badInput(
    'MODEL_METADATA_MISSING',
    `${file} lacks Surrogate metadata (${key}); was it exported by surrogate run?`,
  );
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
      `cannot read model ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  let model: InferenceModel;
  try {
    model = await InferenceModel.load(bytes);
  } catch (err) {
    throw badInput('MODEL_INVALID', `${file} is not a loadable ONNX model: ${(err as Error).message}`);
  }
  try {
    const inputs = namesFrom(model.metadata, 'surrogate.inputs', file);
    const outputs = namesFrom(model.metadata, 'surrogate.outputs', file);
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
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw badInput(
            'BAD_INPUT',
            `${where}.${name} = ${JSON.stringify(v)}: every input (${inputs.join(', ')}) needs a finite number`,
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
