import { BusError, BusErrorCode } from './bus-error';
import { LOGICAL_TOPICS, Topics, topicName } from './topics';

describe('topicName', () => {
  it('builds a persistent topic name', () => {
    expect(topicName('acme', 'surrogate', 'jobs')).toBe('persistent://acme/surrogate/jobs');
  });

  it.each([
    ['', 'ns', 'jobs'],
    ['acme', 'a/b', 'jobs'],
    ['acme', 'ns', 'jobs topic'],
  ])('rejects the segments %j/%j/%j', (tenant, namespace, name) => {
    let error: unknown;
    try {
      topicName(tenant, namespace, name);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe(BusErrorCode.INVALID_ARGUMENT);
  });
});

describe('Topics', () => {
  it('maps the logical topics into public/default by default', () => {
    const topics = new Topics();
    expect(topics.tenant).toBe('public');
    expect(topics.namespace).toBe('default');
    expect({ experiments: topics.experiments, jobs: topics.jobs, chunks: topics.chunks, events: topics.events }).toEqual({
      experiments: 'persistent://public/default/experiments',
      jobs: 'persistent://public/default/jobs',
      chunks: 'persistent://public/default/chunks',
      events: 'persistent://public/default/events',
    });
  });

  it('uses the given tenant, namespace and per-site jobs topic', () => {
    const topics = new Topics({ tenant: 'client-a', namespace: 'prod', site: 'paris' });
    expect(topics.events).toBe('persistent://client-a/prod/events');
    expect(topics.jobs).toBe('persistent://client-a/prod/jobs-paris');
    expect(LOGICAL_TOPICS.map((name) => topics.get(name))).toEqual([
      'persistent://client-a/prod/experiments',
      'persistent://client-a/prod/jobs-paris',
      'persistent://client-a/prod/chunks',
      'persistent://client-a/prod/events',
    ]);
  });

  it('rejects unknown logical names and invalid segments', () => {
    expect(() => new Topics().get('tenant' as never)).toThrow(BusError);
    expect(() => new Topics({ tenant: 'a b' })).toThrow(BusError);
    expect(() => new Topics({ site: 'x/y' })).toThrow(BusError);
  });
});
