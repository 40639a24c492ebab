import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { RemotePricers, type GrpcPricerOptions } from '@surrogate/pricing';
import { loadSpecFileReachingPricer } from '@surrogate/spec';
import { trainingRefusal } from '@surrogate/trainer';
import { badInput, CliError, ExitCode } from '../cli-error';
import { runEmbedded } from '../embedded-run';
import { findResumeTarget, finishedSummary, type ResumeTarget } from '../resume-target';
import { memoryBudgetBytes } from './service';
import { ProgressDisplay } from '../progress-display';

export interface RunCommandOptions {
  out?: string;
  /** Carry on the run of the same spec in --out: from its last checkpoint, or its stored data. */
  resume?: boolean;
  /** Training sets above this many MiB (×3) are streamed from disk. */
  memoryBudgetMb?: string;
  threads?: string;
  quiet?: boolean;
  pricerModules?: string[];
  /** How to reach a gRPC pricer (TLS, token, deadlines, retries). */
  grpc?: GrpcPricerOptions;
}

/**
 * What `run` prints: the one-line JSON summary (stdout), its exit code, and for a run that failed
 * or was cancelled the error (stderr) as well.
 */
export interface RunResult {
  output: string;
  exitCode: ExitCode;
  error?: string;
}

/**
 * `surrogate run <spec> [--out DIR]`: the whole experiment in this process. Writes
 * DIR/model.onnx, DIR/report.json, DIR/spec.json; prints a one-line JSON summary on stdout.
 * Exit 0 when validation passes, 1 when it does not or the run fails, 2 on bad input
 * (nothing is written then). A gRPC pricer is described and checks the spec's box before the run
 * starts; one that cannot be reached then fails the run (exit 1) before anything is written.
 */
export async function runCommand(
  file: string | undefined,
  o: RunCommandOptions,
): Promise<RunResult> {
  if (!file) throw badInput('MISSING_ARGUMENT', 'usage: surrogate run <spec.yaml|spec.json> [--out DIR]');
  let threads: number | undefined;
  if (o.threads !== undefined) {
    threads = Number(o.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
      throw badInput('BAD_OPTION', `--threads = ${o.threads}: must be a whole number from 1 to 1024`);
  }
  memoryBudgetBytes(o.memoryBudgetMb); // bad input is found before anything starts
  const remotePricers = new RemotePricers(o.grpc ?? {});
  try {
    return await runWith(file, threads, remotePricers, o);
  } finally {
    remotePricers.close();
  }
}

async function runWith(
  file: string,
  threads: number | undefined,
  remotePricers: RemotePricers,
  o: RunCommandOptions,
): Promise<RunResult> {
  const spec = await loadSpecFileReachingPricer(file, remotePricers);
  // The trainer runs here: what it cannot train (a device it cannot use, the relative loss on a
  // streamed training set) is refused before any data is generated.
  const refusal = await trainingRefusal(spec, memoryBudgetBytes(o.memoryBudgetMb));
  if (refusal)
    throw new CliError(
      refusal.code === 'NN_DEVICE_UNAVAILABLE' ? 'DEVICE_UNAVAILABLE' : refusal.code,
      `${file}: ${refusal.field}: ${refusal.reason}`,
      ExitCode.badInput,
    );
  const outDir = path.resolve(o.out ?? path.join('out', spec.name));
  await mkdir(outDir, { recursive: true });

  const display = new ProgressDisplay(process.stderr, Boolean(process.stderr.isTTY), o.quiet ?? false);
  const target = o.resume ? await findResumeTarget(outDir, spec) : undefined;
  if (o.resume && !target) display.note(`nothing to resume in ${outDir}: starting afresh`);
  if (target?.status === 'done') {
    display.note(`the run ${target.experimentId} in ${outDir} has already finished`);
    const { summary, pass } = await finishedSummary(outDir, target.experimentId);
    return { output: JSON.stringify(summary), exitCode: pass ? ExitCode.ok : ExitCode.failed };
  }
  display.note(
    target
      ? `resuming ${target.experimentId} (${target.complete ? 'dataset complete' : 'dataset incomplete'}; ${
          target.checkpointStep !== undefined ? `checkpoint at step ${target.checkpointStep}` : 'no checkpoint yet'
        }) → ${outDir}`
      : `running ${spec.name}: ${spec.samples} samples of ${spec.pricer} in ${plural(Math.ceil(spec.samples / spec.chunkSize), 'chunk')} → ${outDir}`,
  );
  if (target) display.note(heldNote(target));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { experimentId, outcome, seconds } = await runEmbedded({
      spec,
      outDir,
      display,
      threads,
      signal: abort.signal,
      pricerModules: o.pricerModules,
      remotePricers,
      memoryBudgetBytes: memoryBudgetBytes(o.memoryBudgetMb),
      ...(target
        ? { experimentId: target.experimentId, resume: { complete: target.complete, held: target.held } }
        : {}),
    });
    switch (outcome.kind) {
      case 'modelReady': {
        const m = outcome.modelReady;
        const summary = {
          experimentId,
          pass: m.pass,
          maxAbsError: m.maxAbsError,
          rmse: m.rmse,
          validationSamples: m.validationSamples,
          model: m.modelUri,
          report: m.reportUri,
          seconds: tenths(seconds),
        };
        display.note(
          `${m.pass ? 'PASS' : 'FAIL'}: max abs error ${fmt(m.maxAbsError)}, RMSE ${fmt(m.rmse)} on ${m.validationSamples} held-out points; ${summary.seconds} s`,
        );
        return { output: JSON.stringify(summary), exitCode: m.pass ? ExitCode.ok : ExitCode.failed };
      }
      case 'failed': {
        const f = outcome.failed;
        return {
          output: JSON.stringify({ experimentId, pass: false, failed: { code: f.code, stage: f.stage, reason: f.reason }, seconds: tenths(seconds) }),
          exitCode: ExitCode.failed,
          error: `experiment ${experimentId} failed in ${f.stage}: ${f.reason}`,
        };
      }
      case 'rejected':
        throw new CliError(
          outcome.rejected.code ?? 'REJECTED',
          `experiment ${experimentId} rejected: ${outcome.rejected.reason}`,
          ExitCode.badInput,
        );
      case 'cancelled':
        return {
          output: JSON.stringify({ experimentId, pass: false, cancelled: { reason: outcome.cancelled.reason }, seconds: tenths(seconds) }),
          exitCode: ExitCode.failed,
          error: `experiment ${experimentId} cancelled: ${outcome.cancelled.reason}`,
        };
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** `resuming with 12 of 36 chunks held; generating the other 24` (or: none to generate). */
function heldNote(target: ResumeTarget): string {
  const held = target.held.training.length + target.held.validation.length;
  const total = target.expected.training + target.expected.validation;
  const rest = total - held;
  return `resuming with ${held} of ${total} chunks held; ${rest === 0 ? 'none to generate' : `generating the other ${rest}`}`;
}

function tenths(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined ? 'n/a' : x.toPrecision(3);
}

/** `1 chunk`, `4 chunks`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
