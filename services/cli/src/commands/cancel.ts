import { createLogger } from '@surrogate/core';
import { v1 } from '@surrogate/proto';
import { CommandPublisher, eventKind, followEvents, refusalOf } from '@surrogate/protocol';
import { badInput, ExitCode } from '../cli-error';
import { connect, type ServiceCommandOptions } from './service';

/** How long `surrogate cancel` waits for the producer's answer by default. */
export const DEFAULT_CANCEL_TIMEOUT_MS = 30_000;

/**
 * `surrogate cancel <experiment-id> --pulsar URL [--reason TEXT] [--timeout-ms MS]`: asks the
 * producer to cancel a running experiment and waits for its answer on the events topic:
 * `cancelled` (exit 0: the trainer stops training and trains on none of its chunks, workers skip its queued
 * jobs), a rejection of this very command (matched by its issuedAtMs): EXPERIMENT_ENDED for an
 * experiment that had ended already (exit 1, naming how it ended) or UNKNOWN_EXPERIMENT (exit 2),
 * or nothing within the timeout (exit 1: no producer is running). The answer is one JSON line.
 */
export async function cancelCommand(
  experimentId: string | undefined,
  o: ServiceCommandOptions & { reason?: string; timeoutMs?: string },
): Promise<{ output: string; exitCode: ExitCode }> {
  if (!experimentId)
    throw badInput(
      'MISSING_ARGUMENT',
      'usage: surrogate cancel <experiment-id> --pulsar URL [--reason TEXT]',
    );
  const timeoutMs = o.timeoutMs === undefined ? DEFAULT_CANCEL_TIMEOUT_MS : Number(o.timeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw badInput('BAD_OPTION', `--timeout-ms = ${o.timeoutMs}: must be a whole number of milliseconds ≥ 1`);
  const reason = o.reason ?? 'cancelled with surrogate cancel';
  const log = createLogger({ name: 'cancel', level: process.env.LOG_LEVEL ?? 'warn' });
  const { bus, topics } = await connect(o, log);
  let timer: NodeJS.Timeout | undefined;
  try {
    const issuedAtMs = Date.now();
    let answer!: (a: { output: string; exitCode: ExitCode }) => void;
    const answered = new Promise<{ output: string; exitCode: ExitCode }>((resolve) => (answer = resolve));
    // Follow from now on, under a non-durable subscription of this command's own (gone with it), before asking.
    const follower = await followEvents(bus, topics.events, `cancel-${experimentId}`, (event) => {
      if (event.experimentId !== experimentId) return;
      if (eventKind(event) === 'cancelled') {
        answer({
          output: JSON.stringify({ experimentId, cancelled: true, reason: event.cancelled?.reason ?? '' }),
          exitCode: ExitCode.ok,
        });
        return;
      }
      // only the answer to this command: not a refused submission, nor another cancel
      const r = refusalOf(event, v1.CommandKind.COMMAND_KIND_CANCEL, issuedAtMs);
      if (!r) return;
      const ended = r.code === 'EXPERIMENT_ENDED';
      answer({
        output: JSON.stringify({
          experimentId,
          cancelled: false,
          ...(ended ? { ended: true } : {}),
          rejected: { code: r.code, reason: r.reason },
        }),
        exitCode: ended ? ExitCode.failed : ExitCode.badInput,
      });
    });
    try {
      await new CommandPublisher(bus, topics, log).publish({ experimentId, issuedAtMs, cancel: { reason } });
      timer = setTimeout(
        () =>
          answer({
            output: JSON.stringify({
              experimentId,
              cancelled: false,
              reason: `no answer from the producer within ${timeoutMs} ms: is a producer running?`,
            }),
            exitCode: ExitCode.failed,
          }),
        timeoutMs,
      );
      return await answered;
    } finally {
      await follower.stop();
    }
  } finally {
    clearTimeout(timer);
    await bus.close();
  }
}
