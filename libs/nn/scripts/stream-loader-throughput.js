'use strict';
// Throughput of StreamBatchLoader (shards on disk → normalized, shuffled batches) against the
// in-memory ThreadedBatchLoader on the same rows, measured in the same run. Prints JSON.
//
//   npx tsc -b && node scripts/stream-loader-throughput.js [--rows 2097152] [--shard 65536] [--batch 256] [--repeats 3]
//
// Shards are written to a temporary directory first, so they are read from the page cache (the
// figure is the loader's CPU cost, not the disk's).
const fs = require('fs');
const os = require('os');
const path = require('path');
const dist = path.join(__dirname, '..', 'dist');
const nn = require(dist);
const { ThreadedBatchLoader } = require(path.join(dist, 'batch-loader'));
const { interleaveRows, makeBatchPlan } = require(path.join(dist, 'batch-sampler'));
const { normalizeRows } = require(path.join(dist, 'normalization'));
const { initParameters } = require(path.join(dist, 'init-parameters'));
const { Rng } = require(path.join(dist, 'rng'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROWS = arg('rows', 1 << 21);
const SHARD = arg('shard', 65536);
const BATCH = arg('batch', 256);
const REPEATS = arg('repeats', 3);
const D = 6;
const K = 1;
const STEPS_PER_CALL = 8;

const normalization = {
  inputMin: [80, 0.1, 0, 0.1, 0, 90],
  inputMax: [120, 0.5, 0.08, 2, 0.05, 110],
  inputTransform: ['linear', 'sqrt', 'linear', 'log', 'linear', 'linear'],
  outputMean: [10],
  outputStd: [5],
};

function writeShards(dir) {
  const rng = new Rng(1);
  const inputs = new Float32Array(ROWS * D);
  const outputs = new Float32Array(ROWS * K);
  const shards = [];
  for (let first = 0, s = 0; first < ROWS; first += SHARD, s++) {
    const n = Math.min(SHARD, ROWS - first);
    const cols = new Float32Array(n * (D + K));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < D; j++) {
        const lo = normalization.inputMin[j];
        const v = lo + (normalization.inputMax[j] - lo) * rng.nextFloat();
        cols[j * n + i] = v;
        inputs[(first + i) * D + j] = cols[j * n + i];
      }
      const y = 10 + 5 * rng.nextNormal();
      cols[D * n + i] = y;
      outputs[first + i] = cols[D * n + i];
    }
    const file = path.join(dir, `training-${String(s).padStart(6, '0')}.f32`);
    fs.writeFileSync(file, new Uint8Array(cols.buffer));
    shards.push({ file, count: n });
  }
  return { source: { shards, inputDim: D, outputDim: K, layout: 'columns' }, inputs, outputs };
}

/** Samples/s of consuming `steps` steps through `loader.next`, STEPS_PER_CALL at a time. */
function drain(loader, steps) {
  const x = Array.from({ length: STEPS_PER_CALL }, () => new Float32Array(BATCH * D));
  const y = Array.from({ length: STEPS_PER_CALL }, () => new Float32Array(BATCH * K));
  // the first call includes the thread's start (and the first window's reads): time from there
  loader.next(STEPS_PER_CALL, x, y);
  const t0 = performance.now();
  let done = STEPS_PER_CALL;
  while (done + STEPS_PER_CALL <= steps) {
    loader.next(STEPS_PER_CALL, x, y);
    done += STEPS_PER_CALL;
  }
  const secs = (performance.now() - t0) / 1000;
  return Math.round(((done - STEPS_PER_CALL) * BATCH) / secs);
}

async function measure(make, steps) {
  const loader = make();
  try {
    return drain(loader, steps);
  } finally {
    await loader.close();
  }
}

function range(xs) {
  return { min: Math.min(...xs), max: Math.max(...xs), runs: xs };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-bench-'));
  try {
    const { source, inputs, outputs } = writeShards(dir);
    const steps = Math.floor(ROWS / BATCH);
    // reference: the in-memory loader on the same rows, normalized the same way
    const norm = { inputs: new Float32Array(ROWS * D), outputs: new Float32Array(ROWS * K) };
    normalizeRows(normalization, { inputs, outputs }, norm, ROWS);
    const rows = interleaveRows(norm.inputs, norm.outputs, ROWS, D, K, new SharedArrayBuffer(ROWS * (D + K) * 4));
    const plan = makeBatchPlan(ROWS, BATCH, 1, D, K, 7);
    const mlp = { inputDim: D, outputDim: K, hiddenLayers: [64, 64, 64], activation: 'silu' };
    const adjust = {
      model: nn.stagedModelOnnx(mlp, [{ theta: initParameters(mlp, new Rng(3)), scale: [1], shift: [0] }]),
      scale: [0.1],
      shift: [0.01],
    };
    const stream = (o) => () => new nn.StreamBatchLoader({ source, normalization, batchSize: BATCH, epochs: 1, seed: 7, aheadSteps: 32, ...o });
    const cases = {
      inMemoryThreaded: () => new ThreadedBatchLoader(rows, plan, 32),
      stream_window1M: stream({}),
      stream_window4Shards: stream({ windowRows: 4 * SHARD }),
      stream_window1M_residualAdjust3x64: stream({ adjust }),
    };
    const results = {};
    for (const name of Object.keys(cases)) results[name] = [];
    for (let r = 0; r < REPEATS; r++) {
      for (const [name, make] of Object.entries(cases)) results[name].push(await measure(make, steps));
    }
    // resume cost: build a loader at 90% of the epoch and time its first batch
    const resumeMs = [];
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      const loader = new nn.StreamBatchLoader({ source, normalization, batchSize: BATCH, epochs: 1, seed: 7, startStep: Math.floor(steps * 0.9) });
      loader.next(1, [new Float32Array(BATCH * D)], [new Float32Array(BATCH * K)]);
      resumeMs.push(Math.round(performance.now() - t0));
      await loader.close();
    }
    const samplesPerSec = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, range(v)]));
    const ref = samplesPerSec.inMemoryThreaded.max;
    console.log(
      JSON.stringify(
        {
          rows: ROWS,
          shardRows: SHARD,
          batch: BATCH,
          inputDim: D,
          outputDim: K,
          loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
          cpus: os.cpus().length,
          samplesPerSec,
          streamVsInMemory: Object.fromEntries(Object.entries(samplesPerSec).map(([k, v]) => [k, Math.round((v.max / ref) * 100) / 100])),
          resumeAt90PercentFirstBatchMs: range(resumeMs),
        },
        null,
        2,
      ),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
