import { specToWire } from '@surrogate/spec';
import { encodeRecordSpec, type ChunkState, type ExperimentRecord } from '../experiment-record';
import type { ExperimentStore } from '../experiment-store';
import { smallSpec } from '../test-fixtures/small-spec';

/** What an adapter's test gives the suite: a fresh, empty store per call. */
export interface StoreHarness {
  store: ExperimentStore;
  /** Closes the store and deletes whatever it wrote. */
  dispose(): Promise<void>;
}

export interface StoreHarnessOptions {
  /** Retention of ended experiments. */
  endedTtlMs?: number;
  /** The tenant/namespace the store keeps (two stores of other scopes must not see each other). */
  scope?: { tenant: string; namespace: string };
}

const SPEC = specToWire(smallSpec('store-conformance'));

function record(id: string, overrides: Partial<ExperimentRecord> = {}): ExperimentRecord {
  return {
    id,
    spec: SPEC,
    submittedAt: 1_700_000_000_123,
    createdAt: 1_700_000_000_456,
    status: 'running',
    expected: { training: 4, validation: 1 },
    jobsPublished: false,
    chunks: [
      { purpose: 'training', index: 0, attempt: 0, landed: false },
      { purpose: 'training', index: 1, attempt: 1, landed: false },
      { purpose: 'training', index: 2, attempt: 1, landed: true },
      { purpose: 'training', index: 3, attempt: 1, landed: false },
      { purpose: 'validation', index: 0, attempt: 1, landed: false },
    ],
    ...overrides,
  };
}

const specBytes = (r: ExperimentRecord | undefined): Buffer => Buffer.from(encodeRecordSpec(r?.spec ?? {}));

async function until(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The behaviour every experiment store adapter must have. `open` gives a fresh store (see
 * StoreHarnessOptions); each test disposes of what it opened.
 */
export function describeExperimentStoreConformance(
  adapterName: string,
  open: (options?: StoreHarnessOptions) => Promise<StoreHarness>,
): void {
  describe(`experiment store conformance: ${adapterName}`, () => {
    const opened: StoreHarness[] = [];
    const fresh = async (options?: StoreHarnessOptions): Promise<ExperimentStore> => {
      const h = await open(options);
      opened.push(h);
      return h.store;
    };
    afterEach(async () => {
      for (const h of opened.splice(0).reverse()) await h.dispose();
    });

    it('gives back a stored record as it was put, and nothing for an unknown id', async () => {
      const store = await fresh();
      const r = record('e1');
      await store.put(r);
      const got = await store.get('e1');
      expect({ ...got, spec: undefined }).toEqual({ ...r, spec: undefined });
      expect(specBytes(got).equals(specBytes(r))).toBe(true);
      expect(got?.spec.name).toBe('store-conformance');
      expect(await store.get('e2')).toBeUndefined();
    });

    it('hands out copies: changing what it returned or what was put changes nothing stored', async () => {
      const store = await fresh();
      const r = record('e1');
      await store.put(r);
      (r.chunks[0] as ChunkState).landed = true;
      r.status = 'failed';
      const got = await store.get('e1');
      (got?.chunks[1] as ChunkState).attempt = 9;
      const again = await store.get('e1');
      expect(again?.status).toBe('running');
      expect(again?.chunks[0]?.landed).toBe(false);
      expect(again?.chunks[1]?.attempt).toBe(1);
    });

    it('replaces the whole record on a second put (a rerun): no chunk of the first survives', async () => {
      const store = await fresh();
      await store.put(record('e1'));
      await store.setStatus('e1', 'cancelled');
      const rerun = record('e1', {
        submittedAt: 1_700_000_999_000,
        chunks: [{ purpose: 'training', index: 1, attempt: 1, landed: false }],
      });
      await store.put(rerun);
      const got = await store.get('e1');
      expect(got?.status).toBe('running');
      expect(got?.submittedAt).toBe(1_700_000_999_000);
      expect(got?.chunks).toEqual(rerun.chunks);
      expect((await store.listLive()).map((l) => l.id)).toEqual(['e1']);
    });

    it('records chunk states and leaves the others as they were', async () => {
      const store = await fresh();
      await store.put(record('e1'));
      await store.saveChunks('e1', [
        { purpose: 'training', index: 1, attempt: 1, landed: true },
        { purpose: 'validation', index: 0, attempt: 2, landed: false },
      ]);
      await store.saveChunks('e1', []);
      const got = await store.get('e1');
      expect(got?.chunks).toEqual([
        { purpose: 'training', index: 0, attempt: 0, landed: false },
        { purpose: 'training', index: 1, attempt: 1, landed: true },
        { purpose: 'training', index: 2, attempt: 1, landed: true },
        { purpose: 'training', index: 3, attempt: 1, landed: false },
        { purpose: 'validation', index: 0, attempt: 2, landed: false },
      ]);
    });

    it("never lowers a chunk's attempt count nor un-lands it: two producers' writes commute", async () => {
      const store = await fresh();
      await store.put(record('e1'));
      // a standby re-issues (attempt 2) from what it read just before the active one stored a landing
      await store.saveChunks('e1', [{ purpose: 'training', index: 1, attempt: 1, landed: true }]);
      await store.saveChunks('e1', [{ purpose: 'training', index: 1, attempt: 2, landed: false }]);
      // a landing stored from a view that missed a re-issue (attempt 1 where 3 is stored)
      await store.saveChunks('e1', [{ purpose: 'training', index: 3, attempt: 3, landed: false }]);
      await store.saveChunks('e1', [{ purpose: 'training', index: 3, attempt: 1, landed: true }]);
      // a chunk no one stored before is taken as given
      await store.saveChunks('e1', [{ purpose: 'validation', index: 0, attempt: 0, landed: false }]);
      const got = await store.get('e1');
      expect(got?.chunks).toEqual([
        { purpose: 'training', index: 0, attempt: 0, landed: false },
        { purpose: 'training', index: 1, attempt: 2, landed: true },
        { purpose: 'training', index: 2, attempt: 1, landed: true },
        { purpose: 'training', index: 3, attempt: 3, landed: true },
        { purpose: 'validation', index: 0, attempt: 1, landed: false },
      ]);
    });

    it('claims re-issues all or none: only from the attempt before, unlanded, of the same running submission', async () => {
      const store = await fresh();
      await store.put(record('e1'));
      const reissue = [
        { purpose: 'training' as const, index: 0, attempt: 1, landed: false }, // presumed held (attempt 0)
        { purpose: 'training' as const, index: 1, attempt: 2, landed: false },
        { purpose: 'validation' as const, index: 0, attempt: 2, landed: false },
      ];
      const chunksNow = async (): Promise<ChunkState[]> => (await store.get('e1'))?.chunks ?? [];
      const before = await chunksNow();
      // another submission, or the same attempt claimed by a second producer: nothing is written
      expect(await store.claimReissues('e1', 1, reissue)).toBe(false);
      expect(await chunksNow()).toEqual(before);
      expect(await store.claimReissues('e1', 1_700_000_000_123, reissue)).toBe(true);
      const claimed = await chunksNow();
      expect(claimed.filter((c) => !c.landed).map((c) => `${c.purpose}/${c.index}:${c.attempt}`)).toEqual([
        'training/0:1',
        'training/1:2',
        'training/3:1',
        'validation/0:2',
      ]);
      expect(await store.claimReissues('e1', 1_700_000_000_123, reissue)).toBe(false);
      // one chunk of the claim no longer at the attempt before (here: landed) refuses the whole claim
      const next = [
        { purpose: 'training' as const, index: 3, attempt: 2, landed: false },
        { purpose: 'training' as const, index: 2, attempt: 2, landed: false },
      ];
      expect(await store.claimReissues('e1', 1_700_000_000_123, next)).toBe(false);
      expect(await chunksNow()).toEqual(claimed);
      expect(await store.claimReissues('e1', 1_700_000_000_123, next.slice(0, 1))).toBe(true);
      // an experiment no longer running takes no re-issue
      await store.setStatus('e1', 'cancelled');
      expect(await store.claimReissues('e1', 1_700_000_000_123, [{ purpose: 'training', index: 3, attempt: 3, landed: false }])).toBe(false);
      expect((await chunksNow()).find((c) => c.purpose === 'training' && c.index === 3)?.attempt).toBe(2);
      await expect(store.claimReissues('nobody', 1, reissue)).rejects.toMatchObject({ code: 'STORE_UNKNOWN_EXPERIMENT' });
    });

    it('gives the ids of the live experiments, without the ended or forgotten ones', async () => {
      const store = await fresh({ endedTtlMs: 300 });
      expect(await store.liveIds()).toEqual([]);
      for (const id of ['run', 'complete', 'ok', 'gone']) await store.put(record(id));
      await store.put(record('put-ended', { status: 'failed' }));
      await store.setStatus('complete', 'datagen-complete');
      await store.setStatus('ok', 'succeeded');
      await store.setStatus('gone', 'cancelled');
      expect((await store.liveIds()).sort()).toEqual(['complete', 'run']);
      await until(async () => (await store.get('gone')) === undefined, 10_000, 'the ended experiment to be forgotten');
      await store.setStatus('run', 'failed');
      expect(await store.liveIds()).toEqual(['complete']);
    });

    it('marks the jobs of a submission published', async () => {
      const store = await fresh();
      await store.put(record('e1'));
      await store.markJobsPublished('e1');
      expect((await store.get('e1'))?.jobsPublished).toBe(true);
    });

    it('refuses to update an experiment it does not hold (STORE_UNKNOWN_EXPERIMENT), creating nothing', async () => {
      const store = await fresh();
      const chunk: ChunkState = { purpose: 'training', index: 0, attempt: 1, landed: true };
      await expect(store.saveChunks('nobody', [chunk])).rejects.toMatchObject({ code: 'STORE_UNKNOWN_EXPERIMENT' });
      await expect(store.setStatus('nobody', 'cancelled')).rejects.toMatchObject({ code: 'STORE_UNKNOWN_EXPERIMENT' });
      await expect(store.markJobsPublished('nobody')).rejects.toMatchObject({ code: 'STORE_UNKNOWN_EXPERIMENT' });
      await expect(store.setStatus('nobody', 'running')).rejects.toThrow(/holds no experiment nobody/);
      expect(await store.get('nobody')).toBeUndefined();
      expect(await store.listLive()).toEqual([]);
    });

    it('lists the live experiments (running, datagen-complete) and not the ended ones, which it still gives out', async () => {
      const store = await fresh();
      for (const id of ['run', 'complete', 'ok', 'bad', 'stopped']) await store.put(record(id));
      await store.setStatus('complete', 'datagen-complete');
      await store.setStatus('ok', 'succeeded');
      await store.setStatus('bad', 'failed');
      await store.setStatus('stopped', 'cancelled');
      const live = await store.listLive();
      expect(live.map((r) => [r.id, r.status]).sort()).toEqual([
        ['complete', 'datagen-complete'],
        ['run', 'running'],
      ]);
      expect(live.find((r) => r.id === 'run')?.chunks).toHaveLength(5);
      for (const [id, status] of [['ok', 'succeeded'], ['bad', 'failed'], ['stopped', 'cancelled']])
        expect((await store.get(id))?.status).toBe(status);
      // a record put as ended is not live either
      await store.put(record('put-ended', { status: 'cancelled' }));
      expect((await store.listLive()).map((r) => r.id).sort()).toEqual(['complete', 'run']);
    });

    it('forgets an ended experiment after its retention period, and never a live one', async () => {
      const store = await fresh({ endedTtlMs: 300 });
      await store.put(record('ended'));
      await store.put(record('live'));
      await store.put(record('revived'));
      await store.setStatus('ended', 'failed');
      await store.setStatus('revived', 'cancelled');
      await store.setStatus('revived', 'running'); // live again: its retention is lifted
      await until(async () => (await store.get('ended')) === undefined, 10_000, 'the ended experiment to be forgotten');
      await new Promise((r) => setTimeout(r, 400)); // past the retention of 'revived' had it kept it
      expect((await store.get('live'))?.status).toBe('running');
      expect((await store.get('revived'))?.chunks).toHaveLength(5);
      expect((await store.listLive()).map((r) => r.id).sort()).toEqual(['live', 'revived']);
      await expect(store.setStatus('ended', 'running')).rejects.toMatchObject({ code: 'STORE_UNKNOWN_EXPERIMENT' });
    });

    it('keeps ids apart however they are spelled', async () => {
      const store = await fresh();
      const ids = ['a', 'a:chunks', 'a/b', 'a b', 'é*?[x]'];
      for (const [n, id] of ids.entries()) await store.put(record(id, { submittedAt: n }));
      await store.saveChunks('a:chunks', [{ purpose: 'training', index: 0, attempt: 3, landed: true }]);
      for (const [n, id] of ids.entries()) expect((await store.get(id))?.submittedAt).toBe(n);
      expect((await store.get('a'))?.chunks[0]).toEqual({ purpose: 'training', index: 0, attempt: 0, landed: false });
      expect((await store.listLive()).map((r) => r.id).sort()).toEqual([...ids].sort());
      const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect((await store.list({ limit: 10 })).records.map((r) => r.id)).toEqual(byBytes);
      expect((await store.list({ limit: 10, after: 'a' })).records.map((r) => r.id)).toEqual(byBytes.filter((id) => id !== 'a'));
    });

    it('keeps large plans whole (thousands of chunks)', async () => {
      const store = await fresh();
      const chunks: ChunkState[] = Array.from({ length: 2500 }, (_, i) => ({ purpose: 'training', index: i, attempt: 1, landed: false }));
      chunks.push({ purpose: 'validation', index: 0, attempt: 1, landed: false });
      await store.put(record('big', { expected: { training: 2500, validation: 1 }, chunks }));
      await store.saveChunks('big', chunks.slice(0, 2400).map((c) => ({ ...c, landed: true })));
      const got = await store.get('big');
      expect(got?.chunks).toHaveLength(2501);
      expect(got?.chunks.filter((c) => c.landed)).toHaveLength(2400);
      expect(got?.chunks[2499]).toEqual({ purpose: 'training', index: 2499, attempt: 1, landed: false });
    });

    it('lists every experiment it holds by id, a page at a time, and filters by status', async () => {
      const store = await fresh();
      expect(await store.list({ limit: 10 })).toEqual({ records: [] });
      const ids = ['e05', 'e01', 'e04', 'e02', 'e03', 'e06', 'e07'];
      for (const id of ids) await store.put(record(id));
      await store.setStatus('e02', 'succeeded');
      await store.setStatus('e04', 'cancelled');
      await store.setStatus('e06', 'succeeded');
      await store.put(record('e07', { status: 'failed' }));
      // unfiltered: pages of 3, each naming where the next starts, the last naming none
      const first = await store.list({ limit: 3 });
      expect(first.records.map((r) => r.id)).toEqual(['e01', 'e02', 'e03']);
      expect(first.next).toBe('e03');
      expect(first.records[1]?.status).toBe('succeeded');
      expect(first.records[0]?.chunks).toHaveLength(5);
      const second = await store.list({ limit: 3, after: first.next });
      expect(second.records.map((r) => r.id)).toEqual(['e04', 'e05', 'e06']);
      expect(second.next).toBe('e06');
      const last = await store.list({ limit: 3, after: second.next });
      expect(last).toEqual({ records: [expect.objectContaining({ id: 'e07', status: 'failed' })] });
      expect(last.next).toBeUndefined();
      // a page that ends exactly at the last id says there is no more
      expect((await store.list({ limit: 7 })).next).toBeUndefined();
      // by status, paged
      const ok1 = await store.list({ limit: 1, status: 'succeeded' });
      expect(ok1.records.map((r) => r.id)).toEqual(['e02']);
      const ok2 = await store.list({ limit: 1, status: 'succeeded', after: ok1.next });
      expect(ok2.records.map((r) => r.id)).toEqual(['e06']);
      const ok3 = ok2.next === undefined ? { records: [] } : await store.list({ limit: 1, status: 'succeeded', after: ok2.next });
      expect(ok3.records).toEqual([]);
      expect((await store.list({ limit: 10, status: 'running' })).records.map((r) => r.id)).toEqual(['e01', 'e03', 'e05']);
      expect((await store.list({ limit: 10, status: 'datagen-complete' })).records).toEqual([]);
      // an `after` that is no id of its own starts after where it would be
      expect((await store.list({ limit: 2, after: 'e035' })).records.map((r) => r.id)).toEqual(['e04', 'e05']);
    });

    it('lists an experiment once however often it was put, and no more once it is forgotten', async () => {
      const store = await fresh({ endedTtlMs: 300 });
      await store.put(record('again'));
      await store.setStatus('again', 'cancelled');
      await store.put(record('again', { submittedAt: 5 }));
      await store.put(record('gone'));
      await store.setStatus('gone', 'failed');
      await until(async () => (await store.get('gone')) === undefined, 10_000, 'the ended experiment to be forgotten');
      const page = await store.list({ limit: 10 });
      expect(page.records.map((r) => [r.id, r.submittedAt, r.status])).toEqual([['again', 5, 'running']]);
      expect(page.next).toBeUndefined();
    });

    it('keeps the experiments of other tenants and namespaces apart', async () => {
      const a = await fresh({ scope: { tenant: 'acme', namespace: 'desk' } });
      const b = await fresh({ scope: { tenant: 'globex', namespace: 'desk' } });
      await a.put(record('same-id', { submittedAt: 1 }));
      await b.put(record('same-id', { submittedAt: 2 }));
      await b.setStatus('same-id', 'cancelled');
      expect((await a.get('same-id'))?.submittedAt).toBe(1);
      expect((await a.get('same-id'))?.status).toBe('running');
      expect((await a.listLive()).map((r) => r.id)).toEqual(['same-id']);
      expect(await b.listLive()).toEqual([]);
      expect((await a.list({ limit: 10 })).records.map((r) => [r.id, r.submittedAt])).toEqual([['same-id', 1]]);
      expect((await b.list({ limit: 10 })).records.map((r) => [r.id, r.status])).toEqual([['same-id', 'cancelled']]);
    });
  });
}
