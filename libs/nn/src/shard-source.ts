import * as path from 'path';
import { NnError } from './nn-error';

/**
 * How a shard file lays out its `count` rows. `columns` is the trainer's DatasetStore format (and
 * the chunks' wire format): little-endian float32, column-major, the D input columns then the K
 * output columns, each `count` values long; the file is exactly count·(D+K)·4 bytes.
 */
export type ShardLayout = 'columns';

/** One shard file and the number of rows it holds. */
export interface ShardFile {
  /** Path of the file (absolute, or relative to the process's working directory). */
  file: string;
  count: number;
}

/**
 * A dataset stored as shard files, read a few at a time. The order of `shards` is part of what
 * makes streamed batches reproducible: the same seed gives the same batches only over the same
 * list in the same order.
 */
export interface ShardSource {
  shards: readonly ShardFile[];
  inputDim: number;
  outputDim: number;
  layout: ShardLayout;
}

/** Byte offsets within one shard of the `columns` layout. */
export interface ShardOffsets {
  /** Bytes of the whole file. */
  bytes: number;
  /** Offset of input column j: inputs + j·columnBytes. */
  inputs: number;
  /** Offset of output column k: outputs + k·columnBytes. */
  outputs: number;
  columnBytes: number;
}

/** Where a shard's columns sit in its file. */
export function shardOffsets(count: number, inputDim: number, outputDim: number): ShardOffsets {
  const columnBytes = count * 4;
  return { bytes: columnBytes * (inputDim + outputDim), inputs: 0, outputs: columnBytes * inputDim, columnBytes };
}

/** Total rows of a source. */
export function sourceRows(source: ShardSource): number {
  let n = 0;
  for (const s of source.shards) n += s.count;
  return n;
}

/** Rows of the largest shard. */
export function largestShard(source: ShardSource): number {
  let n = 0;
  for (const s of source.shards) n = Math.max(n, s.count);
  return n;
}

/** Throws NN_INVALID_DATA unless `source` describes at least one row in well-formed shards. */
export function validateShardSource(source: ShardSource): void {
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new NnError('NN_INVALID_DATA', `shard source: ${field} must be ${rule}, got ${String(value)}`, { details: { field, value, rule } });
  };
  const posInt = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (!posInt(source.inputDim)) fail('inputDim', source.inputDim, 'a positive integer');
  if (!posInt(source.outputDim)) fail('outputDim', source.outputDim, 'a positive integer');
  if (source.layout !== 'columns') fail('layout', source.layout, "'columns'");
  if (!Array.isArray(source.shards) || source.shards.length === 0) fail('shards', source.shards?.length, 'a non-empty array');
  source.shards.forEach((s, i) => {
    if (typeof s?.file !== 'string' || s.file === '') fail(`shards[${i}].file`, s?.file, 'a non-empty path');
    if (!posInt(s.count)) fail(`shards[${i}].count`, s.count, 'a positive integer');
  });
  const total = sourceRows(source);
  if (total > Number.MAX_SAFE_INTEGER / 4) fail('total rows', total, 'at most 2^51');
}

/**
 * A ShardSource over a DatasetStore directory: `shards` are the manifest's chunk records of one
 * purpose ({ file, count, start } with `file` relative to `dir`). They are put in sequence order
 * (by `start`, then by file name) so that the source, and so the streamed batches, do not depend
 * on the order in which the chunks happened to arrive.
 */
export function datasetShardSource(
  dir: string,
  shards: readonly { file: string; count: number; start?: number }[],
  inputDim: number,
  outputDim: number,
): ShardSource {
  const ordered = [...shards].sort((a, b) => (a.start ?? 0) - (b.start ?? 0) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const source: ShardSource = {
    shards: ordered.map((s) => ({ file: path.join(dir, s.file), count: s.count })),
    inputDim,
    outputDim,
    layout: 'columns',
  };
  validateShardSource(source);
  return source;
}
