import type { v1 } from '@surrogate/proto';
import { chunkCounts, specFromWire, type ChunkPurposeName, type ExperimentSpec } from '@surrogate/spec';
import { sortChunks, type ChunkState, type ExperimentRecord } from './experiment-record';
import { isEnded, type ExperimentStatus } from './experiment-status';

export type { ExperimentStatus } from './experiment-status';

interface ChunkProgress {
  /** Issues of its job so far; 0 for a chunk the submission said the trainer holds (never issued). */
  attempt: number;
  landed: boolean;
}

/**
 * What the producer knows about one experiment: its plan, which chunks have landed at the trainer,
 * how often each job was issued, and when it last made progress. The producer keeps it in memory
 * and writes every change to its experiment store (ExperimentRecord) before acknowledging the
 * message that caused it; `fromRecord` rebuilds it from there.
 *
 * A resubmitted experiment names the chunks the trainer already holds: they are presumed held and
 * not issued. The trainer still has the last word: a presumed chunk counts as landed once the
 * trainer reports it (a ChunkAccepted, or DatasetReady for the whole dataset); until then it is
 * outstanding with attempt 0, so a stalled experiment issues it after all.
 */
export class ExperimentTracker {
  status: ExperimentStatus = 'running';
  /** When it last made progress (a chunk landed), or was submitted or resumed. The stall clock. */
  lastProgressAt: number;
  /** Landings moved the status in memory, and storing it failed: it is stored again at the next chance. */
  statusUnsaved = false;
  /** When the producer's stall check first saw it ended (memory only; it forgets ended ones later). */
  endSeenAt: number | undefined;
  /** The submission's accepted event and first jobs have all been published. */
  jobsPublished = false;
  readonly createdAt: number;
  private readonly chunks = new Map<string, ChunkProgress>();
  private landedCount = 0;
  private presumedCount = 0;
  readonly expected: { training: number; validation: number };

  constructor(
    readonly id: string,
    readonly spec: ExperimentSpec,
    readonly wireSpec: v1.ExperimentSpec,
    now: number,
    /** The submit command's issuedAtMs: a command with the same one is a redelivery of it. */
    readonly submittedAt = 0,
  ) {
    this.createdAt = now;
    this.lastProgressAt = now;
    this.expected = chunkCounts(spec);
  }

  /**
   * The tracker of a stored experiment, as a producer that starts (or meets an experiment another
   * producer kept) resumes it. Its stall clock starts at `now`: the time the producer was away
   * does not count as a stall (see the README, "what survives a producer restart").
   */
  static fromRecord(record: ExperimentRecord, now: number): ExperimentTracker {
    const t = new ExperimentTracker(record.id, specFromWire(record.spec), record.spec, record.createdAt, record.submittedAt);
    t.status = record.status; // before the chunks: a running one whose chunks all landed is datagen-complete
    t.jobsPublished = record.jobsPublished;
    for (const c of record.chunks) {
      if (c.attempt === 0 && !c.landed) t.presumedCount += 1;
      t.apply(c, now);
    }
    t.lastProgressAt = now;
    return t;
  }

  /** The durable form (for the experiment store). */
  toRecord(): ExperimentRecord {
    const chunks: ChunkState[] = [];
    for (const [key, c] of this.chunks) {
      const [purpose, index] = key.split('/') as [ChunkPurposeName, string];
      chunks.push({ purpose, index: Number(index), attempt: c.attempt, landed: c.landed });
    }
    return {
      id: this.id,
      spec: this.wireSpec,
      submittedAt: this.submittedAt,
      createdAt: this.createdAt,
      status: this.status,
      expected: { ...this.expected },
      jobsPublished: this.jobsPublished,
      chunks: sortChunks(chunks),
    };
  }

  /**
   * Takes in what the store says of this experiment (the same submission), e.g. progress another
   * producer recorded: chunk attempts and landings only grow, and an ended status wins. A landing
   * it did not know is progress (the stall clock restarts at `now`), and so is a job another
   * producer issued again: that one gave the job a whole timeout, and this one waits it out too
   * rather than re-issue the job once more.
   */
  merge(record: ExperimentRecord, now: number): void {
    let reissuedElsewhere = false;
    for (const c of record.chunks) {
      const known = this.chunks.get(`${c.purpose}/${c.index}`);
      if (!c.landed && known !== undefined && !known.landed && c.attempt > known.attempt) reissuedElsewhere = true;
      this.apply(c, now);
    }
    if (reissuedElsewhere) this.lastProgressAt = Math.max(this.lastProgressAt, now);
    if (isEnded(record.status) && !isEnded(this.status)) this.status = record.status;
    this.jobsPublished ||= record.jobsPublished;
  }

  get totalChunks(): number {
    return this.expected.training + this.expected.validation;
  }

  get landed(): number {
    return this.landedCount;
  }

  /** Chunks the submission said are held and that were therefore not issued. */
  get presumed(): number {
    return this.presumedCount;
  }

  get isActive(): boolean {
    return this.status === 'running';
  }

  get hasEnded(): boolean {
    return isEnded(this.status);
  }

  /** A chunk the trainer holds already (as the submission says): its job is not issued. */
  presumeHeld(purpose: ChunkPurposeName, index: number, now: number): void {
    const key = `${purpose}/${index}`;
    if (this.chunks.has(key)) return;
    this.apply({ purpose, index, attempt: 0, landed: false }, now);
    this.presumedCount += 1;
  }

  isPresumed(purpose: ChunkPurposeName, index: number): boolean {
    const c = this.chunks.get(`${purpose}/${index}`);
    return c !== undefined && c.attempt === 0 && !c.landed;
  }

  hasLanded(purpose: ChunkPurposeName, index: number): boolean {
    return this.chunks.get(`${purpose}/${index}`)?.landed === true;
  }

  /** The chunk's state as it would be once its job is issued (once more); changes nothing. */
  nextIssue(purpose: ChunkPurposeName, index: number): ChunkState {
    const c = this.chunks.get(`${purpose}/${index}`);
    return { purpose, index, attempt: (c?.attempt ?? 0) + 1, landed: c?.landed ?? false };
  }

  /** The chunk's state as it is once it has landed; changes nothing. */
  landing(purpose: ChunkPurposeName, index: number): ChunkState {
    const c = this.chunks.get(`${purpose}/${index}`);
    return { purpose, index, attempt: c?.attempt ?? 1, landed: true };
  }

  /** Records a job issue; returns its attempt number. */
  issued(purpose: ChunkPurposeName, index: number, now: number): number {
    const next = this.nextIssue(purpose, index);
    this.apply(next, now);
    return next.attempt;
  }

  /**
   * Takes in a chunk state: its attempt count only grows and a landing is final. Returns true if
   * the chunk landed with it (news): that is progress, and may complete the data generation.
   */
  apply(state: ChunkState, now: number): boolean {
    const key = `${state.purpose}/${state.index}`;
    const c = this.chunks.get(key) ?? { attempt: 0, landed: false };
    c.attempt = Math.max(c.attempt, state.attempt);
    this.chunks.set(key, c);
    if (!state.landed || c.landed) return false;
    c.landed = true;
    this.landedCount += 1;
    this.lastProgressAt = now;
    if (this.landedCount >= this.totalChunks && this.status === 'running') this.status = 'datagen-complete';
    return true;
  }

  /** Records that the trainer holds a chunk; returns true if this is news. */
  markLanded(purpose: ChunkPurposeName, index: number, now: number): boolean {
    return this.apply(this.landing(purpose, index), now);
  }

  /** The states of every chunk of the plan that has not landed, as landed (DatasetReady); changes nothing. */
  landingAll(): ChunkState[] {
    const out: ChunkState[] = [];
    for (const purpose of ['training', 'validation'] as const)
      for (let i = 0; i < this.expected[purpose]; i++) if (!this.hasLanded(purpose, i)) out.push(this.landing(purpose, i));
    return out;
  }

  /** The trainer reports the whole dataset stored (DatasetReady): every chunk has landed. */
  markAllLanded(now: number): void {
    for (const c of this.landingAll()) this.apply(c, now);
  }

  /** Chunks not landed, with their attempt counts (0: presumed held, never issued). */
  outstanding(): { purpose: ChunkPurposeName; index: number; attempt: number }[] {
    const out: { purpose: ChunkPurposeName; index: number; attempt: number }[] = [];
    for (const [key, c] of this.chunks) {
      if (c.landed) continue;
      const [purpose, index] = key.split('/') as [ChunkPurposeName, string];
      out.push({ purpose, index: Number(index), attempt: c.attempt });
    }
    return out;
  }
}
