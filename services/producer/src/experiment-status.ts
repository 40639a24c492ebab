/**
 * Where an experiment stands, as the producer sees it. `running` and `datagen-complete` are live
 * (the producer supervises them and keeps their state for as long as they run); the others have
 * ended (their state is kept for a retention period, to answer a late cancel and to recognise a
 * resubmission).
 */
export type ExperimentStatus = 'running' | 'datagen-complete' | 'succeeded' | 'failed' | 'cancelled';

export const EXPERIMENT_STATUSES: readonly ExperimentStatus[] = ['running', 'datagen-complete', 'succeeded', 'failed', 'cancelled'];

export function isEnded(status: ExperimentStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

export function isExperimentStatus(value: string): value is ExperimentStatus {
  return (EXPERIMENT_STATUSES as readonly string[]).includes(value);
}
