import { chunkField, copyRecord, sortChunks, type ChunkState, type ExperimentRecord } from './experiment-record';
import { ExperimentStoreError } from './experiment-store-error';
import { isEnded, type ExperimentStatus } from './experiment-status';
import { DEFAULT_ENDED_TTL_MS, type ExperimentListQuery, type ExperimentPage, type ExperimentStore } from './experiment-store';

export interface MemoryExperimentStoreOptions {
  /** How long an ended experiment is kept. Default 7 days. */
  endedTtlMs?: number;
  /** The clock (for tests). Default Date.now. */
  now?: () => number;
}

interface Entry {
  record: ExperimentRecord;
  /** Chunk states by chunkField. */
  chunks: Map<string, ChunkState>;
  /** Forgotten at this time (ended experiments only). */
  expiresAt?: number;
}

/**
 * The experiment store in this process's memory: what the embedded `surrogate run` and a producer
 * without Redis use. Nothing survives the process.
 */
export class MemoryExperimentStore implements ExperimentStore {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private readonly endedTtlMs: number;
  private readonly now: () => number;

  constructor(options: MemoryExperimentStoreOptions = {}) {
    this.endedTtlMs = options.endedTtlMs ?? DEFAULT_ENDED_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  async put(record: ExperimentRecord): Promise<void> {
    const copy = copyRecord(record);
    const chunks = new Map(copy.chunks.map((c) => [chunkField(c.purpose, c.index), c]));
    this.entries.set(record.id, { record: copy, chunks, expiresAt: this.expiry(copy.status) });
  }

  async get(id: string): Promise<ExperimentRecord | undefined> {
    const entry = this.entry(id);
    return entry ? this.snapshot(entry) : undefined;
  }

  async listLive(): Promise<ExperimentRecord[]> {
    const out: ExperimentRecord[] = [];
    for (const id of [...this.entries.keys()]) {
      const entry = this.entry(id);
      if (entry && !isEnded(entry.record.status)) out.push(this.snapshot(entry));
    }
    return out;
  }

  async liveIds(): Promise<string[]> {
    return [...this.entries.keys()].filter((id) => {
      const entry = this.entry(id);
      return entry !== undefined && !isEnded(entry.record.status);
    });
  }

  async list(query: ExperimentListQuery): Promise<ExperimentPage> {
    const ids = [...this.entries.keys()].filter((id) => query.after === undefined || compareIds(id, query.after) > 0).sort(compareIds);
    const records: ExperimentRecord[] = [];
    for (const [n, id] of ids.entries()) {
      const entry = this.entry(id);
      if (!entry || (query.status !== undefined && entry.record.status !== query.status)) continue;
      records.push(this.snapshot(entry));
      if (records.length === query.limit) return { records, next: n < ids.length - 1 ? id : undefined };
    }
    return { records };
  }

  async saveChunks(id: string, chunks: readonly ChunkState[]): Promise<void> {
    const entry = this.known(id);
    for (const c of chunks) {
      const field = chunkField(c.purpose, c.index);
      const stored = entry.chunks.get(field);
      entry.chunks.set(field, { ...c, attempt: Math.max(c.attempt, stored?.attempt ?? 0), landed: c.landed || stored?.landed === true });
    }
  }

  async claimReissues(id: string, submittedAt: number, chunks: readonly ChunkState[]): Promise<boolean> {
    const entry = this.known(id);
    if (entry.record.submittedAt !== submittedAt || entry.record.status !== 'running') return false;
    for (const c of chunks) {
      const stored = entry.chunks.get(chunkField(c.purpose, c.index));
      if (c.landed || stored?.landed === true || (stored?.attempt ?? 0) !== c.attempt - 1) return false;
    }
    for (const c of chunks) entry.chunks.set(chunkField(c.purpose, c.index), { ...c });
    return true;
  }

  async setStatus(id: string, status: ExperimentStatus): Promise<void> {
    const entry = this.known(id);
    entry.record.status = status;
    entry.expiresAt = this.expiry(status);
  }

  async markJobsPublished(id: string): Promise<void> {
    this.known(id).record.jobsPublished = true;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private expiry(status: ExperimentStatus): number | undefined {
    return isEnded(status) ? this.now() + this.endedTtlMs : undefined;
  }

  /** The live entry of `id`; an expired one is dropped. */
  private entry(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry?.expiresAt !== undefined && this.now() >= entry.expiresAt) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  private known(id: string): Entry {
    const entry = this.entry(id);
    if (!entry)
      throw new ExperimentStoreError('STORE_UNKNOWN_EXPERIMENT', `the experiment store holds no experiment ${id}`, {
        details: { experimentId: id },
      });
    return entry;
  }

  private snapshot(entry: Entry): ExperimentRecord {
    return copyRecord({ ...entry.record, chunks: sortChunks([...entry.chunks.values()]) });
  }
}

/** By the ids' UTF-8 bytes: the order of Redis's sorted-set index (lexicographic), so that both stores page alike. */
function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
