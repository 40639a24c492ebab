import { topicStats } from '@surrogate/testing';
import { SystemScene } from './system-scene';
import { BLACK_SCHOLES_BOX } from './spec-boxes';

// No worker runs in this test: the experiment stays in data generation until it is cancelled.
const SPEC = `
name: e2e-cancel-cli
${BLACK_SCHOLES_BOX}
samples: 65536
chunkSize: 16384
`;

describe('surrogate cancel and Ctrl-C during submit --wait, over Pulsar', () => {
  const scene = new SystemScene('e2e-cancel-cli', { 'spec.yaml': SPEC });

  it('cancels a running experiment (exit 0), refuses an unknown id (exit 2) and an ended one (exit 1), and times out without a producer (exit 1)', async () => {
    const common = scene.common;
    const producer = scene.start('producer', ['producer', ...common, '--metrics', '127.0.0.1:0']);
    await producer.waitFor(/"msg":"running/);
    // its operators' endpoint: ready once running
    const metricsUrl = /"metrics":"(http:\/\/[^"]+)\/metrics"/.exec(producer.stderr)?.[1] as string;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);

    // Ctrl-C while following: the follower exits 1 saying the experiment goes on, and deletes its subscription
    const follower = scene.start('submit', ['submit', scene.file('spec.yaml'), ...common, '--wait', '--quiet']);
    await follower.waitFor(/waiting for its events|"msg":"connecting"/);
    const events = scene.topics.events;
    const subscriptions = async (prefix: string): Promise<string[]> => {
      const stats = (await topicStats(events).catch(() => ({ subscriptions: {} }))) as { subscriptions?: Record<string, unknown> };
      return Object.keys(stats.subscriptions ?? {}).filter((name) => name.startsWith(prefix));
    };
    const deadline = Date.now() + 60_000;
    while ((await subscriptions('submit-')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await subscriptions('submit-')).toHaveLength(1);
    await producer.waitFor(/experiment accepted/);
    follower.child.kill('SIGINT');
    const followed = await follower.exited;
    expect(followed.code).toBe(1);
    const stopped = JSON.parse(follower.stdout.trim()) as { experimentId: string; following: boolean; note: string };
    expect(stopped.following).toBe(false);
    expect(stopped.note).toContain(`surrogate cancel ${stopped.experimentId}`);
    expect(await subscriptions('submit-')).toEqual([]);

    // the experiment went on; cancel it
    const cancel = scene.start('cancel', ['cancel', stopped.experimentId, ...common, '--reason', 'no longer needed']);
    expect((await cancel.exited).code).toBe(0);
    expect(JSON.parse(cancel.stdout.trim())).toEqual({ experimentId: stopped.experimentId, cancelled: true, reason: 'no longer needed' });

    const unknown = scene.start('cancel-unknown', ['cancel', 'no-such-experiment', ...common]);
    expect((await unknown.exited).code).toBe(2);
    const refused = JSON.parse(unknown.stdout.trim()) as { cancelled: boolean; rejected: { code: string; reason: string } };
    expect(refused.cancelled).toBe(false);
    expect(refused.rejected.code).toBe('UNKNOWN_EXPERIMENT');
    expect(refused.rejected.reason).toContain('no-such-experiment');

    // cancelled already: the producer answers this command at once, saying how it ended (exit 1)
    const again = scene.start('cancel-again', ['cancel', stopped.experimentId, ...common]);
    expect((await again.exited).code).toBe(1);
    expect(JSON.parse(again.stdout.trim())).toEqual({
      experimentId: stopped.experimentId,
      cancelled: false,
      ended: true,
      rejected: { code: 'EXPERIMENT_ENDED', reason: `experiment ${stopped.experimentId} has already ended (cancelled); there is nothing to cancel` },
    });

    // the producer counted what it handled: one submit, the three cancels, 4 training + 4 validation jobs
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(metrics).toContain('\nsurrogate_producer_commands_total{service="producer",command="submit"} 1\n');
    expect(metrics).toContain('\nsurrogate_producer_commands_total{service="producer",command="cancel"} 3\n');
    expect(metrics).toContain('\nsurrogate_producer_jobs_published_total{service="producer",kind="first"} 8\n');
    expect(metrics).toContain('\nsurrogate_producer_experiments{service="producer",status="cancelled"} 1\n');

    // no command left a subscription behind
    expect(await subscriptions('cancel-')).toEqual([]);
    producer.child.kill('SIGTERM');
    expect((await producer.exited).code).toBe(0);

    // with no producer running, cancel says it got no answer (exit 1)
    const unanswered = scene.start('cancel-unanswered', ['cancel', stopped.experimentId, ...common, '--timeout-ms', '1500']);
    expect((await unanswered.exited).code).toBe(1);
    expect(JSON.parse(unanswered.stdout.trim()).reason).toMatch(/no answer from the producer within 1500 ms: is a producer running\?/);
  });
});
