import { parseArgs } from 'node:util';
import { SurrogateError } from '@surrogate/core';
import { SpecError } from '@surrogate/spec';
import { badInput, CliError, ExitCode } from './cli-error';
import { predictCommand } from './commands/predict';
import { priceCommand } from './commands/price';
import { runCommand } from './commands/run';
import { validateCommand } from './commands/validate';

export const USAGE = `surrogate — turn slow pricers into fast neural-network surrogates

Usage:
  surrogate run <spec> [--out DIR] [--threads N] [--quiet]   run an experiment end to end, in this process
  surrogate validate <spec>                                  check a spec; print it with every default filled in
  surrogate price <pricer> --params '<json>'                 price one point; print every output as JSON
  surrogate predict <model.onnx> --params '<json>'           evaluate a trained model (an object, or an array of them)

Options:
  --out DIR              where run writes model.onnx, report.json, spec.json (default out/<spec name>)
  --threads N            pricing threads for run (default: one per core)
  --pricer-module FILE   load a JS module that registers extra pricers (repeatable)
  --quiet                no progress output
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
    switch (command) {
      case 'run': {
        const r = await runCommand(arg, {
          out: values.out,
          threads: values.threads,
          quiet: values.quiet,
          pricerModules: values['pricer-module'],
        });
        return { exitCode: r.exitCode, stdout: r.output, stderr: '' };
      }
      case 'validate':
        return { exitCode: ExitCode.ok, stdout: await validateCommand(arg), stderr: '' };
      case 'price':
        return { exitCode: ExitCode.ok, stdout: priceCommand(arg, values.params), stderr: '' };
      case 'predict':
        return { exitCode: ExitCode.ok, stdout: await predictCommand(arg, values.params), stderr: '' };
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

function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof SpecError) return ExitCode.badInput;
  if (err instanceof SurrogateError) return ExitCode.failed;
  return ExitCode.failed;
}
