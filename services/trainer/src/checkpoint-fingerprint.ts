import { createHash } from 'node:crypto';
import type { ExperimentSpec } from '@surrogate/spec';
import { trainingIdentity } from './training-identity';

/**
 * What a training checkpoint belongs to: the experiment, its dataset's size and every setting of
 * its spec that shapes the training (so not the threads, the device or the checkpoint interval,
 * which change how fast it runs, not what it computes). A checkpoint whose fingerprint differs is
 * refused rather than trained on.
 */
export function checkpointFingerprint(experimentId: string, spec: ExperimentSpec, samples: { training: number; validation: number }): string {
  const hash = createHash('sha256');
  hash.update(trainingIdentity(spec));
  hash.update(`\n${experimentId}\n${samples.training}\n${samples.validation}`);
  return `${spec.name}/${hash.digest('hex').slice(0, 32)}`;
}

/** The checkpoint file of an experiment's training, next to its dataset. */
export const CHECKPOINT_FILE = 'checkpoint.bin';
