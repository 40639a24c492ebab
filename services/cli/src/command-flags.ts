import { badInput } from './cli-error';

const GRPC_CLIENT = ['grpc-ca', 'grpc-cert', 'grpc-key', 'grpc-token-file', 'grpc-allow', 'grpc-deadline-ms', 'grpc-retries', 'grpc-batch-rows', 'grpc-concurrency'];
const SERVER_TLS = ['tls-cert', 'tls-key', 'tls-client-ca'];
/** How every distributed service and command reaches its topics (a deployment passes them to all alike). */
const BROKER = ['pulsar', 'tenant', 'namespace', 'site'];

/**
 * The options each command takes. Any other is refused (exit 2) instead of being ignored: a
 * `--metrics` given to a command without a metrics endpoint, or a `--redis` given to the trainer,
 * would otherwise look as if it had taken effect. `--pricer-module` and `--help` go with every command.
 */
export const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  run: ['out', 'resume', 'memory-budget-mb', 'threads', 'quiet', ...GRPC_CLIENT],
  validate: ['offline', ...GRPC_CLIENT],
  price: ['params'],
  predict: ['params', 'allow-extrapolation'],
  serve: ['port', 'listen', 'threads', 'allow-extrapolation', 'metrics', ...SERVER_TLS],
  'pricer-server': ['pricers', 'listen', 'max-batch-rows', ...SERVER_TLS],
  producer: [...BROKER, 'redis', 'job-timeout-ms', 'ended-ttl-ms', 'metrics', 'api', ...SERVER_TLS],
  'datagen-worker': [...BROKER, 'threads', 'clock-skew-ms', 'events-lookback-ms', 'metrics', ...GRPC_CLIENT],
  trainer: [...BROKER, 'artifacts', 'data', 'threads', 'memory-budget-mb', 'max-trainings', 'metrics'],
  submit: [...BROKER, 'wait', 'quiet'],
  cancel: [...BROKER, 'reason', 'timeout-ms'],
  bench: ['pulsar', 'json', 'sizes', 'pricers', 'seconds', 'model'],
};

const EVERY_COMMAND = ['pricer-module', 'help'];

/** Refuses (exit 2) an option `command` does not take, naming it and the ones it does. */
export function checkCommandFlags(command: string, given: Record<string, unknown>): void {
  const takes = COMMAND_FLAGS[command];
  if (!takes) return; // an unknown command is reported as such
  const refused = Object.keys(given).filter((flag) => given[flag] !== undefined && !takes.includes(flag) && !EVERY_COMMAND.includes(flag));
  if (refused.length > 0)
    throw badInput(
      'BAD_OPTION',
      `${refused.map((f) => `--${f}`).join(', ')}: not ${refused.length === 1 ? 'an option' : 'options'} of ${command}, which takes ${
        takes.length === 0 ? 'none' : takes.map((f) => `--${f}`).join(', ')
      } (and --pricer-module)`,
      { command, options: refused },
    );
}
