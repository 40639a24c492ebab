import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPricerModules } from '@surrogate/pricing';
import { SurrogateError } from '@surrogate/core';
import { SpecError } from '@surrogate/spec';
import { badInput, CliError, ExitCode } from './cli-error';
import { benchCommand } from './commands/bench';
import { predictCommand } from './commands/predict';
import { priceCommand } from './commands/price';
import { runCommand } from './commands/run';
import { serviceCommand, type ServiceCommandOptions } from './commands/service';
import { submitCommand } from './commands/submit';
import { validateCommand } from './commands/validate';

export const USAGE = `surrogate — turn slow pricers into fast neural-network surrogates

Usage:
  surrogate run <spec> [--out DIR] [--threads N] [--quiet]   run an experiment end to end, in this process
  surrogate validate <spec>                                  check a spec; print it with every default filled in
  surrogate price <pricer> --params '<json>'                 price one point; print every output as JSON
  surrogate predict <model.onnx> --params '<json>'           evaluate a trained model (an object, or an array of them)

Distributed (each service its own process, talking through Apache Pulsar):
  surrogate producer --pulsar URL [--job-timeout-ms MS]
  surrogate datagen-worker --pulsar URL [--threads N] [--site S] [--pricer-module FILE]
  surrogate trainer --pulsar URL --artifacts DIR [--data DIR] [--threads N]
  surrogate submit <spec> --pulsar URL [--wait]              publish a spec; with --wait follow it to the end

Benchmarks (each against a reference measured in the same run; --json prints one JSON document):
  surrogate bench pulsar --pulsar URL [--sizes B,…] [--seconds S] [--json]   our client vs pulsar-perf
  surrogate bench pricing [--pricers P,…] [--seconds S] [--json]             pricers vs a g++ -O3 build

Options:
  --out DIR              where run writes model.onnx, report.json, spec.json (default out/<spec name>)
  --threads N            pricing threads for run (default: one per core)
  --pricer-module FILE   load a JS module that registers extra pricers (repeatable)
  --quiet                no progress output
  --pulsar URL           the broker (pulsar:// or pulsar+ssl://); default $PULSAR_URL; token from $PULSAR_TOKEN
  --tenant T, --namespace N   topic scope (default public/default); --site S uses the jobs-<S> topic
  --artifacts DIR        trainer: where each experiment's model.onnx, report.json, spec.json go (DIR/<experiment id>)
  --wait                 submit: follow the experiment's events until it ends
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
          wait: { type: 'boolean' },
          json: { type: 'boolean' },
          sizes: { type: 'string' },
          pricers: { type: 'string' },
          seconds: { type: 'string' },
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
    // Plugins first: specs name their pricers, and every command checks specs against the registry.
    const pricerModules = values['pricer-module']?.map((m) => path.resolve(m));
    if (pricerModules?.length) {
      try {
        loadPricerModules(pricerModules);
      } catch (err) {
        throw badInput(
          'PRICER_MODULE_FAILED',
          `--pricer-module: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    switch (command) {
      case 'run': {
        const r = await runCommand(arg, {
          out: values.out,
          threads: values.threads,
          quiet: values.quiet,
          pricerModules,
        });
        return { exitCode: r.exitCode, stdout: r.output, stderr: '' };
      }
      case 'validate':
        return { exitCode: ExitCode.ok, stdout: await validateCommand(arg), stderr: '' };
      case 'price':
        return { exitCode: ExitCode.ok, stdout: priceCommand(arg, values.params), stderr: '' };
      case 'predict':
        return { exitCode: ExitCode.ok, stdout: await predictCommand(arg, values.params), stderr: '' };
      case 'producer':
      case 'datagen-worker':
      case 'trainer': {
        if (arg !== undefined) throw badInput('BAD_ARGUMENT', `unexpected argument: ${arg}\n\n${USAGE}`);
        return {
          exitCode: ExitCode.ok,
          stdout: await serviceCommand(command, serviceOptions(values)),
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
      case 'bench':
        return {
          exitCode: ExitCode.ok,
          stdout: await benchCommand(arg, {
            pulsar: values.pulsar,
            json: values.json,
            sizes: values.sizes,
            pricers: values.pricers,
            seconds: values.seconds,
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
    pricerModules: (values['pricer-module'] as string[] | undefined)?.map((m) => path.resolve(m)),
  };
}

function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof SpecError) return ExitCode.badInput;
  if (err instanceof SurrogateError) return ExitCode.failed;
  return ExitCode.failed;
}
