import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnCli, type CliExit } from './test-fixtures/cli-child';

// 48 training + 8 validation chunks of a Monte Carlo Asian option: data generation takes seconds
// (each price simulates 512 paths of 12 fixings), training well under that.
const SPEC = `
name: resume-datagen
pricer: asian-arithmetic
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02, fixings: 12, paths: 512}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
outputs: [price]
samples: 6144
chunkSize: 128
seed: 5
training: {layers: [32, 32], epochs: 60, batchSize: 128}
validation: {samples: 1024, maxAbsError: 2, rmse: 0.5}
`;
const CHUNKS = 56;

/**
 * Runs the CLI. With `cut`, polls the run's dataset and sends `cut.signal` as soon as
 * `cut.when(stored chunks)` holds; the run must not end before that.
 */
async function surrogate(args: string[], cut?: { signal: NodeJS.Signals; when: (stored: number) => boolean; out: string }): Promise<CliExit> {
  const { child, exited } = spawnCli(args);
  let sent = false;
  const poll = cut
    ? setInterval(() => {
        if (sent || !cut.when(readManifest(cut.out).chunks.length)) return;
        sent = true;
        child.kill(cut.signal);
      }, 15)
    : undefined;
  const exit = await exited.finally(() => clearInterval(poll));
  if (cut && !sent) throw new Error(`the run ended (code ${exit.code}) before it was cut; stderr:\n${exit.stderr}`);
  return exit;
}

interface Manifest {
  /** `purpose/index` of every chunk record, in the order stored. */
  chunks: string[];
  duplicates: number;
  statuses: string[];
}

/** What the (only) dataset under out/dataset has recorded so far; a torn last line is skipped. */
function readManifest(out: string): Manifest {
  const m: Manifest = { chunks: [], duplicates: 0, statuses: [] };
  const root = path.join(out, 'dataset');
  if (!existsSync(root)) return m;
  for (const id of readdirSync(root)) {
    const file = path.join(root, id, 'manifest.jsonl');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      let r: { type?: string; purpose?: string; index?: number; status?: string };
      try {
        r = JSON.parse(line) as typeof r;
      } catch {
        continue;
      }
      if (r.type === 'chunk') m.chunks.push(`${r.purpose}/${r.index}`);
      else if (r.type === 'duplicate') m.duplicates += 1;
      else if (r.type === 'status') m.statuses.push(r.status ?? '');
    }
  }
  return m;
}

function datasetDir(out: string): string {
  const root = path.join(out, 'dataset');
  return path.join(root, readdirSync(root)[0] as string);
}

interface Report {
  validation: { maxAbsError: number; rmse: number; pass: boolean };
  dataset: Record<string, number>;
}

const readReport = (out: string): Report => JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;

describe('surrogate run --resume after a cut during data generation', () => {
  let dir: string;
  let specFile: string;
  let reference: { out: string; report: Report };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'surrogate-resume-datagen-'));
    specFile = path.join(dir, 'spec.yaml');
    await writeFile(specFile, SPEC);
    // the same spec run without interruption: what a resumed run must end up with
    const out = path.join(dir, 'reference');
    const r = await surrogate(['run', specFile, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    reference = { out, report: readReport(out) };
  }, 300_000);

  /** The resumed run's checks: only the missing chunks were generated, and it ends as an uninterrupted run. */
  async function resumeAndCheck(out: string, held: string[]): Promise<CliExit> {
    const k = held.length;
    const resumed = await surrogate(['run', specFile, '--out', out, '--resume']);
    expect(resumed.stderr).toMatch(/resuming resume-datagen-\S+ \(dataset (in)?complete; (no checkpoint yet|checkpoint at step \d+)\)/);
    expect(resumed.stderr).toContain(
      `resuming with ${k} of ${CHUNKS} chunks held; ${k === CHUNKS ? 'none to generate' : `generating the other ${CHUNKS - k}`}`,
    );
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as { pass: boolean }).pass).toBe(true);

    const report = readReport(out);
    expect(report.dataset).toMatchObject({
      chunksExpected: CHUNKS,
      chunksStored: CHUNKS,
      chunksReused: k,
      chunksGenerated: CHUNKS - k,
      duplicatesDropped: 0, // a held chunk generated again would have arrived as a duplicate
    });
    const after = readManifest(out);
    expect(after.chunks.slice(0, k)).toEqual(held); // the held chunks were kept as they were
    expect(new Set(after.chunks).size).toBe(CHUNKS); // and every chunk stored exactly once
    expect(after.chunks).toHaveLength(CHUNKS);
    expect(after.duplicates).toBe(0);

    // chunk data is a pure function of (spec, chunk): the same shards, the same model
    const mine = datasetDir(out);
    const theirs = datasetDir(reference.out);
    for (const file of readdirSync(theirs).filter((f) => f.endsWith('.f32')))
      expect(readFileSync(path.join(mine, file)).equals(readFileSync(path.join(theirs, file)))).toBe(true);
    expect(report.validation.maxAbsError).toBe(reference.report.validation.maxAbsError);
    expect(report.validation.rmse).toBe(reference.report.validation.rmse);
    return resumed;
  }

  it('Ctrl-C while chunks are generated: exit 1 with some chunks stored; --resume generates only the rest', async () => {
    const out = path.join(dir, 'sigint');
    const cut = await surrogate(['run', specFile, '--out', out], { signal: 'SIGINT', when: (n) => n >= 3, out });
    expect(cut.signal).toBeNull();
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/cancelled: interrupted/);
    expect(JSON.parse(cut.stdout)).toEqual(expect.objectContaining({ pass: false, cancelled: { reason: 'interrupted' } }));
    expect(existsSync(path.join(out, 'report.json'))).toBe(false);
    const held = readManifest(out);
    expect(held.chunks.length).toBeGreaterThanOrEqual(3);
    expect(held.chunks.length).toBeLessThan(CHUNKS);
    // 'cancelled' when the trainer saw the cancel before the run stopped; still collecting otherwise
    expect(held.statuses.filter((x) => x !== 'cancelled')).toEqual([]);

    const resumed = await resumeAndCheck(out, held.chunks);
    expect(resumed.stderr).toContain(`(${held.chunks.length} held)`);
    expect(resumed.stderr).toMatch(new RegExp(`chunks ${CHUNKS}/${CHUNKS}`));
  }, 300_000);

  it('SIGKILL right after the first chunk: --resume generates all but that one', async () => {
    const out = path.join(dir, 'sigkill');
    const cut = await surrogate(['run', specFile, '--out', out, '--quiet'], { signal: 'SIGKILL', when: (n) => n >= 1, out });
    expect(cut.signal).toBe('SIGKILL');
    const held = readManifest(out);
    expect(held.chunks.length).toBeGreaterThanOrEqual(1);
    expect(held.chunks.length).toBeLessThan(CHUNKS);
    expect(held.statuses).toEqual([]); // killed while collecting: nothing else was recorded
    await resumeAndCheck(out, held.chunks);
  }, 300_000);

  it('Ctrl-C once every chunk is stored, before training has got anywhere: --resume generates nothing and trains', async () => {
    const out = path.join(dir, 'all-stored');
    const cut = await surrogate(['run', specFile, '--out', out, '--quiet'], { signal: 'SIGINT', when: (n) => n >= CHUNKS, out });
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/cancelled: interrupted/);
    const held = readManifest(out);
    expect(held.chunks).toHaveLength(CHUNKS);
    expect(held.statuses).not.toContain('done'); // training, if it started, was cut short
    const resumed = await resumeAndCheck(out, held.chunks);
    expect(resumed.stderr).toMatch(/\(dataset complete; /);
  }, 300_000);
});
