import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeCheckpoint, checkpointStep } from '@surrogate/nn';
import { spawnCli, type CliExit } from './test-fixtures/cli-child';

/** Runs the CLI; resolves with its exit code (null when killed) and output. `onSpawn` may kill it. */
function surrogate(args: string[], onSpawn?: (kill: () => void) => void): Promise<CliExit> {
  const run = spawnCli(args);
  onSpawn?.(() => run.child.kill('SIGKILL'));
  return run.exited;
}

// Long enough (200 epochs of 65,536 samples: 2.5 s on the fastest host seen) to checkpoint, every 0.2 s,
// several times before it ends.
const EPOCHS = 200;
const SPEC = `
name: resume-bs
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.02}
inputs:
  spot: {min: 80, max: 120}
  volatility: {min: 0.15, max: 0.4}
  maturity: {min: 0.25, max: 1.5}
samples: 65536
chunkSize: 16384
seed: 5
training: {layers: [32, 32], epochs: ${EPOCHS}, checkpointSeconds: 0.2}
validation: {samples: 4096, maxAbsError: 1.0, rmse: 0.2}
`;

async function checkpointFileIn(out: string): Promise<string | undefined> {
  const root = path.join(out, 'dataset');
  if (!existsSync(root)) return undefined;
  for (const id of await readdir(root)) {
    const file = path.join(root, id, 'checkpoint.bin');
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Runs `surrogate run` into `out` and SIGKILLs it as soon as a checkpoint past step `afterStep` is on
 * disk; resolves with how it ended (signal null when it finished before any such checkpoint).
 */
async function runKilledAtCheckpoint(specFile: string, out: string, afterStep: number): Promise<CliExit> {
  let poll: NodeJS.Timeout | undefined;
  const exited = await surrogate(['run', specFile, '--out', out, '--quiet'], (kill) => {
    let killed = false;
    poll = setInterval(() => {
      void checkpointFileIn(out).then((file) => {
        if (!file || killed || checkpointStep(decodeCheckpoint(readFileSync(file))) <= afterStep) return;
        killed = true;
        kill(); // whatever is on disk after this is what a resume finds
      });
    }, 50);
  });
  clearInterval(poll);
  return exited;
}

describe('surrogate run --resume', () => {
  let dir: string;
  let specFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'surrogate-resume-'));
    specFile = path.join(dir, 'spec.yaml');
    await writeFile(specFile, SPEC);
  });

  it('carries on from the last checkpoint after SIGKILL during training, and the model still passes', async () => {
    const out = path.join(dir, 'killed');
    const killed = await runKilledAtCheckpoint(specFile, out, 0);
    expect(killed.signal).toBe('SIGKILL');
    const file = (await checkpointFileIn(out)) as string;
    expect(file).toBeDefined();
    const checkpointAtKill = checkpointStep(decodeCheckpoint(readFileSync(file)));
    expect(checkpointAtKill).toBeGreaterThan(0);
    expect(existsSync(path.join(out, 'report.json'))).toBe(false);

    const resumed = await surrogate(['run', specFile, '--out', out, '--resume']);
    expect(resumed.stderr).toMatch(new RegExp(`resuming resume-bs-\\S+ \\(dataset complete; checkpoint at step ${checkpointAtKill}\\)`));
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { pass: boolean };
    expect(summary.pass).toBe(true);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as {
      training: { resumedFromStep: number; steps: number; epochs: number; validationLossHistory: number[] };
    };
    // nothing before the last checkpoint was redone and nothing after it was skipped
    expect(report.training.resumedFromStep).toBe(checkpointAtKill);
    expect(report.training.steps).toBe(EPOCHS * Math.floor(65536 / 256));
    expect(report.training.validationLossHistory).toHaveLength(EPOCHS);
    expect(existsSync(file)).toBe(false); // a finished run's checkpoint has served

    // resuming a finished run reports it and changes nothing
    const again = await surrogate(['run', specFile, '--out', out, '--resume']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/has already finished/);
  }, 300_000);

  it('resumes with other threads and another checkpoint interval (they change how fast it trains, not what), and uses them', async () => {
    const out = path.join(dir, 'settings');
    expect((await runKilledAtCheckpoint(specFile, out, 0)).signal).toBe('SIGKILL');
    const checkpointAtKill = checkpointStep(decodeCheckpoint(readFileSync((await checkpointFileIn(out)) as string)));
    const faster = path.join(dir, 'faster.yaml');
    await writeFile(faster, SPEC.replace('checkpointSeconds: 0.2}', 'checkpointSeconds: 0.5, threads: 2}'));
    const resumed = await surrogate(['run', faster, '--out', out, '--resume']);
    expect(resumed.stderr).toMatch(new RegExp(`checkpoint at step ${checkpointAtKill}\\)`));
    expect(resumed.code).toBe(0);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as {
      training: { resumedFromStep: number; checkpointSeconds: number };
    };
    expect(report.training.resumedFromStep).toBe(checkpointAtKill);
    expect(report.training.checkpointSeconds).toBe(0.5);
  }, 300_000);

  it('refuses a corrupt checkpoint and a directory of another spec with exit 2 and the reason', async () => {
    const out = path.join(dir, 'corrupt');
    expect((await runKilledAtCheckpoint(specFile, out, -1)).signal).toBe('SIGKILL');
    const file = (await checkpointFileIn(out)) as string;
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);
    const r = await surrogate(['run', specFile, '--out', out, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checkpoint .*checkpoint\.bin is corrupt: CRC-32 mismatch/);
    expect(r.stderr).toMatch(/Delete .*checkpoint\.bin to retrain/);

    const other = path.join(dir, 'other.yaml');
    await writeFile(other, SPEC.replace('seed: 5', 'seed: 6'));
    const mismatch = await surrogate(['run', other, '--out', out, '--resume']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/holds runs of another spec/);
  }, 300_000);
});
