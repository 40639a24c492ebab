import { readFileSync } from 'node:fs';
import {
  GRPC_PRICER_ENV,
  GrpcPricerError,
  grpcPricerOptions,
  grpcPricerSettingsFromEnv,
  type GrpcPricerOptions,
  type GrpcPricerSettings,
} from '@surrogate/pricing';
import { badInput } from './cli-error';

/** The command-line flags that configure gRPC pricer clients (each overrides its SURROGATE_GRPC_* variable). */
export const GRPC_FLAGS = {
  caFile: '--grpc-ca',
  certFile: '--grpc-cert',
  keyFile: '--grpc-key',
  allow: '--grpc-allow',
  deadlineMs: '--grpc-deadline-ms',
  retries: '--grpc-retries',
  batchRows: '--grpc-batch-rows',
  concurrency: '--grpc-concurrency',
} as const;

/** Flag values as parsed (strings), by the setting they configure. */
export type GrpcFlagValues = Partial<Record<keyof typeof GRPC_FLAGS | 'tokenFile', string>>;

/**
 * gRPC pricer client options from flags and the environment: flags first, then `SURROGATE_GRPC_*`.
 * The bearer token comes from $SURROGATE_GRPC_TOKEN or `--grpc-token-file FILE`, never from a flag's
 * value (command lines are visible to every user of the machine). Bad settings are bad input (exit 2),
 * each message naming the flag or variable, its value and the rule.
 */
export function grpcOptionsFrom(
  flags: GrpcFlagValues,
  env: NodeJS.ProcessEnv = process.env,
): GrpcPricerOptions {
  const settings: GrpcPricerSettings = grpcPricerSettingsFromEnv(env);
  const names: Partial<Record<keyof GrpcPricerSettings, string>> = { ...GRPC_PRICER_ENV };
  for (const key of Object.keys(GRPC_FLAGS) as (keyof typeof GRPC_FLAGS)[]) {
    const value = flags[key];
    if (value === undefined) continue;
    settings[key] = value;
    names[key] = GRPC_FLAGS[key];
  }
  if (flags.tokenFile !== undefined) {
    try {
      settings.token = readFileSync(flags.tokenFile, 'utf8').trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw badInput('BAD_OPTION', `--grpc-token-file = ${flags.tokenFile}: cannot read the file (${code})`);
    }
    if (settings.token === '')
      throw badInput('BAD_OPTION', `--grpc-token-file = ${flags.tokenFile}: the file is empty`);
  }
  try {
    return grpcPricerOptions(settings, names);
  } catch (err) {
    if (err instanceof GrpcPricerError) throw badInput(err.code, err.message, { ...err.details });
    throw err;
  }
}
