import * as fs from 'fs';
import { NnError } from './nn-error';
import { normalizeInput, type NormalizationAffine } from './normalization';
import { shardOffsets, type ShardFile } from './shard-source';

function openError(shard: ShardFile, expectedBytes: number, err: unknown): NnError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why = code === 'ENOENT' ? 'is missing' : `cannot be opened (${code ?? String(err)})`;
  return new NnError('NN_INVALID_DATA', `shard ${shard.file} ${why}; expected ${expectedBytes} bytes (${shard.count} rows)`, {
    cause: err,
    details: { file: shard.file, expectedBytes, count: shard.count },
  });
}

function sizeError(shard: ShardFile, bytes: number, expectedBytes: number, inputDim: number, outputDim: number): NnError {
  return new NnError(
    'NN_INVALID_DATA',
    `shard ${shard.file} has ${bytes} bytes, expected ${expectedBytes} (${shard.count} rows × ${inputDim + outputDim} float32 columns)`,
    { details: { file: shard.file, bytes, expectedBytes, count: shard.count } },
  );
}

/** Throws NN_INVALID_DATA (naming the file and the byte counts) unless the shard file exists with the right size. */
export function checkShardFile(shard: ShardFile, inputDim: number, outputDim: number): void {
  const expected = shardOffsets(shard.count, inputDim, outputDim).bytes;
  let size: number;
  try {
    size = fs.statSync(shard.file).size;
  } catch (err) {
    throw openError(shard, expected, err);
  }
  if (size !== expected) throw sizeError(shard, size, expected, inputDim, outputDim);
}

/**
 * Reads a whole shard file into `into` (at least its size) with synchronous positional reads, for
 * the loader thread. Throws NN_INVALID_DATA naming the file and the byte counts when the file is
 * missing or its size is not count·(D+K)·4.
 */
export function readShardSync(shard: ShardFile, inputDim: number, outputDim: number, into: Uint8Array): void {
  const expected = shardOffsets(shard.count, inputDim, outputDim).bytes;
  let fd: number;
  try {
    fd = fs.openSync(shard.file, 'r');
  } catch (err) {
    throw openError(shard, expected, err);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size !== expected) throw sizeError(shard, size, expected, inputDim, outputDim);
    let offset = 0;
    while (offset < expected) {
      const n = fs.readSync(fd, into, offset, expected - offset, offset);
      if (n === 0) throw sizeError(shard, offset, expected, inputDim, outputDim); // shrank while being read
      offset += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** readShardSync with asynchronous reads, for passes on a thread whose event loop must stay free. */
export async function readShard(shard: ShardFile, inputDim: number, outputDim: number, into: Uint8Array): Promise<void> {
  const expected = shardOffsets(shard.count, inputDim, outputDim).bytes;
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(shard.file, 'r');
  } catch (err) {
    throw openError(shard, expected, err);
  }
  try {
    const size = (await handle.stat()).size;
    if (size !== expected) throw sizeError(shard, size, expected, inputDim, outputDim);
    let offset = 0;
    while (offset < expected) {
      const { bytesRead } = await handle.read(into, offset, expected - offset, offset);
      if (bytesRead === 0) throw sizeError(shard, offset, expected, inputDim, outputDim);
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * A byte buffer for shards of up to `rows` rows, and its float32 view (the file is little-endian
 * float32, which is this machine's order: see assertLittleEndian).
 */
export function shardBuffer(rows: number, inputDim: number, outputDim: number): { bytes: Uint8Array; values: Float32Array } {
  const buffer = new ArrayBuffer(shardOffsets(rows, inputDim, outputDim).bytes);
  return { bytes: new Uint8Array(buffer), values: new Float32Array(buffer) };
}

/** Shard files hold little-endian float32, read through a Float32Array view. */
export function assertLittleEndian(): void {
  if (new Uint8Array(Float32Array.of(1).buffer)[3] !== 0x3f) {
    throw new NnError('NN_INVALID_DATA', 'shard files are little-endian float32; this machine is big-endian');
  }
}

/**
 * Turns a read shard (`columns` layout in `values`) into normalized row-major inputs x (count×D:
 * each input through its transform and onto [-1, 1], by normalization.ts's normalizeInput) and
 * standardized outputs y (count×K: (raw − mean)/std), exactly as the in-memory trainer does.
 * Throws NN_INVALID_DATA naming the file, row and column of a non-finite value.
 */
export function normalizeShard(
  shard: ShardFile,
  values: Float32Array,
  a: NormalizationAffine,
  x: Float32Array,
  y: Float32Array,
): void {
  const n = shard.count;
  const D = a.inputScale.length;
  const K = a.outputScale.length;
  for (let j = 0; j < D; j++) {
    const col = j * n;
    for (let i = 0; i < n; i++) {
      const raw = values[col + i];
      const v = normalizeInput(a, j, raw);
      if (!Number.isFinite(v)) {
        const why = Number.isFinite(raw) ? ` (outside the domain of its ${a.inputTransform[j]} transform)` : '';
        throw new NnError('NN_INVALID_DATA', `shard ${shard.file}: input ${j} of row ${i} is ${raw}${why}`, {
          details: { file: shard.file, row: i, column: j, value: raw },
        });
      }
      x[i * D + j] = v;
    }
  }
  for (let k = 0; k < K; k++) {
    const col = (D + k) * n;
    const mean = a.outputShift[k];
    const std = a.outputScale[k];
    for (let i = 0; i < n; i++) {
      const raw = values[col + i];
      if (!Number.isFinite(raw)) {
        throw new NnError('NN_INVALID_DATA', `shard ${shard.file}: output ${k} of row ${i} is ${raw}`, {
          details: { file: shard.file, row: i, output: k, value: raw },
        });
      }
      y[i * K + k] = (raw - mean) / std;
    }
  }
}
