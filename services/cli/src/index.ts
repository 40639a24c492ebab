export { cli, USAGE, type CliResult } from './cli';
export {
  runEmbedded,
  newExperimentId,
  type EmbeddedRunOptions,
  type EmbeddedRunResult,
} from './embedded-run';
export { ExperimentWatcher, type ExperimentOutcome } from './experiment-watcher';
export { ProgressDisplay } from './progress-display';
export { ExitCode, CliError } from './cli-error';
