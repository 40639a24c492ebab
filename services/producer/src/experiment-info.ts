import { v1 } from '@surrogate/proto';
import type { ExperimentRecord } from './experiment-record';
import type { ExperimentStatus } from './experiment-status';

const TO_WIRE: Record<ExperimentStatus, v1.ExperimentStatus> = {
  running: v1.ExperimentStatus.EXPERIMENT_STATUS_RUNNING,
  'datagen-complete': v1.ExperimentStatus.EXPERIMENT_STATUS_DATAGEN_COMPLETE,
  succeeded: v1.ExperimentStatus.EXPERIMENT_STATUS_SUCCEEDED,
  failed: v1.ExperimentStatus.EXPERIMENT_STATUS_FAILED,
  cancelled: v1.ExperimentStatus.EXPERIMENT_STATUS_CANCELLED,
};

/** The wire enum of a status. */
export function statusToWire(status: ExperimentStatus): v1.ExperimentStatus {
  return TO_WIRE[status];
}

/** The status of a wire enum value; undefined for UNSPECIFIED and for values this build does not know. */
export function statusFromWire(value: number): ExperimentStatus | undefined {
  return (Object.keys(TO_WIRE) as ExperimentStatus[]).find((s) => TO_WIRE[s] === value);
}

/** What the ExperimentService tells of a stored experiment. */
export function experimentInfo(record: ExperimentRecord): v1.IExperimentInfo {
  const landed = { training: 0, validation: 0 };
  for (const c of record.chunks) if (c.landed) landed[c.purpose]++;
  return {
    experimentId: record.id,
    specName: record.spec.name,
    status: statusToWire(record.status),
    trainingChunksLanded: landed.training,
    trainingChunksExpected: record.expected.training,
    validationChunksLanded: landed.validation,
    validationChunksExpected: record.expected.validation,
    issuedAtMs: record.submittedAt,
    acceptedAtMs: record.createdAt,
    spec: record.spec,
  };
}
