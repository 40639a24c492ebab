import { promises as fs } from 'fs';
import * as ort from 'onnxruntime-node';
import { errorMessage } from '@surrogate/core';
import { onnx } from '@surrogate/proto';
import { NnError } from './nn-error';
import { createSession } from './ort-session';
import { INFERENCE_IO, METADATA_KEYS } from './export-model';
import { inputBoxFromMetadata, type InputBox } from './input-box';

/** protobufjs decodes int64 fields as Long objects when the long package is present. */
export function int64ToNumber(v: unknown): number {
  if (typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

function fixedDim(info: onnx.IValueInfoProto | undefined, axis: number): number | undefined {
  const d = info?.type?.tensorType?.shape?.dim?.[axis];
  if (!d || d.dimValue === undefined || d.dimValue === null) return undefined;
  return int64ToNumber(d.dimValue);
}

function parseNames(value: string | undefined, expected: number): string[] {
  if (value !== undefined) {
    try {
      const names: unknown = JSON.parse(value);
      if (Array.isArray(names) && names.length === expected && names.every((n) => typeof n === 'string')) return names as string[];
    } catch {
      // fall through to positional names
    }
  }
  return Array.from({ length: expected }, (_, i) => `${i}`);
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

  private constructor(session: ort.InferenceSession, inputDim: number, outputDim: number, metadata: Record<string, string>) {
    this.session = session;
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.metadata = metadata;
    this.inputNames = parseNames(metadata[METADATA_KEYS.inputNames], inputDim);
    this.outputNames = parseNames(metadata[METADATA_KEYS.outputNames], outputDim);
    this.inputBox = inputBoxFromMetadata(metadata, inputDim);
  }

  /** Loads ONNX bytes or a file path; `threads` are onnxruntime intra-op threads (default 1, 0 = all cores). */
  static async load(source: string | Uint8Array, options: { threads?: number } = {}): Promise<InferenceModel> {
    let bytes: Uint8Array;
    try {
      bytes = typeof source === 'string' ? await fs.readFile(source) : source;
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err);
      throw new NnError('NN_INVALID_MODEL', `cannot read model file ${String(source)}: ${reason}`, { cause: err });
    }
    let proto: onnx.ModelProto;
    try {
      proto = onnx.ModelProto.decode(bytes);
    } catch (err) {
      throw new NnError('NN_INVALID_MODEL', 'not an ONNX model', { cause: err });
    }
    const x = proto.graph?.input?.find((i) => i.name === INFERENCE_IO.x);
    const y = proto.graph?.output?.find((o) => o.name === INFERENCE_IO.y);
    const inputDim = fixedDim(x, 1);
    const outputDim = fixedDim(y, 1);
    if (inputDim === undefined || outputDim === undefined) {
      throw new NnError('NN_INVALID_MODEL', `the model needs an input "x" [N, D] and an output "y" [N, K] with fixed D and K`);
    }
    const metadata: Record<string, string> = {};
    for (const p of proto.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
    let session: ort.InferenceSession;
    try {
      session = await createSession(bytes, options.threads ?? 1);
    } catch (err) {
      throw new NnError('NN_INVALID_MODEL', `onnxruntime rejected the model: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return new InferenceModel(session, inputDim, outputDim, metadata);
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
