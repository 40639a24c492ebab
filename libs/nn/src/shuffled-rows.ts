import { makeBatchPlan, type BatchPlan } from './batch-sampler';
import { NnError } from './nn-error';
import { Rng } from './rng';

/**
 * How streamed mini-batches map onto the rows of a sharded dataset: a BatchPlan over all shards'
 * rows (without loss weights or resampling, which need the rows in memory) plus the window.
 */
export interface StreamPlan extends Omit<BatchPlan, 'weightDim' | 'resample'> {
  /** Most rows the shuffle window holds (≥ the largest shard). */
  windowRows: number;
}

/** The shuffle window's default size: 2^20 rows ((D + K + 2)·4 bytes each: 36 MiB at D + K = 7), or the largest shard if bigger. */
export const DEFAULT_WINDOW_ROWS = 1 << 20;

/**
 * The plan for `counts` (rows per shard, in the source's order). `windowRows` below the largest
 * shard is an error (a shard is loaded whole); above the dataset it is cut to the dataset.
 */
export function makeStreamPlan(
  counts: readonly number[],
  inputDim: number,
  outputDim: number,
  options: { batchSize: number; epochs: number; seed: number; windowRows?: number },
): StreamPlan {
  const { batchSize, epochs, seed, windowRows } = options;
  const fail = (field: string, value: unknown, rule: string): never => {
    throw new NnError('NN_INVALID_CONFIG', `${field} must be ${rule}, got ${String(value)}`, { details: { field, value, rule } });
  };
  const posInt = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (!posInt(batchSize)) fail('batchSize', batchSize, 'a positive integer');
  if (!posInt(epochs)) fail('epochs', epochs, 'a positive integer');
  if (!Number.isFinite(seed)) fail('seed', seed, 'a finite number');
  let count = 0;
  let largest = 0;
  for (const c of counts) {
    count += c;
    largest = Math.max(largest, c);
  }
  if (windowRows !== undefined && !(posInt(windowRows) && windowRows >= largest)) {
    fail('windowRows', windowRows, `an integer ≥ the largest shard (${largest} rows)`);
  }
  const window = Math.min(count, windowRows ?? Math.max(DEFAULT_WINDOW_ROWS, largest));
  if (window > 0x7fffffff) fail('windowRows', window, 'below 2^31');
  const p = makeBatchPlan(count, batchSize, epochs, inputDim, outputDim, seed);
  return {
    count,
    batch: p.batch,
    stepsPerEpoch: p.stepsPerEpoch,
    totalSteps: p.totalSteps,
    inputDim,
    outputDim,
    seed,
    windowRows: window,
  };
}

/** murmur3's 32-bit finalizer: a bijection on 32-bit integers that mixes every bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of epoch `epoch`'s generator: distinct epochs of one seed get distinct seeds. */
export function epochSeed(seed: number, epoch: number): number {
  const s = (Math.trunc(seed) ^ Math.trunc(seed / 0x100000000)) >>> 0;
  return (s ^ fmix32(epoch + 1)) >>> 0;
}

/**
 * Fills x (count×D) and y (count×K) with shard `shard`'s rows (normalized, and adjusted if the
 * stage asks for it), row i of the shard at row i.
 */
export type ShardLoad = (shard: number, x: Float32Array, y: Float32Array) => void | Promise<void>;

/**
 * Streams a sharded dataset as shuffled mini-batches through a bounded shuffle window.
 *
 * Epoch e draws from a generator seeded by (seed, e): first a permutation of the shard order,
 * then, for every row of every batch, a uniform slot of the window, whose row is taken out (the
 * last slot moves into its place). Before each draw, the next shards of the permutation are
 * loaded into the window while they fit in `windowRows`. So within an epoch every row is drawn
 * exactly once (the fewer than `batch` rows still undrawn at its end are dropped), a row can end
 * up next to any row loaded within a few windows of it, and which rows meet changes every epoch.
 *
 * The state at the start of any step depends only on (seed, epoch) and the number of draws made
 * in the epoch, so `seek` reaches it by replaying the epoch's draws on row identities alone (no
 * I/O) and then reading only the shards that still have rows in the window.
 */
export class ShuffledRows {
  /** Words (32-bit) per slot: [x (D) | y (K) | shard | row of the shard]. */
  private readonly stride: number;
  /** The window, windowRows slots, as floats (the rows) and as integers (the identities). */
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array;
  private readonly order: Uint32Array;
  /** A shard's rows as the loader gives them. */
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private rng = new Rng(0);
  private size = 0;
  /** Shards of `order` loaded so far this epoch. */
  private loaded = 0;
  /** The next shard is loaded once `size` is at most this (−1: no shard left this epoch). */
  private admitAt = -1;
  private epoch = -1;
  /** The step the next fill must be for; -1 before seek. */
  private step = -1;
  private peak = 0;

  constructor(
    private readonly counts: readonly number[],
    private readonly plan: StreamPlan,
    private readonly load: ShardLoad,
  ) {
    const { windowRows, inputDim: D, outputDim: K } = plan;
    // identities live beside their row, so that a draw touches one place in memory, not three
    this.stride = D + K + 2;
    const buffer = new ArrayBuffer(windowRows * this.stride * 4);
    this.f32 = new Float32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.order = new Uint32Array(counts.length);
    let largest = 0;
    for (const c of counts) largest = Math.max(largest, c);
    this.x = new Float32Array(largest * D);
    this.y = new Float32Array(largest * K);
  }

  /** Rows in the window now. */
  get heldRows(): number {
    return this.size;
  }

  /** Most rows the window has held. */
  get peakRows(): number {
    return this.peak;
  }

  /** Puts the stream at the start of step `step` (0 ≤ step ≤ totalSteps). */
  async seek(step: number): Promise<void> {
    const { stepsPerEpoch, totalSteps, batch } = this.plan;
    if (!(Number.isInteger(step) && step >= 0 && step <= totalSteps)) {
      throw new NnError('NN_INVALID_CONFIG', `startStep must be an integer from 0 to ${totalSteps}, got ${step}`, {
        details: { field: 'startStep', value: step, totalSteps },
      });
    }
    this.step = step;
    if (step === totalSteps) return;
    const epoch = Math.floor(step / stepsPerEpoch);
    this.startEpoch(epoch);
    const draws = (step - epoch * stepsPerEpoch) * batch;
    if (draws === 0) return;
    const u32 = this.u32;
    const stride = this.stride;
    const id = stride - 2;
    for (let r = 0; r < draws; r++) {
      while (this.size <= this.admitAt) this.admitIds();
      // the draw of fill, on identities only
      const j = this.pick();
      const last = --this.size;
      u32[j * stride + id] = u32[last * stride + id];
      u32[j * stride + id + 1] = u32[last * stride + id + 1];
    }
    await this.materialize();
  }

  /** Writes step `step`'s batch: inputs to x[xOffset…] (B×D), targets to y[yOffset…] (B×K). Steps come in order. */
  async fill(step: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number): Promise<void> {
    const { stepsPerEpoch, totalSteps, batch, inputDim: D, outputDim: K } = this.plan;
    if (step !== this.step || step >= totalSteps) {
      throw new NnError('TRAINING_FAILED', `the stream is at step ${this.step} of ${totalSteps}, step ${step} was asked for`, {
        details: { step, expected: this.step, totalSteps },
      });
    }
    const epoch = Math.floor(step / stepsPerEpoch);
    if (epoch !== this.epoch) this.startEpoch(epoch);
    const stride = this.stride;
    const f32 = this.f32;
    const u32 = this.u32;
    for (let i = 0; i < batch; i++) {
      while (this.size <= this.admitAt) await this.admit();
      const j = this.pick() * stride;
      const xo = xOffset + i * D;
      const yo = yOffset + i * K;
      for (let d = 0; d < D; d++) x[xo + d] = f32[j + d];
      for (let k = 0; k < K; k++) y[yo + k] = f32[j + D + k];
      // take slot j out: the last slot moves into it (as integers: bit for bit)
      const last = --this.size * stride;
      if (last !== j) for (let w = 0; w < stride; w++) u32[j + w] = u32[last + w];
    }
    this.step++;
  }

  private startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.rng = new Rng(epochSeed(this.plan.seed, epoch));
    for (let s = 0; s < this.order.length; s++) this.order[s] = s;
    this.rng.shuffle(this.order);
    this.size = 0;
    this.loaded = 0;
    this.setAdmitAt();
  }

  /** The next shard of the epoch's order fits in the window once it holds at most windowRows − its rows. */
  private setAdmitAt(): void {
    this.admitAt = this.loaded < this.order.length ? this.plan.windowRows - this.counts[this.order[this.loaded]] : -1;
  }

  /** Appends the next shard's row identities to the window; returns the shard. */
  private admitIds(): number {
    const shard = this.order[this.loaded++];
    const n = this.counts[shard];
    const stride = this.stride;
    const id = (this.size * stride) + stride - 2;
    for (let i = 0; i < n; i++) {
      this.u32[id + i * stride] = shard;
      this.u32[id + i * stride + 1] = i;
    }
    this.size += n;
    if (this.size > this.peak) this.peak = this.size;
    this.setAdmitAt();
    return shard;
  }

  /** Appends the next shard (identities and rows) to the window. */
  private async admit(): Promise<void> {
    const first = this.size;
    const shard = this.admitIds();
    await this.load(shard, this.x, this.y);
    for (let i = 0; i < this.counts[shard]; i++) this.copyRow(first + i, i);
  }

  /** Copies row `row` of the loaded shard into slot `slot`. */
  private copyRow(slot: number, row: number): void {
    const { inputDim: D, outputDim: K } = this.plan;
    const o = slot * this.stride;
    for (let d = 0; d < D; d++) this.f32[o + d] = this.x[row * D + d];
    for (let k = 0; k < K; k++) this.f32[o + D + k] = this.y[row * K + k];
  }

  /** A uniform slot of the window (multiply-shift of 32 random bits, as in Rng.shuffle). */
  private pick(): number {
    return Math.floor((this.rng.nextU32() * this.size) / 4294967296);
  }

  /** Reads the rows of the window's identities, shard by shard (after a replay on identities). */
  private async materialize(): Promise<void> {
    const shards = this.counts.length;
    const stride = this.stride;
    const shardOf = (slot: number): number => this.u32[slot * stride + stride - 2];
    const start = new Uint32Array(shards + 1);
    for (let s = 0; s < this.size; s++) start[shardOf(s) + 1]++;
    for (let s = 0; s < shards; s++) start[s + 1] += start[s];
    const next = start.slice(0, shards);
    const slots = new Uint32Array(this.size);
    for (let s = 0; s < this.size; s++) slots[next[shardOf(s)]++] = s;
    for (let shard = 0; shard < shards; shard++) {
      if (start[shard + 1] === start[shard]) continue;
      await this.load(shard, this.x, this.y);
      for (let t = start[shard]; t < start[shard + 1]; t++) this.copyRow(slots[t], this.u32[slots[t] * stride + stride - 1]);
    }
  }
}
