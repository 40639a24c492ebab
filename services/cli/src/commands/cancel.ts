import { randomBytes } from 'node:crypto';
import { createLogger } from '@surrogate/core';
import { v1 } from '@surrogate/proto';
import { Codecs, eventKind } from '@surrogate/protocol';
import { badInput, ExitCode } from '../cli-error';
import { connect, type ServiceCommandOptions } from './service';

/** How long `surrogate cancel` waits for the producer's answer by default. */
export const DEFAULT_CANCEL_TIMEOUT_MS = 30_000;

/**
 * `surrogate cancel <experiment-id> --pulsar URL [--reason TEXT] [--timeout-ms MS]`: asks the
 * producer to cancel a running experiment and waits for its answer on the events topic:
 * `cancelled` (exit 0: the trainer drops its chunks and stops training, workers skip its queued
 * jobs), `rejected` for an id the producer does not know (exit 2), or nothing within the timeout
 * (exit 1: the experiment had ended already, or no producer is running). The answer is one JSON line.
 */
export async function cancelCommand(
  experimentId: string | undefined,
  o: ServiceCommandOptions & { reason?: string; timeoutMs?: string },
): Promise<{ output: string; exitCode: ExitCode }> {
  if (!experimentId) throw badInput('MISSING_ARGUMENT', 'usage: surrogate cancel <experiment-id> --pulsar URL [--reason TEXT]');
  const timeoutMs = o.timeoutMs === undefined ? DEFAULT_CANCEL_TIMEOUT_MS : Number(o.timeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw badInput('BAD_OPTION', `--timeout-ms = ${o.timeoutMs}: must be a whole number of milliseconds ≥ 1`);
  const reason = o.reason ?? 'cancelled with surrogate cancel';
  const log = createLogger({ name: 'cancel', level: process.env.LOG_LEVEL ?? 'warn' });
  const { bus, topics } = await connect(o, log);
  let timer: NodeJS.Timeout | undefined;
  try {
    let answer!: (a: { output: string; exitCode: ExitCode }) => void;
    const answered = new Promise<{ output: string; exitCode: ExitCode }>((resolve) => (answer = resolve));
    // Follow from now on, under a non-durable subscription of this command's own (gone with it), before asking.
    const subscription = await bus.subscribe({
      topic: topics.events,
      subscription: `cancel-${experimentId}-${randomBytes(4).toString('hex')}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
      type: 'exclusive',
      durable: false,
      initialPosition: 'latest',
      handler: (m) => {
        const event = Codecs.event.decode(m.payload);
        if (event.experimentId !== experimentId) return;
        if (eventKind(event) === 'cancelled')
          answer({ output: JSON.stringify({ experimentId, cancelled: true, reason: event.cancelled?.reason ?? '' }), exitCode: ExitCode.ok });
        else if (eventKind(event) === 'rejected')
          answer({ output: JSON.stringify({ experimentId, cancelled: false, rejected: event.rejected }), exitCode: ExitCode.badInput });
      },
    });
    try {
      const command = v1.ExperimentCommand.create({ experimentId, issuedAtMs: Date.now(), cancel: { reason } });
      await bus.publish(topics.experiments, { payload: Codecs.command.encode(command), key: experimentId });
      timer = setTimeout(
        () =>
          answer({
            output: JSON.stringify({
              experimentId,
              cancelled: false,
              reason: `no answer from the producer within ${timeoutMs} ms: the experiment had ended already, or no producer is running`,
            }),
            exitCode: ExitCode.failed,
          }),
        timeoutMs,
      );
      return await answered;
    } finally {
      await subscription.unsubscribe().catch(() => subscription.close());
    }
  } finally {
    clearTimeout(timer);
    await bus.close();
  }
}
