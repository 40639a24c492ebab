import { createLogger } from '@surrogate/core';
import { CommandPublisher, newExperimentId } from '@surrogate/protocol';
import { loadSpecFile, specToWire } from '@surrogate/spec';
import { CliError, ExitCode } from '../cli-error';
import { ExperimentWatcher } from '../experiment-watcher';
import { ProgressDisplay } from '../progress-display';
import { stopSignal } from '../stop-signal';
import { connect, type ServiceCommandOptions } from './service';

/**
 * `surrogate submit <spec> --pulsar URL [--wait]`: publishes the spec to the experiments topic and
 * prints the experiment id. With --wait it follows the events, shows progress, prints the final
 * result as one JSON line and exits 0 on success (validation passed), 1 otherwise; Ctrl-C (or
 * SIGTERM) stops following, not the experiment (exit 1).
 */
export async function submitCommand(
  file: string | undefined,
  o: ServiceCommandOptions & { wait?: boolean; quiet?: boolean },
): Promise<{ output: string; exitCode: ExitCode }> {
  if (!file)
    throw new CliError(
      'MISSING_ARGUMENT',
      'usage: surrogate submit <spec> --pulsar URL [--wait]',
      ExitCode.badInput,
    );
  const spec = await loadSpecFile(file);
  const log = createLogger({ name: 'submit', level: process.env.LOG_LEVEL ?? 'warn' });
  const { bus, topics } = await connect(o, log);
  const experimentId = newExperimentId(spec.name);
  const display = new ProgressDisplay(process.stderr, Boolean(process.stderr.isTTY), o.quiet ?? false);
  const watcher = new ExperimentWatcher(experimentId, display);
  try {
    // Ctrl-C (or SIGTERM) while following stops following, not the experiment; caught from here on,
    // so that one arriving before the experiment is published still ends in the subscription's deletion.
    const stopped: Promise<undefined> = o.wait ? stopSignal().received.then(() => undefined) : new Promise<undefined>(() => undefined);
    // Follow before publishing, so not one event of this experiment is missed.
    if (o.wait) await watcher.attach(bus, topics.events, `submit-${experimentId}`);
    await new CommandPublisher(bus, topics, log).publish({ experimentId, issuedAtMs: Date.now(), submit: { spec: specToWire(spec) } });
    if (!o.wait) return { output: JSON.stringify({ experimentId, submitted: true }), exitCode: ExitCode.ok };
    display.note(`submitted ${experimentId}; waiting for its events`);
    const outcome = await Promise.race([watcher.outcome, stopped]);
    display.finish();
    if (outcome === undefined) {
      const note = `stopped following ${experimentId}; the experiment goes on (surrogate cancel ${experimentId} stops it)`;
      return { output: JSON.stringify({ experimentId, following: false, note }), exitCode: ExitCode.failed };
    }
    switch (outcome.kind) {
      case 'modelReady': {
        const m = outcome.modelReady;
        const result = {
          experimentId,
          pass: m.pass,
          maxAbsError: m.maxAbsError,
          rmse: m.rmse,
          validationSamples: m.validationSamples,
          model: m.modelUri,
          report: m.reportUri,
        };
        return { output: JSON.stringify(result), exitCode: m.pass ? ExitCode.ok : ExitCode.failed };
      }
      case 'failed':
        return {
          output: JSON.stringify({ experimentId, failed: outcome.failed }),
          exitCode: ExitCode.failed,
        };
      case 'rejected':
        return {
          output: JSON.stringify({ experimentId, rejected: outcome.rejected }),
          exitCode: ExitCode.badInput,
        };
      case 'cancelled':
        return {
          output: JSON.stringify({ experimentId, cancelled: outcome.cancelled }),
          exitCode: ExitCode.failed,
        };
    }
  } finally {
    await watcher.detach();
    await bus.close();
  }
}
