import { v1 } from '@surrogate/proto';
import { specToWire, type ExperimentSpec } from '@surrogate/spec';

/**
 * The spec's wire bytes without the settings that change how fast training runs, not what it
 * computes: the threads, the device and the checkpoint interval. Two specs with the same identity
 * make the same dataset and the same model, so a run of one resumes as a run of the other.
 */
export function trainingIdentity(spec: ExperimentSpec): Uint8Array {
  return v1.ExperimentSpec.encode(specToWire(withRunSettings(spec, { threads: 0, device: 'cpu', checkpointSeconds: 0 }))).finish();
}

/** Whether two specs make the same dataset and model (they may differ in threads, device and checkpoint interval). */
export function sameTraining(a: ExperimentSpec, b: ExperimentSpec): boolean {
  return Buffer.from(trainingIdentity(a)).equals(Buffer.from(trainingIdentity(b)));
}

/** `spec` with the threads, device and checkpoint interval of `from`. */
export function withRunSettings(
  spec: ExperimentSpec,
  from: Pick<ExperimentSpec['training'], 'threads' | 'device' | 'checkpointSeconds'>,
): ExperimentSpec {
  return { ...spec, training: { ...spec.training, threads: from.threads, device: from.device, checkpointSeconds: from.checkpointSeconds } };
}
