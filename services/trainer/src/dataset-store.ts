import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { SurrogateError, errorMessage, syncDirectory } from '@surrogate/core';
import type { PurposeName } from '@surrogate/protocol';

export class DatasetStoreError extends SurrogateError {}

export type DatasetStatus = 'collecting' | 'training' | 'done' | 'failed' | 'cancelled';

interface Header {
  type: 'header';
  experimentId: string;
  /** The experiment's wire spec (ExperimentSpec bytes, base64), so a restart can rebuild it exactly. */
  spec: string;
  expected: Record<PurposeName, number>;
  inputDim: number;
  outputDim: number;
  createdAt: number;
  /** The submission (its command's issuedAtMs) whose chunk created the dataset; absent when unknown. */
  submittedAt?: number;
}

interface ChunkRecord {
  type: 'chunk';
  purpose: PurposeName;
  index: number;
  start: number;
  count: number;
  file: string;
  workerId: string;
  pricerVersion: string;
  at: number;
}

type Record_ =
  | Header
  | ChunkRecord
  | { type: 'duplicate'; purpose: PurposeName; index: number; at: number }
  /** The experiment was resumed (resubmitted, or `run --resume`): what is stored so far was reused. */
  | { type: 'resumed'; at: number; submittedAt?: number }
  | { type: 'status'; status: DatasetStatus; reason?: string; at: number };

/** Samples of one purpose, row-major: inputs N×D, outputs N×K. */
export interface Samples {
  count: number;
  inputs: Float32Array;
  outputs: Float32Array;
}

/**
 * One experiment's dataset on disk: a shard file per chunk plus an append-only manifest
 * (manifest.jsonl). A chunk is stored once by (purpose, index); a second copy is counted and
 * dropped. Shards are written to a temporary name, synced and renamed (the directory synced too)
 * before the manifest records them, and each manifest record is synced, so a crash or power loss at
 * any point loses nothing that was acknowledged and a restart picks up where it stopped. An append
 * that fails part-way (a full disk) is cut back off the file, so the manifest never holds a fragment
 * followed by later records.
 */
export class DatasetStore {
  private readonly chunks = new Map<string, ChunkRecord>();
  private readonly stored: Record<PurposeName, number> = { training: 0, validation: 0 };
  private duplicates = 0;
  private statusValue: DatasetStatus = 'collecting';
  private firstChunkAt: number | undefined;
  private lastChunkAt: number | undefined;
  private reused = 0;
  private submission: number | undefined;
  /** Set when a failed append could not be cut back off the manifest: nothing more may be appended. */
  private broken: Error | undefined;

  private constructor(
    readonly dir: string,
    private readonly header: Header,
    private readonly manifest: FileHandle,
    /** The manifest's length in bytes: all whole, synced records. */
    private manifestBytes: number,
  ) {}

  /** Opens (or creates, from the first chunk) the dataset of an experiment under `root`. */
  static async open(
    root: string,
    experimentId: string,
    first?: { specBase64: string; inputDim: number; outputDim: number; submittedAt?: number },
  ): Promise<DatasetStore> {
    const dir = path.join(root, safeDirName(experimentId));
    const file = path.join(dir, 'manifest.jsonl');
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new DatasetStoreError('MANIFEST_UNREADABLE', `cannot read ${file}`, { cause: err });
    }
    // Only whole lines count: a record without its newline was torn by a crash mid-append (even
    // when the JSON itself is whole, it was never synced, so what it records was never acknowledged).
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    const records = parseManifest(whole);
    const found = records[0]?.type === 'header' ? (records[0] as Header) : undefined;
    if (!found && !first)
      throw new DatasetStoreError('DATASET_UNKNOWN', `no dataset for experiment ${experimentId} under ${root}`);
    // A new directory's entry (and any parent made with it) must be durable before anything in it is acknowledged.
    const made = await mkdir(dir, { recursive: true });
    if (made !== undefined)
      for (let d = dir; d !== path.dirname(made); d = path.dirname(d)) await syncDirectory(path.dirname(d));
    const handle = await open(file, 'a');
    // drop the fragment, so that the file holds what memory does and the next record starts on its own line
    const wholeBytes = Buffer.byteLength(whole);
    if (wholeBytes < Buffer.byteLength(text)) await handle.truncate(wholeBytes);
    if (found) {
      const opened = new DatasetStore(dir, found, handle, wholeBytes);
      opened.submission = found.submittedAt;
      for (const r of records.slice(1)) opened.apply(r);
      return opened;
    }
    const header: Header = {
      type: 'header',
      experimentId,
      spec: first?.specBase64 ?? '',
      expected: { training: 0, validation: 0 },
      inputDim: first?.inputDim ?? 0,
      outputDim: first?.outputDim ?? 0,
      createdAt: Date.now(),
      ...(first?.submittedAt ? { submittedAt: first.submittedAt } : {}),
    };
    const created = new DatasetStore(dir, header, handle, wholeBytes);
    created.submission = header.submittedAt;
    try {
      await created.append(header);
      await syncDirectory(dir);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return created;
  }

  /** Whether experiment `experimentId` has a dataset under root (reads, never creates anything). */
  static async exists(root: string, experimentId: string): Promise<boolean> {
    try {
      const text = await readFile(path.join(root, safeDirName(experimentId), 'manifest.jsonl'), 'utf8');
      return (JSON.parse(text.split('\n', 1)[0] ?? '') as Partial<Header>).type === 'header';
    } catch {
      return false;
    }
  }

  /** Experiment ids with a dataset under root. */
  static async list(root: string): Promise<string[]> {
    try {
      const entries = await readdir(root, { withFileTypes: true });
      const ids: string[] = [];
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        try {
          const first =
            (await readFile(path.join(root, e.name, 'manifest.jsonl'), 'utf8')).split('\n', 1)[0] ?? '';
          ids.push((JSON.parse(first) as Header).experimentId);
        } catch {
          // not a dataset directory
        }
      }
      return ids;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  get experimentId(): string {
    return this.header.experimentId;
  }
  /** The wire spec bytes the dataset was created with. */
  get specBytes(): Uint8Array {
    return Buffer.from(this.header.spec, 'base64');
  }
  get status(): DatasetStatus {
    return this.statusValue;
  }
  /** The pricer version the stored chunks were generated with. */
  get pricerVersion(): string {
    return this.chunks.values().next().value?.pricerVersion ?? '';
  }
  get duplicatesDropped(): number {
    return this.duplicates;
  }
  get inputDim(): number {
    return this.header.inputDim;
  }
  get outputDim(): number {
    return this.header.outputDim;
  }
  /**
   * The submission (its command's issuedAtMs) the dataset collects for now: the one whose chunk
   * created it, or the last it was resumed for. Undefined when not known (older datasets, a resume
   * without one).
   */
  get submittedAt(): number | undefined {
    return this.submission;
  }
  /** Chunks that were stored when the experiment was last resumed (0 if it never was). */
  get chunksReused(): number {
    return this.reused;
  }
  /** Chunks stored since the experiment was last resumed (all of them if it never was). */
  get chunksGenerated(): number {
    return this.stored.training + this.stored.validation - this.reused;
  }
  /**
   * Seconds from the first to the last chunk stored since the experiment was last resumed (data
   * generation as seen from here; 0 when a resumed run generated nothing).
   */
  get collectSeconds(): number {
    return this.firstChunkAt === undefined || this.lastChunkAt === undefined
      ? 0
      : (this.lastChunkAt - this.firstChunkAt) / 1000;
  }

  counts(purpose: PurposeName): { stored: number; expected: number } {
    return { stored: this.stored[purpose], expected: this.header.expected[purpose] };
  }

  get complete(): boolean {
    const t = this.counts('training');
    const v = this.counts('validation');
    return t.expected > 0 && v.expected > 0 && t.stored === t.expected && v.stored === v.expected;
  }

  has(purpose: PurposeName, index: number): boolean {
    return this.chunks.has(`${purpose}/${index}`);
  }

  /** The indices of the stored chunks of a purpose, ascending. */
  held(purpose: PurposeName): number[] {
    return [...this.chunks.values()]
      .filter((r) => r.purpose === purpose)
      .map((r) => r.index)
      .sort((a, b) => a - b);
  }

  /**
   * Records that the experiment resumes: the chunks stored so far count as reused, those stored
   * from now on as generated by the resumed run (report.json's dataset.chunksReused/chunksGenerated).
   */
  async markResumed(submittedAt?: number): Promise<void> {
    await this.append(submittedAt ? { type: 'resumed', at: Date.now(), submittedAt } : { type: 'resumed', at: Date.now() });
  }

  /**
   * Stores a chunk's raw column bytes; returns 'duplicate' (and stores nothing) when the chunk is
   * already held. `expected` is the chunk count of its purpose, which the first chunk of each
   * purpose fixes.
   */
  async store(chunk: {
    purpose: PurposeName;
    index: number;
    expected: number;
    start: number;
    count: number;
    inputs: Uint8Array;
    outputs: Uint8Array;
    workerId: string;
    pricerVersion: string;
  }): Promise<'stored' | 'duplicate'> {
    if (this.has(chunk.purpose, chunk.index)) {
      await this.append({ type: 'duplicate', purpose: chunk.purpose, index: chunk.index, at: Date.now() });
      return 'duplicate';
    }
    if (this.header.expected[chunk.purpose] === 0) {
      this.header.expected[chunk.purpose] = chunk.expected;
      await this.rewriteHeader();
    }
    const file = `${chunk.purpose}-${String(chunk.index).padStart(6, '0')}.f32`;
    const tmp = path.join(this.dir, `.${file}.tmp`);
    try {
      const handle = await open(tmp, 'w');
      try {
        await writeWhole(handle, [chunk.inputs, chunk.outputs]);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path.join(this.dir, file));
      await syncDirectory(this.dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new DatasetStoreError('SHARD_WRITE_FAILED', `cannot write shard ${file} in ${this.dir}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    await this.append({
      type: 'chunk',
      purpose: chunk.purpose,
      index: chunk.index,
      start: chunk.start,
      count: chunk.count,
      file,
      workerId: chunk.workerId,
      pricerVersion: chunk.pricerVersion,
      at: Date.now(),
    });
    return 'stored';
  }

  async setStatus(status: DatasetStatus, reason?: string): Promise<void> {
    await this.append(
      reason === undefined
        ? { type: 'status', status, at: Date.now() }
        : { type: 'status', status, reason, at: Date.now() },
    );
  }

  /** The stored shards of a purpose in sequence order: file (relative to `dir`), rows, first sample index. */
  shards(purpose: PurposeName): { file: string; count: number; start: number }[] {
    return this.records(purpose).map((r) => ({ file: r.file, count: r.count, start: r.start }));
  }

  private records(purpose: PurposeName): ChunkRecord[] {
    return [...this.chunks.values()].filter((r) => r.purpose === purpose).sort((a, b) => a.start - b.start);
  }

  /** All samples of a purpose, row-major, in sequence order. */
  async load(purpose: PurposeName): Promise<Samples> {
    const records = this.records(purpose);
    const total = records.reduce((n, r) => n + r.count, 0);
    const d = this.header.inputDim;
    const k = this.header.outputDim;
    const inputs = new Float32Array(total * d);
    const outputs = new Float32Array(total * k);
    let row = 0;
    for (const r of records) {
      const bytes = await readAll(path.join(this.dir, r.file));
      if (bytes.byteLength !== r.count * (d + k) * 4) {
        throw new DatasetStoreError(
          'SHARD_CORRUPT',
          `shard ${r.file} has ${bytes.byteLength} bytes, expected ${r.count * (d + k) * 4}`,
        );
      }
      const cols = new Float32Array(bytes.buffer, bytes.byteOffset, r.count * (d + k));
      for (let j = 0; j < d; j++)
        for (let i = 0; i < r.count; i++) inputs[(row + i) * d + j] = cols[j * r.count + i] as number;
      for (let j = 0; j < k; j++)
        for (let i = 0; i < r.count; i++) outputs[(row + i) * k + j] = cols[(d + j) * r.count + i] as number;
      row += r.count;
    }
    return { count: total, inputs, outputs };
  }

  async close(): Promise<void> {
    await this.manifest.close();
  }

  private apply(r: Record_): void {
    if (r.type === 'chunk') {
      const key = `${r.purpose}/${r.index}`;
      if (this.chunks.has(key)) return;
      this.chunks.set(key, r);
      this.stored[r.purpose] += 1;
      this.firstChunkAt ??= r.at;
      this.lastChunkAt = r.at;
    } else if (r.type === 'duplicate') {
      this.duplicates += 1;
    } else if (r.type === 'resumed') {
      this.submission = r.submittedAt;
      this.reused = this.stored.training + this.stored.validation;
      this.firstChunkAt = undefined;
      this.lastChunkAt = undefined;
    } else if (r.type === 'status') {
      this.statusValue = r.status;
    } else if (r.type === 'header') {
      // A rewritten header (expected counts now known) supersedes the first.
      this.header.expected = r.expected;
    }
  }

  private async append(r: Record_): Promise<void> {
    if (this.broken)
      throw new DatasetStoreError(
        'MANIFEST_WRITE_FAILED',
        `${path.join(this.dir, 'manifest.jsonl')} is not writable since an earlier failure; reopen the dataset`,
        { cause: this.broken },
      );
    const line = JSON.stringify(r) + '\n';
    try {
      await this.manifest.appendFile(line);
      await this.manifest.datasync();
    } catch (err) {
      // Whatever part of the record reached the file is cut off again: a fragment left in place
      // would run into the next record and make the manifest unreadable.
      await this.manifest.truncate(this.manifestBytes).catch((cutErr: unknown) => {
        this.broken = cutErr instanceof Error ? cutErr : new Error(String(cutErr));
      });
      throw new DatasetStoreError(
        'MANIFEST_WRITE_FAILED',
        `cannot append to ${path.join(this.dir, 'manifest.jsonl')}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    this.manifestBytes += Buffer.byteLength(line);
    this.apply(r);
  }

  private async rewriteHeader(): Promise<void> {
    await this.append({ ...this.header, expected: { ...this.header.expected } });
  }
}

/** The records of a manifest's whole lines (the torn last line already cut off): every one must be JSON. */
function parseManifest(text: string): Record_[] {
  const out: Record_[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as Record_);
    } catch (err) {
      throw new DatasetStoreError('MANIFEST_CORRUPT', `manifest line ${i + 1} is not JSON`, { cause: err });
    }
  });
  return out;
}

/**
 * Writes every byte of `parts`: a write may take only some of them (a disk filling up, a file-size
 * limit) without failing; the rest is written again, and the write that finds no room at all fails.
 */
async function writeWhole(handle: FileHandle, parts: Uint8Array[]): Promise<void> {
  let rest = parts.filter((p) => p.byteLength > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    if (bytesWritten === 0) throw new DatasetStoreError('SHARD_WRITE_FAILED', 'the disk took none of the bytes written');
    const left: Uint8Array[] = [];
    for (const p of rest) {
      if (bytesWritten >= p.byteLength) bytesWritten -= p.byteLength;
      else {
        left.push(p.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = left;
  }
}

async function readAll(file: string): Promise<Uint8Array> {
  // A fresh, 4-byte-aligned copy: small reads may come back as a view into a shared pool.
  return new Uint8Array(await readFile(file));
}

function safeDirName(id: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id) || id === '.' || id === '..') {
    throw new DatasetStoreError(
      'BAD_EXPERIMENT_ID',
      `experiment id ${JSON.stringify(id)} is not a safe directory name`,
    );
  }
  return id;
}
