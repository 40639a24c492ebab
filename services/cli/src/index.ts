export { cli, USAGE, type CliResult } from './cli';
export {
  runEmbedded,
  type EmbeddedRunOptions,
  type EmbeddedRunResult,
} from './embedded-run';
/** Moved to @surrogate/protocol (the producer's ExperimentService makes ids too); re-exported for callers of this package. */
export { newExperimentId } from '@surrogate/protocol';
export { ExperimentWatcher, type ExperimentOutcome } from './experiment-watcher';
export { ProgressDisplay } from './progress-display';
export { ExitCode, CliError } from './cli-error';
