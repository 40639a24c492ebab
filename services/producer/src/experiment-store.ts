import type { ChunkState, ExperimentRecord } from './experiment-record';
import type { ExperimentStatus } from './experiment-status';

/** What `ExperimentStore.list` is asked for. */
export interface ExperimentListQuery {
  /** Only experiments in this status; default every status. */
  status?: ExperimentStatus;
  /** Only ids after this one (the `next` of the page before); default from the first. */
  after?: string;
  /** At most this many records (≥ 1). */
  limit: number;
}

/** A page of experiments, by id. */
export interface ExperimentPage {
  records: ExperimentRecord[];
  /**
   * Set when ids follow this page: the `after` of the next one. With a status filter the next page
   * may turn out empty (the ids that follow need not have that status).
   */
  next?: string;
}

/** Ended experiments are kept this long by default (7 days), then forgotten. */
export const DEFAULT_ENDED_TTL_MS = 7 * 24 * 3600_000;

/**
 * The port through which the producer keeps its experiment state. Adapters: memory (one process;
 * nothing survives it) and Redis (survives producer restarts; shared by the producers of several
 * tenants, each in its own key space). One conformance suite runs against both.
 *
 * Live experiments (running, datagen-complete) are kept until they end; an ended one is kept for
 * the store's retention period (endedTtlMs), then forgotten. Every write is atomic: a record is
 * never seen half-written. A failing write rejects (ExperimentStoreError), so that the message that
 * caused it is not acknowledged and comes again.
 */
export interface ExperimentStore {
  /** `memory` or `redis`, for logs. */
  readonly kind: string;
  /** Stores a submitted experiment whole, replacing whatever was kept under its id (a rerun). */
  put(record: ExperimentRecord): Promise<void>;
  /** The experiment as last stored; undefined if unknown or forgotten. */
  get(id: string): Promise<ExperimentRecord | undefined>;
  /** Every live experiment (running or datagen-complete), for a producer that starts. */
  listLive(): Promise<ExperimentRecord[]>;
  /**
   * The ids of the live experiments, without their records: what a producer's stall check compares
   * with its memory at every check, to find the experiments another producer accepted or ended (one
   * cheap call; records are then read only for the ids that differ).
   */
  liveIds(): Promise<string[]>;
  /**
   * The experiments it holds (live, and ended ones within their retention), ordered by id (by the
   * ids' UTF-8 bytes), a page at a time.
   */
  list(query: ExperimentListQuery): Promise<ExperimentPage>;
  /**
   * Records chunk states (issued, re-issued, landed); STORE_UNKNOWN_EXPERIMENT if it holds no such
   * experiment. A chunk's state only grows: its attempt count is the larger of the stored and the
   * given one, and a landed chunk stays landed. So the writes of two producers (an active one and a
   * standby that acts on what it read a moment before) never undo each other, whatever their order.
   */
  saveChunks(id: string, chunks: readonly ChunkState[]): Promise<void>;
  /**
   * Records re-issues (chunk states whose attempt is one more than before) only if, in one atomic
   * step, the experiment is still the submission `submittedAt`, still running, and every chunk is
   * still not landed at the attempt before (a chunk never stored counts as attempt 0). Otherwise it
   * writes nothing and gives false: another producer re-issued, landed or ended it meanwhile, and
   * this one must not publish the same jobs again. STORE_UNKNOWN_EXPERIMENT as saveChunks.
   */
  claimReissues(id: string, submittedAt: number, chunks: readonly ChunkState[]): Promise<boolean>;
  /** A status change; an ended status starts the retention period. STORE_UNKNOWN_EXPERIMENT as saveChunks. */
  setStatus(id: string, status: ExperimentStatus): Promise<void>;
  /** The submission's accepted event and jobs are all published. STORE_UNKNOWN_EXPERIMENT as saveChunks. */
  markJobsPublished(id: string): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
