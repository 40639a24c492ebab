import { NnError } from './nn-error';
import { epochSeed, makeStreamPlan, ShuffledRows, type ShardLoad, type StreamPlan } from './shuffled-rows';

/** Row g of the dataset carries its id g as its one input and its one target. */
function idLoader(counts: readonly number[], loads: number[] = []): ShardLoad {
  const first = counts.map((_, s) => counts.slice(0, s).reduce((a, b) => a + b, 0));
  return (s, x, y) => {
    loads.push(s);
    for (let i = 0; i < counts[s]; i++) {
      x[i] = first[s] + i;
      y[i] = first[s] + i;
    }
  };
}

/** Row ids of steps from … to−1, one array per step, from a stream sought to `from`. */
async function ids(counts: readonly number[], plan: StreamPlan, from: number, to: number): Promise<number[][]> {
  const stream = new ShuffledRows(counts, plan, idLoader(counts));
  await stream.seek(from);
  const out: number[][] = [];
  const x = new Float32Array(plan.batch);
  const y = new Float32Array(plan.batch);
  for (let step = from; step < to; step++) {
    await stream.fill(step, x, 0, y, 0);
    expect(Array.from(x)).toEqual(Array.from(y));
    out.push(Array.from(y));
  }
  return out;
}

const COUNTS = [37, 50, 12, 50, 41, 3, 50, 29, 44, 50, 18, 50]; // 434 rows, uneven shards

describe('ShuffledRows', () => {
  it('uses every row exactly once per epoch (minus the dropped partial batch), on data 10× the window', async () => {
    const counts = Array.from({ length: 40 }, (_, s) => 180 + ((s * 37) % 41)); // 8,000 rows
    const total = counts.reduce((a, b) => a + b, 0);
    const plan = makeStreamPlan(counts, 1, 1, { batchSize: 64, epochs: 3, seed: 11, windowRows: Math.floor(total / 10) });
    expect(plan.windowRows * 10).toBeLessThanOrEqual(total);
    const stream = new ShuffledRows(counts, plan, idLoader(counts));
    await stream.seek(0);
    const x = new Float32Array(plan.batch);
    const y = new Float32Array(plan.batch);
    for (let e = 0; e < 3; e++) {
      const seen = new Uint8Array(total);
      for (let s = 0; s < plan.stepsPerEpoch; s++) {
        await stream.fill(e * plan.stepsPerEpoch + s, x, 0, y, 0);
        for (const g of y) seen[g]++;
        expect(stream.heldRows).toBeLessThanOrEqual(plan.windowRows);
      }
      expect(seen.every((c) => c <= 1)).toBe(true);
      expect(seen.reduce((a, c) => a + c, 0)).toBe(plan.stepsPerEpoch * plan.batch);
      expect(total - plan.stepsPerEpoch * plan.batch).toBe(total % 64);
    }
    expect(stream.peakRows).toBeLessThanOrEqual(plan.windowRows);
    expect(stream.peakRows).toBeGreaterThan(plan.windowRows - 221); // the window is used, not just one shard
  });

  it('mixes rows of several shards in a batch, and different rows meet in every epoch and seed', async () => {
    const counts = Array.from({ length: 20 }, () => 100);
    const plan = makeStreamPlan(counts, 1, 1, { batchSize: 20, epochs: 2, seed: 5, windowRows: 400 });
    const [epoch0, epoch1] = [await ids(counts, plan, 0, 100), await ids(counts, plan, 100, 200)];
    const other = await ids(counts, { ...plan, seed: 6 }, 0, 100);
    // a batch drawn from a 4-shard window holds rows of several shards
    const shardsIn = (batch: number[]): number => new Set(batch.map((g) => Math.floor(g / 100))).size;
    expect(shardsIn(epoch0[0])).toBeGreaterThanOrEqual(3);
    // pairs of rows that share a batch: few of epoch 0's meet again in epoch 1 or under another seed
    const pairs = (batches: number[][]): Set<number> => {
      const out = new Set<number>();
      for (const b of batches) for (const i of b) for (const j of b) if (i < j) out.add(i * 2000 + j);
      return out;
    };
    const p0 = pairs(epoch0);
    const again = (p: Set<number>): number => [...p].filter((k) => p0.has(k)).length / p.size;
    expect(again(pairs(epoch1))).toBeLessThan(0.05);
    expect(again(pairs(other))).toBeLessThan(0.05);
    expect(epoch0.flat()).not.toEqual(epoch1.flat());
    // and the order is not the file order: the epoch's first rows come from a permuted shard
    expect(epoch0[0].some((g) => g >= 100)).toBe(true);
  });

  it('is deterministic, and a stream sought to any step yields what a fresh one yields from there', async () => {
    const plan = makeStreamPlan(COUNTS, 1, 1, { batchSize: 16, epochs: 3, seed: 2, windowRows: 120 });
    expect(plan.stepsPerEpoch).toBe(27); // 434 = 27·16 + 2
    const reference = await ids(COUNTS, plan, 0, plan.totalSteps);
    expect(await ids(COUNTS, plan, 0, plan.totalSteps)).toEqual(reference);
    for (let k = 0; k < plan.totalSteps; k++) {
      expect(await ids(COUNTS, plan, k, Math.min(plan.totalSteps, k + 3))).toEqual(reference.slice(k, k + 3));
    }
  });

  it('after a seek, reads only shards that still have rows in the window', async () => {
    const counts = Array.from({ length: 60 }, () => 50);
    const plan = makeStreamPlan(counts, 1, 1, { batchSize: 10, epochs: 1, seed: 9, windowRows: 200 });
    const played: number[] = [];
    const full = new ShuffledRows(counts, plan, idLoader(counts, played));
    await full.seek(0);
    const x = new Float32Array(10);
    for (let step = 0; step < 280; step++) await full.fill(step, x, 0, x, 0); // 2,800 of 3,000 rows drawn
    const loads: number[] = [];
    const stream = new ShuffledRows(counts, plan, idLoader(counts, loads));
    await stream.seek(280);
    expect(new Set(loads).size).toBe(loads.length);
    expect(loads.every((s) => played.includes(s))).toBe(true);
    expect(loads.length).toBeLessThan(played.length / 2);
    expect(stream.heldRows).toBe(full.heldRows);
  });

  it('seeds epochs apart and validates its plan', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, e) => epochSeed(7, e)));
    expect(seeds.size).toBe(1000);
    expect(epochSeed(7, 0)).not.toBe(epochSeed(8, 0));
    expect(() => makeStreamPlan([10, 20], 1, 1, { batchSize: 4, epochs: 1, seed: 1, windowRows: 19 })).toThrow(
      expect.objectContaining({ code: 'NN_INVALID_CONFIG', message: expect.stringContaining('windowRows must be an integer ≥ the largest shard (20 rows), got 19') }),
    );
    expect(() => makeStreamPlan([10], 1, 1, { batchSize: 0, epochs: 1, seed: 1 })).toThrow(NnError);
    const p = makeStreamPlan([10, 20], 2, 1, { batchSize: 7, epochs: 3, seed: 1 });
    expect(p).toEqual({ count: 30, batch: 7, stepsPerEpoch: 4, totalSteps: 12, inputDim: 2, outputDim: 1, seed: 1, windowRows: 30 });
  });
});
