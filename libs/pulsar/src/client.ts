import { type Logger, createLogger } from '@surrogate/core';
import type { ClientContext } from './client-context';
import { ConnectionPool } from './connection-pool';
import type { TlsOptions, TokenSource } from './connection';
import { type Consumer, type ConsumerOptions, SingleTopicConsumer } from './consumer';
import { LookupService } from './lookup';
import { PartitionedConsumer } from './partitioned-consumer';
import { PartitionedProducer, type PartitionedProducerOptions } from './partitioned-producer';
import { type Producer, SingleTopicProducer } from './producer';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { addressUrl, parseServiceUrl } from './service-url';
import { fullTopicName } from './topic-name';

export interface ClientOptions {
  /** pulsar://host:6650 or pulsar+ssl://host:6651 (several comma-separated hosts are tried in order). */
  serviceUrl: string;
  /** JWT for `token` authentication, or a function returning the current one. Never logged. */
  token?: TokenSource;
  /** TLS settings for pulsar+ssl:// (e.g. the CA that signed the broker's certificate). */
  tls?: TlsOptions;
  /** Bound on opening a connection, TCP + TLS + handshake (default 10000 ms). */
  connectTimeoutMs?: number;
  /** Bound on each request to the broker, and on creating a producer or consumer (default 30000 ms). */
  operationTimeoutMs?: number;
  /** PING interval; a connection silent for a whole interval after a PING is closed (default 30000 ms). */
  keepAliveIntervalMs?: number;
  /** Reconnect backoff bounds (default 100 ms to 30000 ms). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: Logger;
}

/**
 * Entry point: `PulsarClient.connect` opens (and checks) the connection to the service URL;
 * producers and consumers created from the client share its connections, and `close` closes
 * them all.
 */
export class PulsarClient {
  private readonly pool: ConnectionPool;
  private readonly ctx: ClientContext;
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private closed = false;
  private nextProducerId = 0;
  private nextConsumerId = 0;

  private constructor(
    readonly serviceUrl: string,
    options: ClientOptions,
    log: Logger,
    pool: ConnectionPool,
  ) {
    this.pool = pool;
    const useTls = serviceUrl.startsWith('pulsar+ssl://');
    this.ctx = {
      pool,
      lookup: new LookupService(pool, serviceUrl, useTls, log),
      log,
      operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
      initialBackoffMs: options.initialBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      newProducerId: () => this.nextProducerId++,
      newConsumerId: () => this.nextConsumerId++,
    };
  }

  /**
   * Connects to the service URL. Fails fast with a typed error: PULSAR_INVALID_URL,
   * PULSAR_CONNECTION_FAILED (refused, unreachable, TLS), PULSAR_CONNECT_TIMEOUT, or the broker's
   * error (e.g. code "AuthenticationError").
   */
  static async connect(options: ClientOptions): Promise<PulsarClient> {
    const addresses = parseServiceUrl(options.serviceUrl);
    const log = (options.logger ?? createLogger({ name: 'pulsar' })).child({ component: 'pulsar-client' });
    const pool = new ConnectionPool({
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      operationTimeoutMs: options.operationTimeoutMs ?? 30_000,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 30_000,
      logger: log,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.token === undefined ? {} : { token: options.token }),
    });
    let lastError: unknown;
    for (const address of addresses) {
      const url = addressUrl(address);
      try {
        await pool.get(url);
        log.info(
          { serviceUrl: url, auth: options.token === undefined ? 'none' : 'token' },
          'connected to Pulsar',
        );
        return new PulsarClient(url, options, log, pool);
      } catch (err) {
        lastError = err;
        log.warn({ serviceUrl: url, cause: (err as Error).message }, 'cannot connect to service URL');
      }
    }
    await pool.close();
    throw lastError;
  }

  private checkOpen(): void {
    if (this.closed) throw new PulsarError(PulsarErrorCode.ALREADY_CLOSED, 'client closed');
  }

  /** Number of partitions of a topic (0 when not partitioned). */
  async partitionsOf(topic: string): Promise<number> {
    this.checkOpen();
    return this.ctx.lookup.partitions(fullTopicName(topic));
  }

  async createProducer(options: PartitionedProducerOptions): Promise<Producer> {
    this.checkOpen();
    const topic = fullTopicName(options.topic);
    const partitions = await this.partitionsOf(topic);
    const producer =
      partitions > 0
        ? await PartitionedProducer.create(this.ctx, { ...options, topic }, partitions)
        : await SingleTopicProducer.create(this.ctx, { ...options, topic });
    this.producers.add(producer);
    const close = producer.close.bind(producer);
    producer.close = async () => {
      this.producers.delete(producer);
      await close();
    };
    return producer;
  }

  async subscribe(options: ConsumerOptions): Promise<Consumer> {
    this.checkOpen();
    const topic = fullTopicName(options.topic);
    const partitions = await this.partitionsOf(topic);
    const deps = { ctx: this.ctx, createProducer: (o: PartitionedProducerOptions) => this.createProducer(o) };
    const consumer: Consumer =
      partitions > 0
        ? await PartitionedConsumer.create({ ...options, topic }, deps, partitions)
        : await SingleTopicConsumer.create({ ...options, topic }, deps);
    this.consumers.add(consumer);
    for (const method of ['close', 'unsubscribe'] as const) {
      const original = consumer[method].bind(consumer);
      consumer[method] = async () => {
        await original();
        this.consumers.delete(consumer);
      };
    }
    return consumer;
  }

  /** Closes every consumer and producer (flushing pending messages), then the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    await Promise.allSettled([...this.producers].map((p) => p.close()));
    await this.pool.close();
  }
}
