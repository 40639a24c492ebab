import { promises as fs } from 'fs';
import * as ort from 'onnxruntime-node';
import { errorMessage } from '@surrogate/core';
import { onnx } from '@surrogate/proto';
import { NnError } from './nn-error';
import { createSession } from './ort-session';
import { INFERENCE_IO, METADATA_KEYS } from './export-model';
import { clipped, inputBoxFromMetadata, type InputBox } from './input-box';

/** protobufjs decodes int64 fields as Long objects when the long package is present. */
export function int64ToNumber(v: unknown): number {
  if (typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

/** The fixed size of a float32 [N, n] tensor's second axis; undefined when the tensor is not that. */
function matrixWidth(info: onnx.IValueInfoProto | undefined): number | undefined {
  const t = info?.type?.tensorType;
  if (t?.elemType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  const dims = t.shape?.dim;
  const d = dims?.[1];
  if (dims?.length !== 2 || !d || d.dimValue === undefined || d.dimValue === null) return undefined;
  const n = int64ToNumber(d.dimValue);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * The graph's input and output widths: it must take exactly one input, "x" float32 [N, D], and give
 * exactly one output, "y" float32 [N, K], D and K fixed and at least 1 (what exportInferenceModel
 * writes and what predict feeds). Anything else is NN_INVALID_MODEL naming what the graph has.
 */
function signature(proto: onnx.ModelProto): { inputDim: number; outputDim: number } {
  const graph = proto.graph;
  if (!graph) throw new NnError('NN_INVALID_MODEL', 'not an ONNX model (no graph)');
  const initialized = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initialized.has(i.name));
  const outputs = graph.output ?? [];
  const names = (vs: readonly onnx.IValueInfoProto[]): string => (vs.length === 0 ? 'none' : vs.map((v) => JSON.stringify(v.name ?? '')).join(', '));
  const inputDim = inputs.length === 1 && inputs[0].name === INFERENCE_IO.x ? matrixWidth(inputs[0]) : undefined;
  const outputDim = outputs.length === 1 && outputs[0].name === INFERENCE_IO.y ? matrixWidth(outputs[0]) : undefined;
  if (inputDim === undefined || outputDim === undefined) {
    throw new NnError(
      'NN_INVALID_MODEL',
      `the model needs exactly one input "x" float32 [N, D] and one output "y" float32 [N, K], D and K fixed and at least 1; ` +
        `it has inputs ${names(inputs)} and outputs ${names(outputs)}${inputs.length === 1 && outputs.length === 1 ? ' of another type or shape' : ''}`,
    );
  }
  return { inputDim, outputDim };
}

/**
 * The names metadata `key` gives the model's `count` inputs or outputs: positional ("0", "1", …)
 * when the metadata has none, NN_INVALID_MODEL when it has them but they are not `count` distinct
 * non-empty strings (a file whose metadata contradicts its graph).
 */
function namesFrom(metadata: Readonly<Record<string, string>>, key: string, count: number, what: string): string[] {
  const raw = metadata[key];
  if (raw === undefined) return Array.from({ length: count }, (_, i) => `${i}`);
  let names: unknown;
  try {
    names = JSON.parse(raw);
  } catch {
    names = undefined;
  }
  if (
    !Array.isArray(names) ||
    names.length !== count ||
    !names.every((n) => typeof n === 'string' && n !== '') ||
    new Set(names).size !== names.length
  ) {
    throw new NnError(
      'NN_INVALID_MODEL',
      `metadata ${key} = ${clipped(raw)}: must be a JSON array of ${count} distinct, non-empty names (the graph has ${count} ${what})`,
      { details: { key, value: raw, expected: count } },
    );
  }
  return names as string[];
}

/** A loaded surrogate model (as written by exportInferenceModel) answering batches of RAW inputs. */
export class InferenceModel {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly metadata: Record<string, string>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The box the model was trained on (from its metadata); undefined for a model without it. */
  readonly inputBox: InputBox | undefined;
  private session: ort.InferenceSession | undefined;

  private constructor(
    session: ort.InferenceSession,
    shape: { inputDim: number; outputDim: number; inputNames: string[]; outputNames: string[]; inputBox: InputBox | undefined },
    metadata: Record<string, string>,
  ) {
    this.session = session;
    this.inputDim = shape.inputDim;
    this.outputDim = shape.outputDim;
    this.inputNames = shape.inputNames;
    this.outputNames = shape.outputNames;
    this.inputBox = shape.inputBox;
    this.metadata = metadata;
  }

  /**
   * Loads ONNX bytes or a file path; `threads` are onnxruntime intra-op threads (default 1, 0 = all
   * cores). NN_INVALID_MODEL, with the reason, for a file that cannot be read, is empty or is not
   * ONNX, a graph that is not x float32 [N, D] → y float32 [N, K], and metadata (names, training box)
   * that is present but does not fit the graph.
   */
  static async load(source: string | Uint8Array, options: { threads?: number } = {}): Promise<InferenceModel> {
    let bytes: Uint8Array;
    try {
      bytes = typeof source === 'string' ? await fs.readFile(source) : source;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : errorMessage(err);
      throw new NnError('NN_INVALID_MODEL', `cannot read model file ${String(source)}: ${reason}`, { cause: err });
    }
    if (bytes.length === 0) throw new NnError('NN_INVALID_MODEL', 'not an ONNX model (the file is empty)');
    let proto: onnx.ModelProto;
    try {
      proto = onnx.ModelProto.decode(bytes);
    } catch (err) {
      throw new NnError('NN_INVALID_MODEL', 'not an ONNX model', { cause: err });
    }
    const { inputDim, outputDim } = signature(proto);
    const metadata: Record<string, string> = {};
    for (const p of proto.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
    // the metadata is checked before onnxruntime spends time on the graph
    const shape = {
      inputDim,
      outputDim,
      inputNames: namesFrom(metadata, METADATA_KEYS.inputNames, inputDim, 'inputs'),
      outputNames: namesFrom(metadata, METADATA_KEYS.outputNames, outputDim, 'outputs'),
      inputBox: inputBoxFromMetadata(metadata, inputDim),
    };
    let session: ort.InferenceSession;
    try {
      session = await createSession(bytes, options.threads ?? 1);
    } catch (err) {
      throw new NnError('NN_INVALID_MODEL', `onnxruntime rejected the model: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return new InferenceModel(session, shape, metadata);
  }

  /** Predicts `count` rows of RAW inputs (row-major count×inputDim); returns count×outputDim RAW outputs. */
  async predict(x: Float32Array, count: number): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new NnError('NN_MODEL_CLOSED', 'the model is closed');
    if (!Number.isInteger(count) || count < 0 || x.length !== count * this.inputDim) {
      throw new NnError('NN_INVALID_DATA', `expected ${count}×${this.inputDim} input values, got ${x.length}`, {
        details: { count, inputDim: this.inputDim, length: x.length },
      });
    }
    if (count === 0) return new Float32Array(0);
    const out = await session.run({ [INFERENCE_IO.x]: new ort.Tensor('float32', x, [count, this.inputDim]) });
    // onnxruntime-node copies each output into a fresh ArrayBuffer of its own: no second copy
    return out[INFERENCE_IO.y].data as Float32Array;
  }

  /** Releases the onnxruntime session; later predictions fail with NN_MODEL_CLOSED. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await session.release();
  }
}
