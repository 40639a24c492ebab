import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '@surrogate/messaging';
import { SystemScene } from './system-scene';

/**
 * One trainer per data directory, as a rolling update starts them: the new trainer waits for the
 * old one to stop instead of training the same datasets beside it, a SIGTERM ends its wait at once
 * (exit 0), and once the old one has stopped the next takes over.
 */
describe('two trainers on one data directory, over Pulsar', () => {
  const scene = new SystemScene('e2e-trainer-lock');
  const args = (): string[] => ['trainer', ...scene.common, '--artifacts', scene.file('artifacts'), '--data', scene.file('data')];

  it('the second waits for the first, stops at once on SIGTERM while waiting, and takes over once the first stopped', async () => {
    const first = scene.start('trainer-1', args());
    await first.waitFor(/"msg":"running/);
    expect(existsSync(path.join(scene.file('data'), '.trainer.lock'))).toBe(true);

    const waiting = scene.start('trainer-2', args());
    await waiting.waitFor(/another trainer holds this data directory; waiting for it to stop/);
    expect(waiting.stderr).not.toMatch(/"msg":"running/);
    const t0 = Date.now();
    waiting.child.kill('SIGTERM');
    expect((await waiting.exited).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);

    const next = scene.start('trainer-3', args());
    await next.waitFor(/another trainer holds this data directory/);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    await next.waitFor(/"msg":"running/, 30_000);
    await waitFor(() => existsSync(path.join(scene.file('data'), '.trainer.lock')), 5000, 'the lock, now the third trainer\'s');
    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
    expect(existsSync(path.join(scene.file('data'), '.trainer.lock'))).toBe(false); // given back on stop
  }, 120_000);
});
