import { onnx } from '@surrogate/proto';

/** Element types the graphs of this package use. */
export type ElemType = 'float32' | 'float64' | 'int64';

const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
};

/** The ONNX operator set the graphs are written against, and the matching IR version. */
export const OPSET_VERSION = 17;
export const IR_VERSION = 8;

/** A tensor dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

/** Attribute constructors (explicit about int vs float, which ONNX distinguishes). */
export const attr = {
  int(name: string, i: number): onnx.IAttributeProto {
    return { name, type: onnx.AttributeProto.AttributeType.INT, i };
  },
  ints(name: string, ints: readonly number[]): onnx.IAttributeProto {
    return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] };
  },
  float(name: string, f: number): onnx.IAttributeProto {
    return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
  },
};

/** Encodes numbers as the little-endian raw_data of a tensor of the given element type. */
export function rawData(values: ArrayLike<number>, type: ElemType): Uint8Array {
  const width = type === 'float32' ? 4 : 8;
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (type === 'float32') view.setFloat32(i * 4, values[i], true);
    else if (type === 'float64') view.setFloat64(i * 8, values[i], true);
    else view.setBigInt64(i * 8, BigInt(values[i]), true);
  }
  return bytes;
}

/** Decodes a tensor's values (raw_data or the typed repeated fields) as plain numbers. */
export function tensorValues(t: onnx.ITensorProto): number[] {
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) for (let i = 0; i < raw.length; i += 4) out.push(view.getFloat32(i, true));
    else if (t.dataType === onnx.TensorProto.DataType.DOUBLE) for (let i = 0; i < raw.length; i += 8) out.push(view.getFloat64(i, true));
    else if (t.dataType === onnx.TensorProto.DataType.INT64) for (let i = 0; i < raw.length; i += 8) out.push(Number(view.getBigInt64(i, true)));
    return out;
  }
  if (t.floatData && t.floatData.length > 0) return [...t.floatData];
  if (t.doubleData && t.doubleData.length > 0) return [...t.doubleData];
  if (t.int64Data && t.int64Data.length > 0) return t.int64Data.map(Number);
  return [];
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Accumulates the nodes, initializers, inputs and outputs of one ONNX graph. Values are named by
 * strings; `op` returns the names of a node's outputs, generated unless given.
 */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private readonly scalars = new Map<string, string>();

  /** `elemType` is the floating type of the graph's arithmetic (float64 for precise checks). */
  constructor(readonly elemType: 'float32' | 'float64' = 'float32') {}

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    return `${hint}__${this.counter++}`;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, dims: readonly Dim[], type: ElemType = this.elemType): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` as a graph output called `name` (through an Identity if the names differ). */
  output(name: string, value: string, dims: readonly Dim[], type: ElemType = this.elemType): void {
    if (value !== name) this.op('Identity', [value], [], { outputs: [name] });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Appends a node; returns its output names (one fresh name per output unless `outputs` names them). */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: readonly onnx.IAttributeProto[] = [],
    options: { outputs?: number | readonly string[]; domain?: string } = {},
  ): string[] {
    const outs =
      typeof options.outputs === 'object'
        ? [...options.outputs]
        : Array.from({ length: options.outputs ?? 1 }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      input: [...inputs],
      output: outs,
      name: this.fresh(`n_${opType}`),
      attribute: [...attributes],
      domain: options.domain ?? '',
    });
    return outs;
  }

  /** Appends a single-output node and returns its output's name. */
  op1(opType: string, inputs: readonly string[], attributes: readonly onnx.IAttributeProto[] = []): string {
    return this.op(opType, inputs, attributes)[0];
  }

  /** Adds a constant tensor (initializer) and returns its name. */
  constant(values: ArrayLike<number>, dims: readonly number[], type: ElemType = this.elemType, hint = 'const'): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dims: [...dims], dataType: DATA_TYPE[type], rawData: rawData(values, type) });
    return name;
  }

  /** A scalar constant of the graph's float type (shared between uses). */
  scalar(value: number): string {
    const key = `${this.elemType}:${value}`;
    let name = this.scalars.get(key);
    if (name === undefined) {
      name = this.constant([value], [], this.elemType, 'scalar');
      this.scalars.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, slice bounds). */
  int64s(values: readonly number[]): string {
    return this.constant(values, [values.length], 'int64', 'i64');
  }

  /** The graph as a ModelProto. */
  model(options: { name: string; producerName?: string; metadata?: Record<string, string>; docString?: string }): onnx.IModelProto {
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      producerName: options.producerName ?? '@surrogate/nn',
      producerVersion: '0.1.0',
      docString: options.docString ?? '',
      graph: {
        name: options.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  /** The graph as encoded ONNX bytes. */
  encode(options: { name: string; producerName?: string; metadata?: Record<string, string>; docString?: string }): Uint8Array {
    return onnx.ModelProto.encode(this.model(options)).finish();
  }
}
