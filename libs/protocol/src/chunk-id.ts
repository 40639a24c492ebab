import { v1 } from '@surrogate/proto';

export type PurposeName = 'training' | 'validation';

export function purposeName(p: v1.ChunkPurpose | null | undefined): PurposeName {
  if (p === v1.ChunkPurpose.TRAINING) return 'training';
  if (p === v1.ChunkPurpose.VALIDATION) return 'validation';
  throw new RangeError(`chunk purpose ${String(p)} is neither TRAINING nor VALIDATION`);
}

export function purposeValue(name: PurposeName): v1.ChunkPurpose {
  return name === 'training' ? v1.ChunkPurpose.TRAINING : v1.ChunkPurpose.VALIDATION;
}

/** The identity of a job and of the chunk it produces; also its message key. */
export function chunkKey(experimentId: string, purpose: PurposeName, index: number): string {
  return `${experimentId}/${purpose}/${index}`;
}
