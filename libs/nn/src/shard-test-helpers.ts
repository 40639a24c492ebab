/** Helpers for the streaming tests (not exported from the package): shard files written as the trainer's DatasetStore writes them. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ShardSource } from './shard-source';

/** A dataset written as shards, with its rows also kept in memory (row-major, source order). */
export interface TestDataset {
  dir: string;
  source: ShardSource;
  count: number;
  inputs: Float32Array;
  outputs: Float32Array;
}

/**
 * Writes shards of `counts` rows: each file holds its inputs column by column, then its outputs
 * column by column, little-endian float32 (DatasetStore's `${purpose}-${index}.f32` layout).
 * `row(g, x, y)` fills raw row g (global, in source order).
 */
export function writeTestShards(
  counts: readonly number[],
  D: number,
  K: number,
  row: (g: number, x: Float32Array, y: Float32Array) => void,
): TestDataset {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-shards-'));
  const count = counts.reduce((a, b) => a + b, 0);
  const inputs = new Float32Array(count * D);
  const outputs = new Float32Array(count * K);
  const shards: { file: string; count: number }[] = [];
  let g = 0;
  counts.forEach((n, s) => {
    const bytes = Buffer.alloc(n * (D + K) * 4);
    for (let i = 0; i < n; i++, g++) {
      const x = inputs.subarray(g * D, (g + 1) * D);
      const y = outputs.subarray(g * K, (g + 1) * K);
      row(g, x, y);
      for (let j = 0; j < D; j++) bytes.writeFloatLE(x[j], (j * n + i) * 4);
      for (let k = 0; k < K; k++) bytes.writeFloatLE(y[k], ((D + k) * n + i) * 4);
    }
    const file = path.join(dir, `training-${String(s).padStart(6, '0')}.f32`);
    fs.writeFileSync(file, bytes);
    shards.push({ file, count: n });
  });
  return { dir, source: { shards, inputDim: D, outputDim: K, layout: 'columns' }, count, inputs, outputs };
}

export function removeTestShards(d: TestDataset): void {
  fs.rmSync(d.dir, { recursive: true, force: true });
}
