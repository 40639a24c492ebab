import { SurrogateError } from '@surrogate/core';
import type { v1 } from '@surrogate/proto';
import type { ChunkPurposeName } from '@surrogate/spec';

/**
 * The chunks of an experiment that the trainer already stores, by purpose (chunk indices). A
 * resubmitted experiment carries them (SubmitExperiment.held) so that the producer issues jobs
 * only for the others: chunk data is a pure function of (spec, purpose, index), so a held chunk
 * never needs redoing.
 */
export type HeldChunks = Record<ChunkPurposeName, readonly number[]>;

/** Where the held chunks travel in an experiment command, for error messages. */
export const HELD_CHUNKS_FIELD = 'submit.held';

export class HeldChunksError extends SurrogateError {}

const PURPOSES: readonly ChunkPurposeName[] = ['training', 'validation'];

/** The wire form: per purpose, sorted inclusive ranges of consecutive indices (duplicates dropped). */
export function heldChunksToWire(held: HeldChunks): v1.IHeldChunks {
  return { training: ranges(held.training), validation: ranges(held.validation) };
}

function ranges(indices: readonly number[]): v1.IChunkRange[] {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const out: v1.IChunkRange[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i] as number;
    let last = first;
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) last = sorted[++i] as number;
    i += 1;
    out.push({ first, last });
  }
  return out;
}

/**
 * The held chunks of a submit command, checked against the experiment's chunk counts; none when
 * the command has none (a fresh submission). A range that runs backwards or reaches past the plan
 * is a HeldChunksError naming the field (e.g. `submit.held.training[2]`), the value and the rule.
 */
export function heldChunksFromWire(
  wire: v1.IHeldChunks | null | undefined,
  expected: Record<ChunkPurposeName, number>,
): Record<ChunkPurposeName, Set<number>> {
  const held: Record<ChunkPurposeName, Set<number>> = { training: new Set(), validation: new Set() };
  for (const purpose of PURPOSES) {
    (wire?.[purpose] ?? []).forEach((range, k) => {
      const first = range.first ?? 0;
      const last = range.last ?? 0;
      const field = `${HELD_CHUNKS_FIELD}.${purpose}[${k}]`;
      const fail = (rule: string): never => {
        throw new HeldChunksError('BAD_HELD_CHUNKS', `${field} = ${first}…${last}: ${rule}`, {
          details: { field, value: { first, last } },
        });
      };
      if (last < first) fail('the range runs backwards (last < first)');
      const plan = expected[purpose];
      if (last >= plan) fail(`chunk ${last} is outside the plan of ${plan} ${purpose} chunks (indices 0 to ${plan - 1})`);
      for (let i = first; i <= last; i++) held[purpose].add(i);
    });
  }
  return held;
}
