import { errorMessage, type Logger } from '@surrogate/core';
import { Redis } from 'ioredis';
import {
  chunkField,
  chunkFromField,
  chunkValue,
  decodeRecordSpec,
  encodeRecordSpec,
  sortChunks,
  type ChunkState,
  type ExperimentRecord,
} from './experiment-record';
import { ExperimentStoreError } from './experiment-store-error';
import { isEnded, isExperimentStatus, type ExperimentStatus } from './experiment-status';
import { DEFAULT_ENDED_TTL_MS, type ExperimentListQuery, type ExperimentPage, type ExperimentStore } from './experiment-store';
import { checkRedisUrl, redactRedisUrl } from './redis-url';

export interface RedisExperimentStoreOptions {
  /** redis://[user:password@]host[:port][/db], or rediss://… for TLS. */
  url: string;
  /** The tenant/namespace whose experiments this producer keeps; other scopes' keys are never touched. */
  scope: { tenant: string; namespace: string };
  /** First segment of every key. Default `surrogate`. */
  prefix?: string;
  /** How long an ended experiment is kept. Default 7 days. */
  endedTtlMs?: number;
  /** A command that gets no answer for this long fails (the store is treated as unreachable). Default 10 s. */
  commandTimeoutMs?: number;
  logger?: Logger;
}

/** The keys of one experiment. */
export interface ExperimentKeys {
  /** Hash: spec, submittedAt, createdAt, status, training, validation, published. */
  record: string;
  /** Hash: `t:<i>` / `v:<i>` → `<attempt>,<landed 0|1>`. */
  chunks: string;
  /** Set of the scope's live experiment ids. */
  live: string;
  /** Sorted set (all scores 0, so ordered by the ids' bytes) of the scope's experiment ids, for List. */
  index: string;
}

/** Chunk states only grow: the larger attempt count of the stored and the given state, landed if either is. */
const SAVE_CHUNKS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  local value = ARGV[i + 1]
  local stored = redis.call('HGET', KEYS[2], ARGV[i])
  if stored then
    local a, l = string.match(stored, '^(%d+),([01])$')
    local b, m = string.match(value, '^(%d+),([01])$')
    if a and b then
      local landed = '0'
      if l == '1' or m == '1' then landed = '1' end
      value = string.format('%d,%s', math.max(tonumber(a), tonumber(b)), landed)
    end
  end
  redis.call('HSET', KEYS[2], ARGV[i], value)
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1`;

/**
 * Re-issues, all or none: 2 (nothing written) unless the record is still submission ARGV[1], still
 * running, and every chunk still unlanded at the attempt before the one given.
 */
const CLAIM_REISSUES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local record = redis.call('HMGET', KEYS[1], 'submittedAt', 'status')
if record[1] ~= ARGV[1] or record[2] ~= 'running' then return 2 end
for i = 2, #ARGV, 2 do
  local want = tonumber(string.match(ARGV[i + 1], '^(%d+),0$'))
  local stored = redis.call('HGET', KEYS[2], ARGV[i]) or '0,0'
  local a, l = string.match(stored, '^(%d+),([01])$')
  if not want or not a or l ~= '0' or tonumber(a) ~= want - 1 then return 2 end
end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1`;

const SET_STATUS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[4])
if ARGV[2] == '1' then
  redis.call('SREM', KEYS[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
else
  redis.call('SADD', KEYS[3], ARGV[4])
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
return 1`;

/** Drops an id from the index when its record is gone (expired), and only then: a put may have come meanwhile. */
const PRUNE_INDEX = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) return 1 end
return 0`;

const SET_FIELD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** Field-value pairs per HSET of a put (a plan may have hundreds of thousands of chunks). */
const HSET_BATCH = 1000;

/**
 * Opens the Redis experiment store and checks that Redis answers (PING). Rejects with STORE_BAD_URL
 * for a URL that cannot be used and STORE_UNAVAILABLE when Redis cannot be reached; neither
 * message carries the URL's password.
 */
export async function openRedisExperimentStore(options: RedisExperimentStoreOptions): Promise<RedisExperimentStore> {
  checkRedisUrl(options.url);
  const store = new RedisExperimentStore(options);
  await store.connect();
  return store;
}

/**
 * The experiment store in Redis (ioredis): the producer's state survives its restarts. Keys:
 *
 *   <prefix>:{<tenant>/<namespace>}:exp:<id>          hash: the record
 *   <prefix>:{<tenant>/<namespace>}:exp:<id>:chunks   hash: one field per chunk
 *   <prefix>:{<tenant>/<namespace>}:live              set: ids of the live experiments
 *   <prefix>:{<tenant>/<namespace>}:ids               sorted set: ids of every experiment kept (List);
 *                                                     an expired one's id is dropped when List meets it
 *
 * (`<id>` URI-encoded). The braces are a Redis Cluster hash tag: one scope's keys share a slot, so
 * the multi-key scripts and transactions below also run on a cluster. Producers of different
 * tenants or namespaces share a Redis without seeing each other's keys. An ended experiment's keys
 * expire after endedTtlMs; a live one's never do.
 */
export class RedisExperimentStore implements ExperimentStore {
  readonly kind = 'redis';
  /** The URL without credentials, for logs. */
  readonly safeUrl: string;
  private readonly client: Redis;
  private readonly base: string;
  private readonly endedTtlMs: number;
  private closed = false;

  constructor(options: RedisExperimentStoreOptions) {
    checkRedisUrl(options.url);
    this.safeUrl = redactRedisUrl(options.url);
    this.base = `${options.prefix ?? 'surrogate'}:{${options.scope.tenant}/${options.scope.namespace}}`;
    this.endedTtlMs = options.endedTtlMs ?? DEFAULT_ENDED_TTL_MS;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      // a command waits through at most one reconnection, then fails: the handler that issued it
      // throws, its message is nacked and comes again, rather than the handler hanging
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 10_000,
      connectTimeout: 5_000,
      disconnectTimeout: 500,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    });
    let lastError = '';
    this.client.on('error', (err: unknown) => {
      const message = errorMessage(err);
      if (message === lastError) return; // once per distinct error while reconnecting
      lastError = message;
      options.logger?.warn({ redis: this.safeUrl, err: message }, 'redis connection error; reconnecting');
    });
    this.client.on('ready', () => {
      if (lastError) options.logger?.info({ redis: this.safeUrl }, 'redis connection restored');
      lastError = '';
    });
  }

  /** The keys of experiment `id` (for tests and operators). */
  keys(id: string): ExperimentKeys {
    const record = `${this.base}:exp:${encodeURIComponent(id)}`;
    return { record, chunks: `${record}:chunks`, live: `${this.base}:live`, index: `${this.base}:ids` };
  }

  /** Pattern that matches every key of this store's scope (and prefix). */
  get keyPattern(): string {
    return `${this.base.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
  }

  async connect(): Promise<void> {
    try {
      await this.client.connect();
      await this.client.ping();
    } catch (err) {
      this.closed = true;
      this.client.disconnect();
      throw new ExperimentStoreError('STORE_UNAVAILABLE', `cannot reach Redis at ${this.safeUrl}: ${errorMessage(err)}`, {
        cause: err,
        details: { redis: this.safeUrl },
      });
    }
  }

  async put(record: ExperimentRecord): Promise<void> {
    const k = this.keys(record.id);
    const ended = isEnded(record.status);
    const tx = this.client.multi();
    tx.del(k.record, k.chunks);
    tx.hset(k.record, {
      spec: Buffer.from(encodeRecordSpec(record.spec)).toString('base64'),
      submittedAt: String(record.submittedAt),
      createdAt: String(record.createdAt),
      status: record.status,
      training: String(record.expected.training),
      validation: String(record.expected.validation),
      published: record.jobsPublished ? '1' : '0',
    });
    for (let i = 0; i < record.chunks.length; i += HSET_BATCH) {
      const fields: string[] = [];
      for (const c of record.chunks.slice(i, i + HSET_BATCH)) fields.push(chunkField(c.purpose, c.index), chunkValue(c));
      tx.hset(k.chunks, ...fields);
    }
    if (ended) {
      tx.srem(k.live, record.id);
      tx.pexpire(k.record, this.endedTtlMs);
      tx.pexpire(k.chunks, this.endedTtlMs);
    } else tx.sadd(k.live, record.id);
    tx.zadd(k.index, 0, record.id);
    await this.run('put', record.id, async () => {
      const results = await tx.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');
    });
  }

  async get(id: string): Promise<ExperimentRecord | undefined> {
    const k = this.keys(id);
    const [fields, chunks] = await this.run('get', id, async () => {
      const results = await this.client.multi().hgetall(k.record).hgetall(k.chunks).exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');
      return results.map(([, value]) => value as Record<string, string>) as [Record<string, string>, Record<string, string>];
    });
    if (Object.keys(fields).length === 0) return undefined;
    return this.parse(id, fields, chunks);
  }

  async listLive(): Promise<ExperimentRecord[]> {
    const live = this.keys('').live;
    const ids = await this.run('listLive', '', () => this.client.smembers(live));
    const out: ExperimentRecord[] = [];
    for (const id of ids.sort()) {
      const record = await this.get(id);
      if (record && !isEnded(record.status)) out.push(record);
      else await this.run('listLive', id, () => this.client.srem(live, id)); // forgotten or ended: not live
    }
    return out;
  }

  async liveIds(): Promise<string[]> {
    const live = this.keys('').live;
    return this.run('liveIds', '', () => this.client.smembers(live));
  }

  async list(query: ExperimentListQuery): Promise<ExperimentPage> {
    const index = this.keys('').index;
    const batch = Math.max(query.limit, 100);
    const records: ExperimentRecord[] = [];
    let after = query.after;
    for (;;) {
      const from = after === undefined ? '-' : `(${after}`;
      const ids = await this.run('list', '', () => this.client.zrangebylex(index, from, '+', 'LIMIT', 0, batch));
      // one round trip for the statuses of the batch, one for the records it keeps
      const statuses = await this.pipelined('list', ids.map((id) => ['hget', this.keys(id).record, 'status']));
      const gone = ids.filter((_, n) => statuses[n] === null);
      for (const id of gone) await this.run('list', id, () => this.client.eval(PRUNE_INDEX, 2, this.keys(id).record, index, id));
      const wanted = ids.filter((_, n) => statuses[n] !== null && (query.status === undefined || statuses[n] === query.status));
      for (let pos = 0; pos < wanted.length && records.length < query.limit; ) {
        const take = wanted.slice(pos, pos + query.limit - records.length);
        pos += take.length;
        const reads = await this.pipelined('list', take.flatMap((id) => [['hgetall', this.keys(id).record], ['hgetall', this.keys(id).chunks]]));
        take.forEach((id, n) => {
          const fields = reads[2 * n] as Record<string, string>;
          if (Object.keys(fields).length > 0) records.push(this.parse(id, fields, reads[2 * n + 1] as Record<string, string>)); // else expired just now
        });
      }
      if (records.length === query.limit) {
        const last = records[records.length - 1]?.id as string;
        const more = ids.indexOf(last) < ids.length - 1 || (await this.run('list', '', () => this.client.zrangebylex(index, `(${last}`, '+', 'LIMIT', 0, 1))).length > 0;
        return { records, next: more ? last : undefined };
      }
      if (ids.length < batch) return { records };
      after = ids[ids.length - 1];
    }
  }

  /** Sends `commands` in one pipeline and gives their replies in order; a failed one fails the whole. */
  private async pipelined(operation: string, commands: string[][]): Promise<unknown[]> {
    if (commands.length === 0) return [];
    return this.run(operation, '', async () => {
      const results = await this.client.pipeline(commands).exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('pipeline aborted');
      return results.map(([, value]) => value);
    });
  }

  async saveChunks(id: string, chunks: readonly ChunkState[]): Promise<void> {
    if (chunks.length === 0) return;
    const k = this.keys(id);
    for (let i = 0; i < chunks.length; i += HSET_BATCH) {
      const args: string[] = [];
      for (const c of chunks.slice(i, i + HSET_BATCH)) args.push(chunkField(c.purpose, c.index), chunkValue(c));
      this.known(id, await this.run('saveChunks', id, () => this.client.eval(SAVE_CHUNKS, 2, k.record, k.chunks, ...args)));
    }
  }

  async claimReissues(id: string, submittedAt: number, chunks: readonly ChunkState[]): Promise<boolean> {
    const k = this.keys(id);
    const args = [String(submittedAt)];
    for (const c of chunks) args.push(chunkField(c.purpose, c.index), chunkValue(c));
    const result = await this.run('claimReissues', id, () => this.client.eval(CLAIM_REISSUES, 2, k.record, k.chunks, ...args));
    if (result === 2) return false;
    this.known(id, result);
    return true;
  }

  async setStatus(id: string, status: ExperimentStatus): Promise<void> {
    const k = this.keys(id);
    const ended = isEnded(status) ? '1' : '0';
    this.known(
      id,
      await this.run('setStatus', id, () =>
        this.client.eval(SET_STATUS, 4, k.record, k.chunks, k.live, k.index, status, ended, String(this.endedTtlMs), id),
      ),
    );
  }

  async markJobsPublished(id: string): Promise<void> {
    const k = this.keys(id);
    this.known(id, await this.run('markJobsPublished', id, () => this.client.eval(SET_FIELD, 1, k.record, 'published', '1')));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // quit lets the commands sent finish; a client that is not connected just stops reconnecting
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }

  private known(id: string, scriptResult: unknown): void {
    if (scriptResult !== 1)
      throw new ExperimentStoreError('STORE_UNKNOWN_EXPERIMENT', `the experiment store holds no experiment ${id}`, {
        details: { experimentId: id, redis: this.safeUrl },
      });
  }

  private async run<T>(operation: string, id: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ExperimentStoreError('STORE_UNAVAILABLE', `redis ${this.safeUrl}: ${operation}${id ? ` of ${id}` : ''} failed: ${errorMessage(err)}`, {
        cause: err,
        details: { redis: this.safeUrl, operation, experimentId: id },
      });
    }
  }

  private parse(id: string, fields: Record<string, string>, chunkFields: Record<string, string>): ExperimentRecord {
    const corrupt = (what: string): never => {
      throw new ExperimentStoreError('STORE_CORRUPT_RECORD', `redis ${this.safeUrl}: the record of experiment ${id} is unreadable: ${what}`, {
        details: { experimentId: id, key: this.keys(id).record },
      });
    };
    const int = (name: string): number => {
      const n = Number(fields[name]);
      return Number.isSafeInteger(n) && n >= 0 ? n : corrupt(`${name} = ${fields[name]} is not a whole number ≥ 0`);
    };
    const status = fields.status ?? '';
    if (!isExperimentStatus(status)) corrupt(`status = ${status} is not one of running, datagen-complete, succeeded, failed, cancelled`);
    let spec;
    try {
      spec = decodeRecordSpec(Buffer.from(fields.spec ?? '', 'base64'));
    } catch (err) {
      return corrupt(`spec does not decode: ${errorMessage(err)}`);
    }
    const chunks: ChunkState[] = [];
    for (const [field, value] of Object.entries(chunkFields)) {
      const c = chunkFromField(field, value);
      if (!c) return corrupt(`chunk ${field} = ${value}`);
      chunks.push(c);
    }
    sortChunks(chunks);
    return {
      id,
      spec,
      submittedAt: int('submittedAt'),
      createdAt: int('createdAt'),
      status: status as ExperimentStatus,
      expected: { training: int('training'), validation: int('validation') },
      jobsPublished: fields.published === '1',
      chunks,
    };
  }
}
