import { EventEmitter } from 'node:events';
import { grpc } from './gen/wire';
import { GRPC_RESOURCE_EXHAUSTED, ServingHealth, type HealthWatchCall } from './serving-health';

import health = grpc.health.v1;

/** A server stream as ServingHealth sees it: what it wrote, and how it ended. */
class RecordedCall extends EventEmitter implements HealthWatchCall {
  readonly written: health.IHealthCheckResponse[] = [];
  ended = false;
  failed?: { code: number; details: string };
  constructor(readonly request: health.IHealthCheckRequest = { service: '' }) {
    super();
    this.on('error', (status: { code: number; details: string }) => (this.failed = status));
  }
  write(response: health.IHealthCheckResponse): boolean {
    this.written.push(response);
    return true;
  }
  end(): void {
    this.ended = true;
  }
}

describe('ServingHealth Watch', () => {
  it('keeps at most maxWatchers streams open; one more ends at once with RESOURCE_EXHAUSTED, and a freed place is taken again', () => {
    const serving = new ServingHealth(['svc'], 2);
    const [a, b, c] = [new RecordedCall(), new RecordedCall({ service: 'svc' }), new RecordedCall()];
    serving.watch(a);
    serving.watch(b);
    serving.watch(c);
    expect(a.written).toEqual([{ status: health.HealthCheckResponse.ServingStatus.SERVING }]);
    expect(b.written).toHaveLength(1);
    expect(c.written).toEqual([]);
    expect(c.failed?.code).toBe(GRPC_RESOURCE_EXHAUSTED);
    expect(c.failed?.details).toMatch(/2 health watches are open/);

    a.emit('cancelled'); // a client goes away: its place is free
    const d = new RecordedCall();
    serving.watch(d);
    expect(d.failed).toBeUndefined();
    serving.shutdown();
    expect(b.written.at(-1)).toEqual({ status: health.HealthCheckResponse.ServingStatus.NOT_SERVING });
    expect([b.ended, d.ended]).toEqual([true, true]);
  });
});
