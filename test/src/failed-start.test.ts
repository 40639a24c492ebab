import { SystemScene } from './system-scene';

/**
 * A service the broker refuses at start (here: its namespace does not exist, so every subscription
 * fails) ends with exit 1 and the broker's reason. It used to stay running on its open connection,
 * with SIGTERM caught by handlers nobody waited for: only a second signal ended it.
 */
describe('a service whose start the broker refuses, over Pulsar', () => {
  const scene = new SystemScene('e2e-failed-start');

  it.each([
    ['producer', []],
    ['datagen-worker', []],
    ['trainer', ['--artifacts']],
  ])('%s exits 1 naming the refusal, and does not hang', async (service, extra) => {
    const args = [service, '--pulsar', scene.url, '--namespace', `missing-${Date.now().toString(36)}`];
    if (extra.length > 0) args.push(extra[0] as string, scene.file(`artifacts-${service}`));
    const p = scene.start(service, args);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
    const { code } = await p.exited;
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(p.stderr).toMatch(/Namespace not found|TopicNotFound|does not exist/i);
  }, 45_000);
});
