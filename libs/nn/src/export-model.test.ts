import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from '@surrogate/proto';
import { exportInferenceModel, InferenceModel, METADATA_KEYS, NnError, type TrainedModel } from './index';
import { initParameters } from './init-parameters';
import { ACTIVATIONS, splitParameters, type MlpConfig } from './mlp-config';
import { predictModelRaw, predictRaw } from './mlp-reference';
import { int64ToNumber } from './inference-model';
import { Rng } from './rng';
import { normalizationAffine, normalizeInput } from './normalization';

function randomModel(activation: MlpConfig['activation'], seed: number): TrainedModel {
  const mlp: MlpConfig = { inputDim: 3, outputDim: 2, hiddenLayers: [16, 8], activation };
  const rng = new Rng(seed);
  const theta = initParameters(mlp, rng);
  for (let i = 0; i < theta.length; i++) theta[i] += 0.1 * (rng.nextFloat() - 0.5); // non-zero biases too
  return {
    mlp,
    normalization: { inputMin: [80, 0.1, -1], inputMax: [120, 0.5, 3], outputMean: [12.5, -3], outputStd: [9.5, 0.25] },
    parameters: splitParameters(mlp, theta),
    finalLoss: 1e-6,
    epochs: 3,
    steps: 30,
    lossHistory: [1e-3, 1e-5, 1e-6],
  };
}

function rawInputs(count: number, rng: Rng): Float32Array {
  const lo = [80, 0.1, -1];
  const hi = [120, 0.5, 3];
  return Float32Array.from({ length: count * 3 }, (_, i) => lo[i % 3] + rng.nextFloat() * (hi[i % 3] - lo[i % 3]));
}

const NAMES = { inputNames: ['spot', 'vol', 'rate'], outputNames: ['price', 'delta'] };

describe('exportInferenceModel + InferenceModel', () => {
  it.each(ACTIVATIONS)('runs raw inputs to raw outputs like the JS forward pass (%s)', async (activation) => {
    const model = randomModel(activation, 31);
    const bytes = exportInferenceModel(model, NAMES);
    const im = await InferenceModel.load(bytes);
    try {
      expect(im.inputDim).toBe(3);
      expect(im.outputDim).toBe(2);
      const count = 257;
      const x = rawInputs(count, new Rng(32));
      const y = await im.predict(x, count);
      const ref = predictRaw(model.mlp, model.normalization, model.parameters, x, count);
      expect(y).toHaveLength(count * 2);
      for (let i = 0; i < y.length; i++) {
        const scale = model.normalization.outputStd[i % 2];
        expect(Math.abs(y[i] - ref[i])).toBeLessThan(2e-5 * scale + 1e-6 * Math.abs(ref[i]));
      }
    } finally {
      await im.close();
    }
  });

  it('applies sqrt and log input transforms inside the graph, like the JS forward pass', async () => {
    const base = randomModel('silu', 37);
    const model: TrainedModel = { ...base, normalization: { ...base.normalization, inputTransform: ['sqrt', 'log', 'linear'] } };
    const a = normalizationAffine(model.normalization);
    // t(min) → -1, t(max) → +1, and the transformed midpoint → 0
    expect(normalizeInput(a, 0, 80)).toBeCloseTo(-1, 12);
    expect(normalizeInput(a, 0, 120)).toBeCloseTo(1, 12);
    expect(normalizeInput(a, 0, ((Math.sqrt(80) + Math.sqrt(120)) / 2) ** 2)).toBeCloseTo(0, 12);
    expect(normalizeInput(a, 1, Math.sqrt(0.1 * 0.5))).toBeCloseTo(0, 12);
    expect(normalizeInput(a, 2, 1)).toBeCloseTo(0, 12);
    const im = await InferenceModel.load(exportInferenceModel(model, NAMES));
    try {
      const count = 300;
      const x = rawInputs(count, new Rng(38));
      const y = await im.predict(x, count);
      const ref = predictRaw(model.mlp, model.normalization, model.parameters, x, count);
      const plain = predictRaw(base.mlp, base.normalization, base.parameters, x, count);
      let differs = 0;
      for (let i = 0; i < y.length; i++) {
        const scale = model.normalization.outputStd[i % 2];
        expect(Math.abs(y[i] - ref[i])).toBeLessThan(2e-5 * scale + 1e-6 * Math.abs(ref[i]));
        if (Math.abs(ref[i] - plain[i]) > 1e-3 * scale) differs++;
      }
      expect(differs).toBeGreaterThan(count); // the transforms really change what the network sees
    } finally {
      await im.close();
    }
  });

  it('adds residual stages at their own scale, like the float64 forward pass of every stage', async () => {
    const base = randomModel('silu', 41);
    const rng = new Rng(42);
    const stage = (scale: number[], shift: number[]): NonNullable<TrainedModel['residualStages']>[number] => ({
      parameters: splitParameters(base.mlp, initParameters(base.mlp, rng)),
      outputScale: scale,
      outputShift: shift,
    });
    const model: TrainedModel = {
      ...base,
      normalization: { ...base.normalization, inputTransform: ['log', 'sqrt', 'linear'] },
      residualStages: [stage([0.05, -0.002], [0.01, 0]), stage([0.004, 0.0003], [0, -0.001])],
    };
    const im = await InferenceModel.load(exportInferenceModel(model, NAMES));
    try {
      const count = 300;
      const x = rawInputs(count, new Rng(43));
      const y = await im.predict(x, count);
      const ref = predictModelRaw(model, x, count);
      const first = predictRaw(model.mlp, model.normalization, model.parameters, x, count);
      let differs = 0;
      for (let i = 0; i < y.length; i++) {
        const scale = model.normalization.outputStd[i % 2];
        expect(Math.abs(y[i] - ref[i])).toBeLessThan(2e-5 * scale + 1e-6 * Math.abs(ref[i]));
        if (Math.abs(ref[i] - first[i]) > 1e-4 * scale) differs++;
      }
      expect(differs).toBeGreaterThan(count); // the stages really contribute
    } finally {
      await im.close();
    }
  });

  it('exports a network without hidden layers (the normalizations fold into its one layer)', async () => {
    const mlp: MlpConfig = { inputDim: 3, outputDim: 2, hiddenLayers: [], activation: 'silu' };
    const rng = new Rng(44);
    const model: TrainedModel = {
      ...randomModel('silu', 45),
      mlp,
      normalization: { inputMin: [80, 0.1, -1], inputMax: [120, 0.5, 3], inputTransform: ['sqrt', 'log', 'linear'], outputMean: [12.5, -3], outputStd: [9.5, 0.25] },
      parameters: splitParameters(mlp, initParameters(mlp, rng)),
    };
    const im = await InferenceModel.load(exportInferenceModel(model, NAMES));
    try {
      const x = rawInputs(50, new Rng(46));
      const y = await im.predict(x, 50);
      const ref = predictModelRaw(model, x, 50);
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - ref[i])).toBeLessThan(2e-5 * model.normalization.outputStd[i % 2] + 1e-6 * Math.abs(ref[i]));
    } finally {
      await im.close();
    }
  });

  it('folds the normalizations into the layers: the graph is Gemms, activations and input transforms only', () => {
    const base = randomModel('tanh', 47);
    const model: TrainedModel = { ...base, residualStages: [{ parameters: base.parameters, outputScale: [0.1, 0.1], outputShift: [0, 0] }] };
    const plain = onnx.ModelProto.decode(exportInferenceModel(model, NAMES)).graph?.node ?? [];
    expect(new Set(plain.map((n) => n.opType))).toEqual(new Set(['Gemm', 'Tanh', 'Transpose']));
    expect(plain.filter((n) => n.opType === 'Gemm')).toHaveLength(2 * 3); // 2 stages × 3 layers
    const transformed: TrainedModel = { ...model, normalization: { ...model.normalization, inputTransform: ['sqrt', 'log', 'linear'] } };
    const nodes = onnx.ModelProto.decode(exportInferenceModel(transformed, NAMES)).graph?.node ?? [];
    expect(new Set(nodes.map((n) => n.opType))).toEqual(new Set(['Gather', 'Relu', 'Sqrt', 'Clip', 'Log', 'Concat', 'Gemm', 'Tanh', 'Transpose']));
  });

  it('rejects a transform outside its domain or of the wrong length', () => {
    const base = randomModel('silu', 39);
    // column 2 spans [-1, 3]: no square root, no logarithm
    for (const t of ['sqrt', 'log'] as const) {
      expect(() => exportInferenceModel({ ...base, normalization: { ...base.normalization, inputTransform: ['linear', 'linear', t] } }, NAMES)).toThrow(
        expect.objectContaining({ code: 'NN_INVALID_CONFIG', message: expect.stringContaining(`${t} needs min`) }),
      );
    }
    expect(() => exportInferenceModel({ ...base, normalization: { ...base.normalization, inputTransform: ['sqrt'] } }, NAMES)).toThrow(
      expect.objectContaining({ code: 'NN_INVALID_CONFIG' }),
    );
  });

  it('declares x [N, D] and y [N, K] float32 and carries names and metadata', async () => {
    const model = randomModel('silu', 33);
    const bytes = exportInferenceModel(model, { ...NAMES, metadata: { experimentId: 'exp-1', pricer: 'black-scholes@1' } });
    const proto = onnx.ModelProto.decode(bytes);
    expect(int64ToNumber(proto.opsetImport[0].version)).toBeGreaterThanOrEqual(17);
    const [x] = proto.graph?.input ?? [];
    const [y] = proto.graph?.output ?? [];
    expect(x.name).toBe('x');
    expect(y.name).toBe('y');
    expect(x.type?.tensorType?.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(x.type?.tensorType?.shape?.dim?.map((d) => (d.dimValue !== null && d.dimValue !== undefined ? int64ToNumber(d.dimValue) : d.dimParam))).toEqual(['N', 3]);
    expect(y.type?.tensorType?.shape?.dim?.map((d) => (d.dimValue !== null && d.dimValue !== undefined ? int64ToNumber(d.dimValue) : d.dimParam))).toEqual(['N', 2]);

    const im = await InferenceModel.load(bytes);
    try {
      expect(im.metadata.experimentId).toBe('exp-1');
      expect(im.metadata.pricer).toBe('black-scholes@1');
      expect(JSON.parse(im.metadata[METADATA_KEYS.inputNames])).toEqual(NAMES.inputNames);
      expect(JSON.parse(im.metadata[METADATA_KEYS.outputNames])).toEqual(NAMES.outputNames);
      expect(im.inputNames).toEqual(NAMES.inputNames);
      expect(JSON.parse(im.metadata[METADATA_KEYS.normalization])).toEqual(model.normalization);
    } finally {
      await im.close();
    }
  });

  it('loads from a file path', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nn-export-'));
    try {
      const model = randomModel('tanh', 34);
      const file = path.join(dir, 'model.onnx');
      await fs.writeFile(file, exportInferenceModel(model, NAMES));
      const im = await InferenceModel.load(file);
      const x = rawInputs(5, new Rng(35));
      const ref = predictRaw(model.mlp, model.normalization, model.parameters, x, 5);
      const y = await im.predict(x, 5);
      y.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 3));
      await im.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects mismatched names, bad models, bad inputs and use after close with typed errors', async () => {
    const model = randomModel('silu', 36);
    expect(() => exportInferenceModel(model, { inputNames: ['a'], outputNames: ['b', 'c'] })).toThrow(
      expect.objectContaining({ code: 'NN_INVALID_CONFIG' }),
    );
    expect(() => exportInferenceModel({ ...model, parameters: model.parameters.slice(1) }, NAMES)).toThrow(
      expect.objectContaining({ code: 'NN_INVALID_MODEL' }),
    );
    await expect(InferenceModel.load(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toBeInstanceOf(NnError);
    await expect(InferenceModel.load('/nonexistent/model.onnx')).rejects.toMatchObject({ code: 'NN_INVALID_MODEL' });
    const im = await InferenceModel.load(exportInferenceModel(model, NAMES));
    await expect(im.predict(new Float32Array(5), 2)).rejects.toMatchObject({ code: 'NN_INVALID_DATA' });
    expect(await im.predict(new Float32Array(0), 0)).toHaveLength(0);
    await im.close();
    await expect(im.predict(new Float32Array(3), 1)).rejects.toMatchObject({ code: 'NN_MODEL_CLOSED' });
    await im.close(); // idempotent
  });

  describe('a model file that contradicts itself is refused on load, naming what is wrong', () => {
    const model = randomModel('silu', 37);
    /** The exported model with its ModelProto changed by `edit`. */
    const edited = (edit: (m: onnx.ModelProto) => void): Uint8Array => {
      const m = onnx.ModelProto.decode(exportInferenceModel(model, NAMES));
      edit(m);
      return onnx.ModelProto.encode(m).finish();
    };
    const withMetadata = (key: string, value: string): Uint8Array =>
      edited((m) => {
        m.metadataProps = m.metadataProps.map((p) => (p.key === key ? { key, value } : p));
      });

    it.each([
      ['input names that are not JSON', METADATA_KEYS.inputNames, '["spot", "vo', /surrogate\.inputNames = .*must be a JSON array of 3 distinct, non-empty names \(the graph has 3 inputs\)/],
      ['fewer input names than inputs', METADATA_KEYS.inputNames, '["spot","vol"]', /surrogate\.inputNames = .*the graph has 3 inputs/],
      ['more output names than outputs', METADATA_KEYS.outputNames, '["price","delta","gamma"]', /surrogate\.outputNames = .*must be a JSON array of 2 .*the graph has 2 outputs/],
      ['names that are not strings', METADATA_KEYS.inputNames, '[1,2,3]', /surrogate\.inputNames/],
      ['an input named twice', METADATA_KEYS.inputNames, '["spot","spot","rate"]', /surrogate\.inputNames = .*distinct/],
      ['a training box that is not JSON', METADATA_KEYS.normalization, 'xx', /surrogate\.normalization = "xx": not valid JSON/],
      ['a training box for another number of inputs', METADATA_KEYS.normalization, '{"inputMin":[0],"inputMax":[1]}', /the model has 3 inputs/],
    ])('%s', async (_what, key, value, message) => {
      await expect(InferenceModel.load(withMetadata(key, value))).rejects.toMatchObject({ code: 'NN_INVALID_MODEL', message: expect.stringMatching(message) });
    });

    it('a graph with another input besides x, x of another type, or a zero-width x', async () => {
      const extra = edited((m) => {
        m.graph?.input?.push({ name: 'z', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } } });
      });
      await expect(InferenceModel.load(extra)).rejects.toMatchObject({
        code: 'NN_INVALID_MODEL',
        message: expect.stringMatching(/needs exactly one input "x" float32 \[N, D\].*it has inputs "x", "z" and outputs "y"/),
      });
      const double = edited((m) => {
        const t = m.graph?.input?.[0].type?.tensorType;
        if (t) t.elemType = onnx.TensorProto.DataType.DOUBLE;
      });
      await expect(InferenceModel.load(double)).rejects.toMatchObject({ message: expect.stringContaining('of another type or shape') });
      const empty = edited((m) => {
        const d = m.graph?.input?.[0].type?.tensorType?.shape?.dim?.[1];
        if (d) d.dimValue = 0;
      });
      await expect(InferenceModel.load(empty)).rejects.toMatchObject({ message: expect.stringContaining('D and K fixed and at least 1') });
    });

    it('an empty file, and a directory given as the file', async () => {
      await expect(InferenceModel.load(new Uint8Array(0))).rejects.toMatchObject({ code: 'NN_INVALID_MODEL', message: 'not an ONNX model (the file is empty)' });
      await expect(InferenceModel.load(os.tmpdir())).rejects.toMatchObject({ code: 'NN_INVALID_MODEL', message: expect.stringContaining('a directory, not a file') });
    });

    it('while a model without any Surrogate metadata still loads, with positional names and no box', async () => {
      const bare = edited((m) => {
        m.metadataProps = [];
      });
      const im = await InferenceModel.load(bare);
      try {
        expect(im.inputNames).toEqual(['0', '1', '2']);
        expect(im.inputBox).toBeUndefined();
      } finally {
        await im.close();
      }
    });

    it('and export refuses names it could not load back (duplicate or empty)', () => {
      expect(() => exportInferenceModel(model, { ...NAMES, inputNames: ['spot', 'spot', 'rate'] })).toThrow(
        expect.objectContaining({ code: 'NN_INVALID_CONFIG', message: expect.stringContaining('input name 1 = "spot": input names must be distinct and non-empty') }),
      );
      expect(() => exportInferenceModel(model, { ...NAMES, outputNames: ['price', ''] })).toThrow(expect.objectContaining({ code: 'NN_INVALID_CONFIG' }));
    });
  });
});
