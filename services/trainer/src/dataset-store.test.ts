import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeColumns } from '@surrogate/protocol';
import { promisify } from 'node:util';
import { DatasetStore } from './dataset-store';

const FIRST = { specBase64: Buffer.from([1, 2, 3]).toString('base64'), inputDim: 2, outputDim: 1 };

function chunk(
  purpose: 'training' | 'validation',
  index: number,
  start: number,
  count: number,
  expected: number,
) {
  const a = Float32Array.from({ length: count }, (_, i) => start + i);
  const b = Float32Array.from({ length: count }, (_, i) => -(start + i));
  const y = Float32Array.from({ length: count }, (_, i) => (start + i) / 2);
  return {
    purpose,
    index,
    expected,
    start,
    count,
    inputs: encodeColumns([a, b], count),
    outputs: encodeColumns([y], count),
    workerId: 'w',
    pricerVersion: '1.0.0',
  };
}

describe('DatasetStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dataset-'));
  });

  it('stores each chunk once, counts duplicates, and loads rows in sequence order', async () => {
    const store = await DatasetStore.open(root, 'exp-1', FIRST);
    expect(await store.store(chunk('training', 1, 3, 2, 2))).toBe('stored');
    expect(await store.store(chunk('training', 0, 0, 3, 2))).toBe('stored');
    expect(await store.store(chunk('training', 1, 3, 2, 2))).toBe('duplicate');
    expect(store.counts('training')).toEqual({ stored: 2, expected: 2 });
    expect(store.duplicatesDropped).toBe(1);
    expect(store.complete).toBe(false);
    expect(await store.store(chunk('validation', 0, 0, 2, 1))).toBe('stored');
    expect(store.complete).toBe(true);
    const t = await store.load('training');
    expect(t.count).toBe(5);
    expect(Array.from(t.inputs)).toEqual([0, -0, 1, -1, 2, -2, 3, -3, 4, -4]);
    expect(Array.from(t.outputs)).toEqual([0, 0.5, 1, 1.5, 2]);
    await store.close();
  });

  it('comes back after a restart with everything it had acknowledged, tolerating a torn last line', async () => {
    const store = await DatasetStore.open(root, 'exp-2', FIRST);
    await store.store(chunk('training', 0, 0, 3, 2));
    await store.store(chunk('training', 0, 0, 3, 2));
    await store.setStatus('training');
    await store.close();
    await appendFile(path.join(root, 'exp-2', 'manifest.jsonl'), '{"type":"chunk","purp');

    const again = await DatasetStore.open(root, 'exp-2');
    expect(again.counts('training')).toEqual({ stored: 1, expected: 2 });
    expect(again.duplicatesDropped).toBe(1);
    expect(again.status).toBe('training');
    expect(Buffer.from(again.specBytes)).toEqual(Buffer.from([1, 2, 3]));
    expect(await again.store(chunk('training', 0, 0, 3, 2))).toBe('duplicate');
    expect(await again.store(chunk('training', 1, 3, 2, 2))).toBe('stored');
    expect(await DatasetStore.list(root)).toEqual(['exp-2']);
    await again.close();
    const third = await DatasetStore.open(root, 'exp-2');
    expect(third.counts('training')).toEqual({ stored: 2, expected: 2 });
    await third.close();
  });

  it('drops a last record that a crash left without its newline, on disk and in memory alike', async () => {
    const store = await DatasetStore.open(root, 'exp-5', FIRST);
    await store.store(chunk('training', 0, 0, 3, 2));
    await store.close();
    // the whole record reached the file, its newline did not (power loss, a full disk): it was
    // never synced, so the chunk was never acknowledged and will come again
    const file = path.join(root, 'exp-5', 'manifest.jsonl');
    const record = { type: 'chunk', purpose: 'training', index: 1, start: 3, count: 2, file: 'training-000001.f32', workerId: 'w', pricerVersion: '1.0.0', at: 1 };
    await appendFile(file, JSON.stringify(record));

    const again = await DatasetStore.open(root, 'exp-5');
    expect(again.has('training', 1)).toBe(false);
    expect(again.counts('training')).toEqual({ stored: 1, expected: 2 });
    // the redelivered chunk is stored, not dropped as a duplicate of a record the file no longer holds
    expect(await again.store(chunk('training', 1, 3, 2, 2))).toBe('stored');
    await again.close();
    const third = await DatasetStore.open(root, 'exp-5');
    expect(third.held('training')).toEqual([0, 1]);
    expect(third.complete).toBe(false); // no validation chunk yet
    await third.close();
  });

  it('cuts a record that a full disk let only part of into the file back off, and the manifest stays whole', async () => {
    // A real partial write: the child runs with a 2 KiB file-size limit (RLIMIT_FSIZE; Node ignores
    // SIGXFSZ), so the append that crosses it writes up to the limit and then fails with EFBIG.
    const script = path.join(root, 'fill.js');
    await writeFile(
      script,
      `const { statSync } = require('node:fs');
      const { DatasetStore } = require(${JSON.stringify(require.resolve('./dataset-store'))});
      const root = ${JSON.stringify(root)};
      const manifest = root + '/exp-full/manifest.jsonl';
      const chunk = (index) => ({ purpose: 'training', index, expected: 1000, start: index * 2, count: 2,
        inputs: new Uint8Array(new Float32Array([index, index + 1, -index, -index - 1]).buffer),
        outputs: new Uint8Array(new Float32Array([index / 2, (index + 1) / 2]).buffer),
        workerId: 'w', pricerVersion: '1.0.0' });
      (async () => {
        const store = await DatasetStore.open(root, 'exp-full', ${JSON.stringify(FIRST)});
        const out = { acknowledged: [], failures: [] };
        for (let i = 0; i < 100 && out.failures.length < 2; i++) {
          const before = statSync(manifest).size;
          try {
            if ((await store.store(chunk(i))) === 'stored') out.acknowledged.push(i);
          } catch (err) {
            out.failures.push({ index: i, code: err.code, before, after: statSync(manifest).size });
            i -= 1; // the same chunk again, as a redelivery would bring it
          }
        }
        // a shard larger than the limit: the first write takes part of it without failing
        const rows = 1000;
        const big = { ...chunk(999), count: rows, inputs: new Uint8Array(rows * 8), outputs: new Uint8Array(rows * 4) };
        out.big = await store.store(big).then((r) => r, (err) => err.code);
        console.log(JSON.stringify(out));
      })();`,
    );
    const { stdout } = await promisify(execFile)('bash', ['-c', 'ulimit -f 2 && exec node "$0"', script]);
    const out = JSON.parse(stdout) as {
      big: string;
      acknowledged: number[];
      failures: { index: number; code: string; before: number; after: number }[];
    };
    expect(out.acknowledged.length).toBeGreaterThan(2);
    expect(out.failures).toHaveLength(2);
    for (const f of out.failures) {
      expect(f.after).toBe(f.before); // nothing of the failed record is left in the file
      expect(f.code).toBe('MANIFEST_WRITE_FAILED');
      expect(f.index).toBe(out.acknowledged.length);
    }

    // a shard the disk took only part of is refused, not recorded with the bytes that fit
    expect(out.big).toBe('SHARD_WRITE_FAILED');
    // with room again, the dataset holds exactly what was acknowledged and takes the failed chunk
    const again = await DatasetStore.open(root, 'exp-full');
    expect(again.held('training')).toEqual(out.acknowledged);
    const failed = out.acknowledged.length;
    const rows = (i: number) => chunk('training', i, i * 2, 2, 1000);
    expect(await again.store(rows(failed))).toBe('stored');
    expect(await again.store(rows(failed + 1))).toBe('stored');
    await again.close();
    const third = await DatasetStore.open(root, 'exp-full');
    expect(third.held('training')).toEqual([...out.acknowledged, failed, failed + 1]);
    await third.close();
    // and no temporary shard is left behind
    expect((await readdir(path.join(root, 'exp-full'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await stat(path.join(root, 'exp-full', 'manifest.jsonl'))).size).toBeGreaterThan(2048);
  });

  it('refuses a corrupt manifest line that is not the last', async () => {
    const store = await DatasetStore.open(root, 'exp-3', FIRST);
    await store.store(chunk('training', 0, 0, 3, 1));
    await store.close();
    const file = path.join(root, 'exp-3', 'manifest.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.splice(1, 0, 'garbage');
    await writeFile(file, lines.join('\n'));
    await expect(DatasetStore.open(root, 'exp-3')).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
  });

  it('refuses an experiment id that is not a safe directory name', async () => {
    await expect(DatasetStore.open(root, '../escape', FIRST)).rejects.toMatchObject({
      code: 'BAD_EXPERIMENT_ID',
    });
  });

  it('lists the chunks it holds and records a resume: what was stored then is reused, what comes after generated', async () => {
    expect(await DatasetStore.exists(root, 'exp-4')).toBe(false);
    const store = await DatasetStore.open(root, 'exp-4', FIRST);
    await store.store(chunk('training', 2, 6, 3, 4));
    await store.store(chunk('training', 0, 0, 3, 4));
    await store.store(chunk('validation', 0, 0, 2, 1));
    expect(await DatasetStore.exists(root, 'exp-4')).toBe(true);
    expect(store.held('training')).toEqual([0, 2]);
    expect(store.held('validation')).toEqual([0]);
    expect([store.chunksReused, store.chunksGenerated]).toEqual([0, 3]);
    await store.close();

    const resumed = await DatasetStore.open(root, 'exp-4');
    await resumed.markResumed();
    expect([resumed.chunksReused, resumed.chunksGenerated]).toEqual([3, 0]);
    expect(resumed.collectSeconds).toBe(0);
    await resumed.store(chunk('training', 1, 3, 3, 4));
    expect(await resumed.store(chunk('training', 0, 0, 3, 4))).toBe('duplicate');
    expect([resumed.chunksReused, resumed.chunksGenerated]).toEqual([3, 1]);
    await resumed.close();

    // a restart replays the manifest to the same figures; a second resume moves the line
    const again = await DatasetStore.open(root, 'exp-4');
    expect([again.chunksReused, again.chunksGenerated, again.duplicatesDropped]).toEqual([3, 1, 1]);
    await again.markResumed();
    await again.store(chunk('training', 3, 9, 3, 4));
    expect([again.chunksReused, again.chunksGenerated]).toEqual([4, 1]);
    expect(again.held('training')).toEqual([0, 1, 2, 3]);
    expect(again.complete).toBe(true);
    await again.close();
  });

  it('says a directory without a manifest header holds no dataset, and creates nothing when asked', async () => {
    await writeFile(path.join(root, 'stray.txt'), 'x');
    expect(await DatasetStore.exists(root, 'stray.txt')).toBe(false);
    expect(await DatasetStore.exists(root, 'missing')).toBe(false);
    expect(await DatasetStore.exists(root, '../escape')).toBe(false);
    expect(await DatasetStore.exists(path.join(root, 'no-root'), 'x')).toBe(false);
    expect(await DatasetStore.list(root)).toEqual([]);
  });
});
