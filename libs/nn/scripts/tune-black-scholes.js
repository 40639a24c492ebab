'use strict';
// Tuning harness for the default training settings on the product's headline example:
// Black–Scholes call (K = 100, q = 0), spot∈[80,120], vol∈[0.1,0.5], rate∈[0,0.08], maturity∈[0.1,2].
// Training: 2^20 scrambled-Sobol points; validation: 65,536 independent uniform points.
// Target with the defaults: max abs error ≤ 0.01, RMSE ≤ 0.002, training ≤ ~200 s on 2 cores.
//
//   npx tsc -b && node scripts/tune-black-scholes.js [--public] [--layers 64,64,64] [--act silu]
//     [--epochs N] [--batch B] [--lr X] [--flr X] [--train N] [--seed S] [--threads T] [--unroll U]
//     [--tx linear,linear,linear,sqrt]   (input transforms of spot, volatility, rate, maturity)
//
// Without flags it runs the public path (trainMlp in a worker, exportInferenceModel, InferenceModel)
// with the product's defaults (@surrogate/spec DEFAULTS.training). With any training flag it runs the loop in-thread for quick iteration.
const path = require('path');
const dist = process.env.NN_DIST ?? path.join(__dirname, '..', 'dist');
const nn = require(dist);
const { trainNormalized } = require(path.join(dist, 'train-loop'));
const { normalizeRows } = require(path.join(dist, 'normalization'));
const { predictRaw } = require(path.join(dist, 'mlp-reference'));
const { splitParameters } = require(path.join(dist, 'mlp-config'));
const { learningRateAt } = require(path.join(dist, 'lr-schedule'));
const { Rng } = require(path.join(dist, 'rng'));
const { initParameters } = require(path.join(dist, 'init-parameters'));
const { sobol, makeData, BOX } = require('./black-scholes-data');

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[key] = true;
    else args[key] = (i++, next);
  }
  return args;
}

function errors(pred, truth) {
  let se = 0;
  let max = 0;
  let at = -1;
  for (let i = 0; i < truth.length; i++) {
    const e = Math.abs(pred[i] - truth[i]);
    se += e * e;
    if (e > max) {
      max = e;
      at = i;
    }
  }
  return { rmse: Math.sqrt(se / truth.length), max, at };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const spec = require('@surrogate/spec');
  const D = { ...spec.DEFAULTS.training, epochs: spec.defaultEpochs(Number(args.train ?? 1 << 20)) };
  const mlp = {
    inputDim: 4,
    outputDim: 1,
    hiddenLayers: args.layers ? String(args.layers).split(',').map(Number) : [...D.hiddenLayers],
    activation: args.act ?? D.activation,
  };
  const config = {
    epochs: Number(args.epochs ?? D.epochs),
    batchSize: Number(args.batch ?? D.batchSize),
    learningRate: Number(args.lr ?? D.learningRate),
    finalLearningRate: Number(args.flr ?? D.finalLearningRate),
    seed: Number(args.seed ?? 1),
    threads: Number(args.threads ?? D.threads),
    stages: Number(args.stages ?? D.stages),
  };
  const nTrain = Number(args.train ?? 1 << 20);
  const usePublic = args.public === true || !['layers', 'act', 'epochs', 'batch', 'lr', 'flr', 'unroll', 'warmup', 'sched', 'igain', 'hgain', 'inline', 'stage2', 'nors', 'rs', 'rsstart', 'rsevery', 'rspow'].some((k) => k in args);

  const t0 = performance.now();
  const train = makeData(sobol(nTrain, 4, new Rng(1000 + config.seed)), nTrain);
  const vrng = new Rng(2000 + config.seed);
  const vunit = Float64Array.from({ length: 65536 * 4 }, () => vrng.nextFloat());
  const valid = makeData(vunit, 65536);
  const tData = (performance.now() - t0) / 1000;
  const stats = nn.computeOutputStats(train.outputs, train.count, 1);
  const box = { min: [...BOX.min], max: [...BOX.max] };
  // how the network sees each input (the product's default: maturity on a square-root scale)
  const inputTransform = args.tx ? String(args.tx).split(',') : ['linear', 'linear', 'linear', 'sqrt'];
  const normalization = { inputMin: box.min, inputMax: box.max, inputTransform, outputMean: stats.mean, outputStd: stats.std };
  console.log(
    `data ${tData.toFixed(1)} s; mlp ${mlp.hiddenLayers.join('x')} ${mlp.activation}; ` +
      `epochs ${config.epochs} batch ${config.batchSize} lr ${config.learningRate}→${config.finalLearningRate} threads ${config.threads}; ` +
      `${usePublic ? 'public trainMlp (worker)' : 'in-thread loop'}`,
  );

  const onProgress = (p) => {
    if (p.epoch % Math.max(1, Math.floor(p.epochs / 10)) === 0 || p.epoch === p.epochs)
      console.log(
        `  epoch ${p.epoch}/${p.epochs} loss ${p.loss.toExponential(3)} lr ${p.learningRate.toExponential(2)} ` +
          `${(p.samplesPerSec / 1e3).toFixed(0)}k samples/s  t=${((performance.now() - t1) / 1000).toFixed(1)} s`,
      );
  };
  const t1 = performance.now();
  let parameters;
  let pred;
  if (usePublic) {
    const model = await nn.trainMlp(train, mlp, normalization, config, { onProgress });
    var tTrain = (performance.now() - t1) / 1000;
    const bytes = nn.exportInferenceModel(model, { inputNames: ['spot', 'vol', 'rate', 'maturity'], outputNames: ['price'] });
    const im = await nn.InferenceModel.load(bytes);
    pred = await im.predict(valid.inputs, valid.count);
    await im.close();
    parameters = model.parameters;
  } else {
    const normed = { inputs: new Float32Array(train.inputs), outputs: new Float32Array(train.outputs), count: train.count };
    normalizeRows(normalization, train, normed, train.count);
    const warmup = args.warmup === undefined ? undefined : Number(args.warmup);
    const lr0 = config.learningRate;
    const lr1 = config.finalLearningRate;
    const shapes = {
      logcos: (g, T) => learningRateAt(g, T, lr0, lr1, warmup),
      cos: (g, T) => {
        const w = Math.floor(T * (warmup ?? 0.01));
        if (g < w) return (lr0 * (g + 1)) / w;
        const p = (g - w) / Math.max(1, T - 1 - w);
        return lr1 + (lr0 - lr1) * 0.5 * (1 + Math.cos(Math.PI * p));
      },
      exp: (g, T) => {
        const w = Math.floor(T * (warmup ?? 0.01));
        if (g < w) return (lr0 * (g + 1)) / w;
        const p = (g - w) / Math.max(1, T - 1 - w);
        return lr0 * Math.pow(lr1 / lr0, p);
      },
    };
    const r = await trainNormalized(normed, mlp, config, {
      onProgress,
      stepsPerRun: args.unroll ? Number(args.unroll) : undefined,
      schedule: shapes[args.sched ?? 'logcos'],
      loader: args.inline ? 'inline' : 'thread',
      resample: args.nors
        ? null
        : args.rs || args.rsstart || args.rsevery || args.rspow
          ? { startFraction: Number(args.rsstart ?? 0.3), everyEpochs: Number(args.rsevery ?? 5), mix: Number(args.rs ?? 0.5), power: Number(args.rspow ?? 2) }
          : undefined,
      initialTheta: args.igain || args.hgain ? initParameters(mlp, new Rng(config.seed), { inputGain: args.igain ? Number(args.igain) : undefined, hiddenGain: args.hgain ? Number(args.hgain) : undefined }) : undefined,
    });
    var tTrain = (performance.now() - t1) / 1000;
    if (args.savetheta) require('fs').writeFileSync(String(args.savetheta), Buffer.from(r.theta.buffer));
    console.log(`  finalLoss (training-set MSE, normalized) ${r.finalLoss.toExponential(3)} → rmse ${(Math.sqrt(r.finalLoss) * stats.std[0]).toExponential(3)}`);
    parameters = splitParameters(mlp, r.theta);
    pred = predictRaw(mlp, normalization, parameters, valid.inputs, valid.count);
    if (args.stage2) {
      // experiment: a second network fitted to the first one's residual, rescaled to unit size
      const e1 = errors(pred, valid.outputs);
      console.log(`  stage 1: valid rmse ${e1.rmse.toExponential(3)} max ${e1.max.toExponential(3)}`);
      const p1 = predictRaw(mlp, normalization, parameters, train.inputs, train.count);
      const resid = new Float32Array(train.count);
      for (let i = 0; i < train.count; i++) resid[i] = train.outputs[i] - p1[i];
      const rs = nn.computeOutputStats(resid, train.count, 1);
      const norm2 = { ...normalization, outputMean: rs.mean, outputStd: rs.std };
      const normed2 = { inputs: new Float32Array(train.inputs), outputs: new Float32Array(resid), count: train.count };
      normalizeRows(norm2, { inputs: train.inputs, outputs: resid }, normed2, train.count);
      const config2 = { ...config, epochs: Number(args.stage2), seed: config.seed + 1, learningRate: Number(args.lr2 ?? config.learningRate) };
      const r2 = await trainNormalized(normed2, mlp, config2, {
        onProgress,
        initialTheta: initParameters(mlp, new Rng(config2.seed), { inputGain: Number(args.igain2 ?? 3) }),
      });
      const pred2 = predictRaw(mlp, norm2, splitParameters(mlp, r2.theta), valid.inputs, valid.count);
      for (let i = 0; i < pred.length; i++) pred[i] += pred2[i];
      var tTrain = (performance.now() - t1) / 1000;
    }
  }
  if (args.save) {
    const model = { mlp, normalization, parameters, finalLoss: 0, epochs: config.epochs, steps: 0, lossHistory: [] };
    require('fs').writeFileSync(String(args.save), nn.exportInferenceModel(model, { inputNames: ['spot', 'vol', 'rate', 'maturity'], outputNames: ['price'] }));
  }
  const ev = errors(pred, valid.outputs);
  // error by total volatility σ√T (the corner of small σ√T is where the price has a sharp kink)
  const bins = [0, 0.05, 0.1, 0.2, 0.4, 1];
  const byBin = bins.slice(1).map(() => ({ n: 0, se: 0, max: 0 }));
  for (let i = 0; i < valid.count; i++) {
    const w = valid.inputs[i * 4 + 1] * Math.sqrt(valid.inputs[i * 4 + 3]);
    const b = bins.findIndex((edge, j) => j > 0 && w < edge) - 1;
    const e = Math.abs(pred[i] - valid.outputs[i]);
    byBin[b].n++;
    byBin[b].se += e * e;
    byBin[b].max = Math.max(byBin[b].max, e);
  }
  console.log(
    '  by σ√T: ' +
      byBin.map((b, j) => `[${bins[j]},${bins[j + 1]}) n=${b.n} rmse ${Math.sqrt(b.se / Math.max(1, b.n)).toExponential(2)} max ${b.max.toExponential(2)}`).join(' | '),
  );
  const tr = errors(predictRaw(mlp, normalization, parameters, train.inputs.subarray(0, 65536 * 4), 65536), train.outputs.subarray(0, 65536));
  const x = Array.from(valid.inputs.subarray(ev.at * 4, ev.at * 4 + 4)).map((v) => +v.toFixed(4));
  const ok = ev.max <= 0.01 && ev.rmse <= 0.002;
  console.log(
    `RESULT ${ok ? 'PASS' : 'FAIL'} valid rmse ${ev.rmse.toExponential(3)} max ${ev.max.toExponential(3)} at [${x}] | ` +
      `train(64k) rmse ${tr.rmse.toExponential(3)} max ${tr.max.toExponential(3)} | train ${tTrain.toFixed(1)} s, ` +
      `total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
