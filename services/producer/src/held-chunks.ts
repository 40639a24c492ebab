import { SurrogateError } from '@surrogate/core';
import type { ChunkPurposeName } from '@surrogate/spec';

/**
 * The chunks of an experiment that the trainer already stores, by purpose (chunk indices). A
 * resubmitted experiment carries them so that the producer issues jobs only for the others:
 * chunk data is a pure function of (spec, purpose, index), so a held chunk never needs redoing.
 */
export type HeldChunks = Record<ChunkPurposeName, readonly number[]>;

/**
 * The property of a submit command (on the experiments topic) that carries its held chunks, e.g.
 * `training=0-11,14;validation=0`. A command without it is a fresh submission: every job is issued.
 * It is a message property for now, the one wire format not generated from proto/: it belongs in
 * SubmitExperiment as a field, which would replace these two functions and nothing else.
 */
export const HELD_CHUNKS_PROPERTY = 'held-chunks';

export class HeldChunksError extends SurrogateError {}

const PURPOSES: readonly ChunkPurposeName[] = ['training', 'validation'];

/** `training=0-3,5;validation=` — sorted, duplicates removed, consecutive indices as ranges. */
export function encodeHeldChunks(held: HeldChunks): string {
  return PURPOSES.map((p) => `${p}=${ranges(held[p])}`).join(';');
}

function ranges(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i] as number;
    let last = first;
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) last = sorted[++i] as number;
    i += 1;
    out.push(first === last ? String(first) : `${first}-${last}`);
  }
  return out.join(',');
}

/**
 * Parses a held-chunks property against the experiment's chunk counts. Bad input (an unknown
 * purpose, a malformed or reversed range, an index outside the plan) is a HeldChunksError
 * naming the property, the value and the rule.
 */
export function parseHeldChunks(
  text: string,
  expected: Record<ChunkPurposeName, number>,
): Record<ChunkPurposeName, Set<number>> {
  const held: Record<ChunkPurposeName, Set<number>> = { training: new Set(), validation: new Set() };
  const fail = (rule: string): never => {
    throw new HeldChunksError('BAD_HELD_CHUNKS', `${HELD_CHUNKS_PROPERTY} = ${JSON.stringify(text)}: ${rule}`, {
      details: { field: HELD_CHUNKS_PROPERTY, value: text },
    });
  };
  if (text.trim() === '') return held;
  const seen = new Set<string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const purpose = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (!PURPOSES.includes(purpose as ChunkPurposeName))
      fail(`"${purpose}" is not a chunk purpose (training or validation, as purpose=ranges separated by ;)`);
    if (seen.has(purpose)) fail(`${purpose} is given twice`);
    seen.add(purpose);
    const p = purpose as ChunkPurposeName;
    const list = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (list === '') continue;
    for (const item of list.split(',')) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(item);
      if (!m) fail(`"${item}" is neither an index nor a range first-last of whole numbers`);
      const first = Number(m?.[1]);
      const last = m?.[2] === undefined ? first : Number(m[2]);
      if (last < first) fail(`the range ${item} runs backwards`);
      if (last >= expected[p])
        fail(`${p} chunk ${last} is outside the plan of ${expected[p]} ${p} chunks (indices 0 to ${expected[p] - 1})`);
      for (let i = first; i <= last; i++) held[p].add(i);
    }
  }
  return held;
}
