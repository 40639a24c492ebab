import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError } from '@surrogate/bench';
import { GrpcPricerError, loadPricerModules } from '@surrogate/pricing';
import { SurrogateError } from '@surrogate/core';
import { SpecError } from '@surrogate/spec';
import { badInput, CliError, ExitCode } from './cli-error';
import { checkCommandFlags } from './command-flags';
import { benchCommand } from './commands/bench';
import { cancelCommand } from './commands/cancel';
import { predictCommand } from './commands/predict';
import { priceCommand } from './commands/price';
import { pricerServerCommand, PRICER_SERVER_TOKEN_ENV } from './commands/pricer-server';
import { runCommand } from './commands/run';
import { EXPERIMENT_API_TOKEN_ENV, serviceCommand, type ServiceCommandOptions } from './commands/service';
import { submitCommand } from './commands/submit';
import { validateCommand } from './commands/validate';
import { serveCommand, SERVE_TOKEN_ENV } from './commands/serve';
import { grpcOptionsFrom, type GrpcFlagValues } from './grpc-settings';

export const USAGE = `surrogate — turn slow pricers into fast neural-network surrogates

Usage:
  surrogate run <spec> [--out DIR] [--resume] [--threads N] [--quiet]
                                                             run an experiment end to end, in this process
  surrogate validate <spec> [--offline]                      check a spec; print it with every default filled in
  surrogate price <pricer> --params '<json>'                 price one point; print every output as JSON
  surrogate predict <model.onnx> --params '<json>' [--allow-extrapolation]
                                                             evaluate a trained model (an object, or an array of them)
  surrogate serve <model.onnx> [--port P | --listen HOST:PORT] [--tls-cert F --tls-key F [--tls-client-ca F]]
                 [--allow-extrapolation] [--metrics HOST:PORT]
                                                             serve a model over gRPC (InferenceService, health);
                                                             a bearer token is required when $${SERVE_TOKEN_ENV} is set

Distributed (each service its own process, talking through Apache Pulsar; each takes [--metrics HOST:PORT]):
  surrogate producer --pulsar URL [--redis URL] [--job-timeout-ms MS] [--ended-ttl-ms MS]
                    [--api HOST:PORT [--tls-cert F --tls-key F [--tls-client-ca F]]]
  surrogate datagen-worker --pulsar URL [--threads N] [--site S] [--pricer-module FILE] [--clock-skew-ms MS]
                         [--events-lookback-ms MS]
                         [--grpc-… (below)]
  surrogate trainer --pulsar URL --artifacts DIR [--data DIR] [--threads N] [--memory-budget-mb M] [--max-trainings N]
  surrogate submit <spec> --pulsar URL [--wait]              publish a spec; with --wait follow it to the end
  surrogate cancel <experiment-id> --pulsar URL [--reason TEXT] [--timeout-ms MS]
                                                             cancel an experiment; waits for the producer's answer

gRPC pricers (a spec's pricer: grpc://host:port/name, or grpcs:// for TLS):
  surrogate pricer-server [--pricers P,…] [--listen HOST:PORT] [--tls-cert F --tls-key F [--tls-client-ca F]]
                         [--max-batch-rows N]               serve registered pricers over PricerService (at most N
                                                             rows a call, default 65536, 0 = no limit)

Benchmarks (each against a reference measured in the same run; --json prints one JSON document):
  surrogate bench pulsar --pulsar URL [--sizes B,…] [--seconds S] [--json]   our client vs pulsar-perf
  surrogate bench pricing [--pricers P,…] [--seconds S] [--json]             pricers vs a g++ -O3 build
  surrogate bench train [--seconds S] [--json]          training step GFLOP/s vs onnxruntime's MatMul peak
  surrogate bench infer [--model F] [--seconds S] [--json]   predictions/s, gRPC latency, speed-up over the pricer

Options:
  --out DIR              where run writes model.onnx, report.json, spec.json (default out/<spec name>)
  --memory-budget-mb M   run, trainer: a training set that would take more than M MiB in memory (3 copies)
                         is streamed from its shards on disk instead (default: half the memory it may use,
                         the machine's or its container's limit)
  --max-trainings N      trainer: trainings run at once; other complete datasets wait in order (default 1)
  --resume               run: carry on the run of the same spec in --out from its last checkpoint,
                         or generate only the chunks it does not hold yet
                         (a corrupt checkpoint, or one of another spec, is refused: exit 2)
  --threads N            pricing threads for run and datagen-worker (default: one per core, at most the
                         container's CPU quota)
  --pricer-module FILE   load a JS module that registers extra pricers (repeatable)
  --quiet                no progress bars or lines; the notes on what starts and how it ends stay
  --pulsar URL           the broker (pulsar:// or pulsar+ssl://); default $PULSAR_URL; token from $PULSAR_TOKEN
  --tenant T, --namespace N   topic scope (default public/default); --site S uses the jobs-<S> topic
  --redis URL            producer: keep the experiments' state in Redis (redis:// or rediss://), so that a restarted
                         producer resumes them; default $REDIS_URL; without either it is kept in memory (lost on restart)
  --ended-ttl-ms MS      producer: how long Redis keeps an ended experiment (default 604800000, 7 days)
  --api HOST:PORT        producer: also serve the ExperimentService over gRPC (Submit, Get, List, Watch, Cancel,
                         health) there (default: off); a bearer token is required when $${EXPERIMENT_API_TOKEN_ENV} is set
  --artifacts DIR        trainer: where each experiment's model.onnx, report.json, spec.json go (DIR/<experiment id>)
  --clock-skew-ms MS     datagen-worker: how far the clocks of the producer's and the trainer's hosts may differ
                         (default 1000). Jobs of a cancelled or failed experiment are skipped, except those
                         published less than this before it ended (priced anyway: a live job is never skipped)
  --events-lookback-ms MS   datagen-worker: on start, read the events of the last MS ms (default 1800000,
                         30 min; 0 = none) before taking jobs, so that a worker started after a cancel skips
                         that experiment's queued jobs too (needs a retention policy on the events topic)
  --wait                 submit: follow the experiment's events until it ends
  --offline              validate: do not contact a gRPC pricer (check the spec's shape only)
  --grpc-ca FILE         PEM CA that verifies grpcs:// pricers (default: system roots)   [$SURROGATE_GRPC_CA]
  --grpc-cert FILE, --grpc-key FILE   client certificate for mutual TLS      [$SURROGATE_GRPC_CERT, $SURROGATE_GRPC_KEY]
  --grpc-token-file FILE bearer token for grpcs:// pricers                  [$SURROGATE_GRPC_TOKEN]
  --grpc-allow H[:P],…   the only pricer hosts (or host:port) that may be called; a job naming another
                         fails for good, and no credentials go to it. Required by datagen-worker with a
                         token (specs are written by others)                [$SURROGATE_GRPC_ALLOW]
  --grpc-deadline-ms MS  deadline of each call (default 30000)              [$SURROGATE_GRPC_DEADLINE_MS]
  --grpc-retries N       retries on UNAVAILABLE/DEADLINE_EXCEEDED/RESOURCE_EXHAUSTED (default 3)  [$SURROGATE_GRPC_RETRIES]
  --grpc-batch-rows N    rows per call (default 8192)                       [$SURROGATE_GRPC_BATCH_ROWS]
  --grpc-concurrency N   calls in flight per chunk (default 4)              [$SURROGATE_GRPC_CONCURRENCY]
  --pricers P,…          pricer-server: the pricers to serve (default: those of --pricer-module, else all)
  --listen HOST:PORT     pricer-server: where to listen (default 127.0.0.1:50051; port 0 picks one)
  --tls-cert/--tls-key FILE, --tls-client-ca FILE   pricer-server, serve, producer --api: serve TLS; require client certificates
                         pricer-server requires a bearer token when $${PRICER_SERVER_TOKEN_ENV} is set
  --allow-extrapolation  predict, serve: answer inputs outside the box the model was trained on (refused by
                         default: exit 2 / INVALID_ARGUMENT naming the input, its value and the box)
  --metrics HOST:PORT    serve, producer, datagen-worker, trainer: an HTTP endpoint with /metrics (Prometheus
                         text format), /healthz (liveness) and /readyz (readiness: 503 with the reason until running)
  -h, --help             this text

Exit codes: 0 ok, 1 the run failed or did not pass validation, 2 bad input.`;

export interface CliResult {
  exitCode: ExitCode;
  stdout: string;
  stderr: string;
}

/** Runs the command line; never throws and never exits the process (main does that). */
export async function cli(argv: string[]): Promise<CliResult> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          out: { type: 'string' },
          threads: { type: 'string' },
          params: { type: 'string' },
          quiet: { type: 'boolean' },
          'pricer-module': { type: 'string', multiple: true },
          pulsar: { type: 'string' },
          tenant: { type: 'string' },
          namespace: { type: 'string' },
          site: { type: 'string' },
          artifacts: { type: 'string' },
          data: { type: 'string' },
          'job-timeout-ms': { type: 'string' },
          redis: { type: 'string' },
          'ended-ttl-ms': { type: 'string' },
          'clock-skew-ms': { type: 'string' },
          'events-lookback-ms': { type: 'string' },
          wait: { type: 'boolean' },
          reason: { type: 'string' },
          'timeout-ms': { type: 'string' },
          json: { type: 'boolean' },
          sizes: { type: 'string' },
          pricers: { type: 'string' },
          seconds: { type: 'string' },
          offline: { type: 'boolean' },
          resume: { type: 'boolean' },
          'memory-budget-mb': { type: 'string' },
          'max-trainings': { type: 'string' },
          'grpc-ca': { type: 'string' },
          'grpc-cert': { type: 'string' },
          'grpc-key': { type: 'string' },
          'grpc-token-file': { type: 'string' },
          'grpc-allow': { type: 'string' },
          'grpc-deadline-ms': { type: 'string' },
          'grpc-retries': { type: 'string' },
          'grpc-batch-rows': { type: 'string' },
          'grpc-concurrency': { type: 'string' },
          listen: { type: 'string' },
          port: { type: 'string' },
          model: { type: 'string' },
          'tls-cert': { type: 'string' },
          'tls-key': { type: 'string' },
          'tls-client-ca': { type: 'string' },
          'max-batch-rows': { type: 'string' },
          'allow-extrapolation': { type: 'boolean' },
          metrics: { type: 'string' },
          api: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      throw badInput('BAD_OPTION', `${(err as Error).message}\n\n${USAGE}`);
    }
    const { values, positionals } = parsed;
    const [command, arg, ...extra] = positionals;
    if (values.help || command === undefined || command === 'help')
      return { exitCode: ExitCode.ok, stdout: USAGE, stderr: '' };
    if (extra.length > 0)
      throw badInput('BAD_ARGUMENT', `unexpected argument(s): ${extra.join(' ')}\n\n${USAGE}`);
    checkCommandFlags(command, values);
    // Plugins first: specs name their pricers, and every command checks specs against the registry.
    const pricerModules = values['pricer-module']?.map((m) => path.resolve(m));
    let fromModules: string[] = [];
    if (pricerModules?.length) {
      try {
        fromModules = loadPricerModules(pricerModules);
      } catch (err) {
        throw badInput(
          'PRICER_MODULE_FAILED',
          `--pricer-module: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    const grpc = (): ReturnType<typeof grpcOptionsFrom> => grpcOptionsFrom(grpcFlags(values));
    switch (command) {
      case 'run': {
        const r = await runCommand(arg, {
          out: values.out,
          resume: values.resume,
          memoryBudgetMb: values['memory-budget-mb'],
          threads: values.threads,
          quiet: values.quiet,
          pricerModules,
          grpc: grpc(),
        });
        return { exitCode: r.exitCode, stdout: r.output, stderr: r.error === undefined ? '' : `error: ${r.error}` };
      }
      case 'validate':
        return {
          exitCode: ExitCode.ok,
          stdout: await validateCommand(arg, { offline: values.offline, grpc: values.offline ? {} : grpc() }),
          stderr: '',
        };
      case 'pricer-server':
        if (arg !== undefined) throw badInput('BAD_ARGUMENT', `unexpected argument: ${arg}\n\n${USAGE}`);
        return {
          exitCode: ExitCode.ok,
          stdout: await pricerServerCommand({
            pricers: values.pricers,
            fromModules,
            listen: values.listen,
            tlsCert: values['tls-cert'],
            tlsKey: values['tls-key'],
            tlsClientCa: values['tls-client-ca'],
            maxBatchRows: values['max-batch-rows'],
          }),
          stderr: '',
        };
      case 'serve':
        return {
          exitCode: ExitCode.ok,
          stdout: await serveCommand(arg, {
            port: values.port,
            listen: values.listen,
            tlsCert: values['tls-cert'],
            tlsKey: values['tls-key'],
            tlsClientCa: values['tls-client-ca'],
            threads: values.threads,
            allowExtrapolation: values['allow-extrapolation'] === true,
            metrics: values.metrics,
          }),
          stderr: '',
        };
      case 'price':
        return { exitCode: ExitCode.ok, stdout: priceCommand(arg, values.params), stderr: '' };
      case 'predict':
        return { exitCode: ExitCode.ok, stdout: await predictCommand(arg, values.params, { allowExtrapolation: values['allow-extrapolation'] === true }), stderr: '' };
      case 'producer':
      case 'datagen-worker':
      case 'trainer': {
        if (arg !== undefined) throw badInput('BAD_ARGUMENT', `unexpected argument: ${arg}\n\n${USAGE}`);
        return {
          exitCode: ExitCode.ok,
          stdout: await serviceCommand(command, {
            ...serviceOptions(values),
            grpc: command === 'datagen-worker' ? grpc() : undefined,
            metrics: values.metrics,
            api: values.api,
            tlsCert: values['tls-cert'],
            tlsKey: values['tls-key'],
            tlsClientCa: values['tls-client-ca'],
          }),
          stderr: '',
        };
      }
      case 'submit': {
        const r = await submitCommand(arg, {
          ...serviceOptions(values),
          wait: values.wait,
          quiet: values.quiet,
        });
        return { exitCode: r.exitCode, stdout: r.output, stderr: '' };
      }
      case 'cancel': {
        const r = await cancelCommand(arg, { ...serviceOptions(values), reason: values.reason, timeoutMs: values['timeout-ms'] });
        return { exitCode: r.exitCode, stdout: r.output, stderr: '' };
      }
      case 'bench':
        return {
          exitCode: ExitCode.ok,
          stdout: await benchCommand(arg, {
            pulsar: values.pulsar,
            json: values.json,
            sizes: values.sizes,
            pricers: values.pricers,
            seconds: values.seconds,
            model: values.model,
          }),
          stderr: '',
        };
      default:
        throw badInput('UNKNOWN_COMMAND', `unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    return {
      exitCode: exitCodeOf(err),
      stdout: '',
      stderr: `error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

function serviceOptions(
  values: Record<string, string | boolean | string[] | undefined>,
): ServiceCommandOptions {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  return {
    pulsar: str('pulsar'),
    tenant: str('tenant'),
    namespace: str('namespace'),
    site: str('site'),
    threads: str('threads'),
    artifacts: str('artifacts'),
    data: str('data'),
    jobTimeoutMs: str('job-timeout-ms'),
    redis: str('redis'),
    endedTtlMs: str('ended-ttl-ms'),
    clockSkewMs: str('clock-skew-ms'),
    eventsLookbackMs: str('events-lookback-ms'),
    memoryBudgetMb: str('memory-budget-mb'),
    maxTrainings: str('max-trainings'),
    pricerModules: (values['pricer-module'] as string[] | undefined)?.map((m) => path.resolve(m)),
  };
}

function grpcFlags(values: Record<string, string | boolean | string[] | undefined>): GrpcFlagValues {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  return {
    caFile: str('grpc-ca'),
    certFile: str('grpc-cert'),
    keyFile: str('grpc-key'),
    tokenFile: str('grpc-token-file'),
    allow: str('grpc-allow'),
    deadlineMs: str('grpc-deadline-ms'),
    retries: str('grpc-retries'),
    batchRows: str('grpc-batch-rows'),
    concurrency: str('grpc-concurrency'),
  };
}

function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof SpecError) return ExitCode.badInput;
  // A pricer URL or a gRPC setting that is wrong is bad input; a pricer that cannot be reached is a failed run.
  if (err instanceof GrpcPricerError)
    return err.code === 'INVALID_PRICER_URL' || err.code === 'GRPC_CONFIG_INVALID'
      ? ExitCode.badInput
      : ExitCode.failed;
  // a benchmark option or --model file that is wrong is bad input; a benchmark that fails to run is not
  if (err instanceof BenchError) return err.code === 'BENCH_BAD_OPTION' ? ExitCode.badInput : ExitCode.failed;
  if (err instanceof SurrogateError) return ExitCode.failed;
  return ExitCode.failed;
}
