import { createLogger } from '@surrogate/core';
import { startRedisServer, realRedis, type RealRedis } from '@surrogate/testing';
import { Redis } from 'ioredis';
import { describeExperimentStoreConformance } from './conformance/experiment-store-conformance';
import type { ExperimentRecord } from './experiment-record';
import { openRedisExperimentStore, RedisExperimentStore } from './redis-experiment-store';
import { specToWire, parseSpec } from '@surrogate/spec';

// The REAL Redis: $REDIS_URL, else the one on 127.0.0.1:6379, else a redis-server started here.
let redis: RealRedis;
let admin: Redis;
beforeAll(async () => {
  redis = await realRedis();
  admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
}, 30_000);
afterAll(async () => {
  await admin?.quit();
  await redis?.stop();
});

const silent = createLogger({ name: 'redis-store-test', level: 'silent' });
let prefixes = 0;
/** A key prefix no other test (or run) uses. */
const uniquePrefix = (): string => `surrogate-test-${process.pid}-${Date.now().toString(36)}-${++prefixes}`;

/** Deletes every key under the prefix. */
async function deleteKeys(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

describeExperimentStoreConformance('redis', async (options = {}) => {
  const prefix = uniquePrefix();
  const store = await openRedisExperimentStore({
    url: redis.url,
    prefix,
    scope: options.scope ?? { tenant: 'public', namespace: 'default' },
    endedTtlMs: options.endedTtlMs,
    logger: silent,
  });
  return {
    store,
    dispose: async () => {
      await store.close();
      await deleteKeys(prefix);
    },
  };
});

const SPEC = specToWire(
  parseSpec(`
name: redis-specific
pricer: black-scholes
fixed: {type: call, strike: 100, dividend: 0, rate: 0.01, maturity: 1}
inputs: {spot: {min: 80, max: 120}, volatility: {min: 0.1, max: 0.5}}
samples: 600
chunkSize: 300
`),
);
const RECORD: ExperimentRecord = {
  id: 'e1',
  spec: SPEC,
  submittedAt: 5,
  createdAt: 6,
  status: 'running',
  expected: { training: 2, validation: 1 },
  jobsPublished: true,
  chunks: [{ purpose: 'training', index: 0, attempt: 1, landed: false }],
};

describe('RedisExperimentStore specifics', () => {
  const prefix = uniquePrefix();
  const scope = { tenant: 'acme', namespace: 'desk-1' };
  let store: RedisExperimentStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await deleteKeys(prefix);
  });

  it('scopes its keys by tenant/namespace under one hash tag, and expires only the keys of ended experiments', async () => {
    store = await openRedisExperimentStore({ url: redis.url, prefix, scope, endedTtlMs: 60_000, logger: silent });
    await store.put(RECORD);
    const k = store.keys('e1');
    expect(k).toEqual({
      record: `${prefix}:{acme/desk-1}:exp:e1`,
      chunks: `${prefix}:{acme/desk-1}:exp:e1:chunks`,
      live: `${prefix}:{acme/desk-1}:live`,
      index: `${prefix}:{acme/desk-1}:ids`,
    });
    expect(await admin.zrange(k.index, '0', '-1')).toEqual(['e1']);
    expect(await admin.pttl(k.index)).toBe(-1); // never expires: List drops the ids of forgotten experiments
    expect(await admin.pttl(k.record)).toBe(-1);
    expect(await admin.pttl(k.chunks)).toBe(-1);
    expect(await admin.smembers(k.live)).toEqual(['e1']);
    await store.setStatus('e1', 'succeeded');
    for (const key of [k.record, k.chunks]) {
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(await admin.smembers(k.live)).toEqual([]);
  });

  it('survives its client: a second store (a restarted producer) reads what the first wrote', async () => {
    const first = await openRedisExperimentStore({ url: redis.url, prefix, scope, logger: silent });
    await first.put(RECORD);
    await first.saveChunks('e1', [{ purpose: 'training', index: 0, attempt: 1, landed: true }]);
    await first.close();
    store = await openRedisExperimentStore({ url: redis.url, prefix, scope, logger: silent });
    const live = await store.listLive();
    expect(live.map((r) => [r.id, r.jobsPublished, r.chunks[0]?.landed])).toEqual([['e1', true, true]]);
  });

  it('refuses a record it cannot read with STORE_CORRUPT_RECORD naming the field', async () => {
    store = await openRedisExperimentStore({ url: redis.url, prefix, scope, logger: silent });
    await store.put(RECORD);
    await admin.hset(store.keys('e1').record, 'status', 'sleeping');
    await expect(store.get('e1')).rejects.toMatchObject({ code: 'STORE_CORRUPT_RECORD' });
    await expect(store.get('e1')).rejects.toThrow(/status = sleeping is not one of/);
  });

  it('rejects a bad URL (STORE_BAD_URL) and an unreachable Redis (STORE_UNAVAILABLE) without the password', async () => {
    const open = (url: string): Promise<RedisExperimentStore> => openRedisExperimentStore({ url, prefix, scope, logger: silent });
    await expect(open('http://h:1')).rejects.toMatchObject({ code: 'STORE_BAD_URL' });
    await expect(open('http://h:1')).rejects.toThrow(/must be a redis:\/\/ or rediss:\/\/ URL/);
    await expect(open('redis://h:1/x')).rejects.toThrow(/the path must be a database number/);
    const unparseable = open('redis://:s3cret@host:port');
    await expect(unparseable).rejects.toMatchObject({ code: 'STORE_BAD_URL' });
    await expect(unparseable).rejects.toThrow(/^redis:\/\/\[redacted\]@host:port: not a URL/);
    // a port nobody listens on (one a server of ours just released)
    const gone = await startRedisServer();
    await gone.stop();
    const port = new URL(gone.url).port;
    const unreachable = open(`redis://user:s3cret@127.0.0.1:${port}/0`);
    await expect(unreachable).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(unreachable).rejects.toThrow(`cannot reach Redis at redis://[redacted]@127.0.0.1:${port}/0`);
    await expect(unreachable).rejects.not.toThrow(/s3cret/);
  });

  it('fails a write with STORE_UNAVAILABLE when Redis goes away', async () => {
    const own = await startRedisServer();
    try {
      store = await openRedisExperimentStore({ url: own.url, prefix, scope, logger: silent, commandTimeoutMs: 2000 });
      await store.put(RECORD);
      await own.stop();
      await expect(store.saveChunks('e1', [{ purpose: 'training', index: 0, attempt: 1, landed: true }])).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
    } finally {
      await own.stop();
    }
  });
});
