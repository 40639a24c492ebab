import { createHash } from 'node:crypto';
import { v1 } from '@surrogate/proto';
import { specToWire, type ExperimentSpec } from '@surrogate/spec';

/**
 * What a training checkpoint belongs to: the experiment, its dataset's size and every setting of
 * its spec that shapes the training (so not the threads, the device or the checkpoint interval,
 * which change how fast it runs, not what it computes). A checkpoint whose fingerprint differs is
 * refused rather than trained on.
 */
export function checkpointFingerprint(experimentId: string, spec: ExperimentSpec, samples: { training: number; validation: number }): string {
  const wire = specToWire({ ...spec, training: { ...spec.training, threads: 0, device: 'cpu', checkpointSeconds: 0 } });
  const hash = createHash('sha256');
  hash.update(v1.ExperimentSpec.encode(wire).finish());
  hash.update(`\n${experimentId}\n${samples.training}\n${samples.validation}`);
  return `${spec.name}/${hash.digest('hex').slice(0, 32)}`;
}

/** The checkpoint file of an experiment's training, next to its dataset. */
export const CHECKPOINT_FILE = 'checkpoint.bin';
