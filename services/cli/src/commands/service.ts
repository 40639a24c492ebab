import * as path from 'node:path';
import { createLogger, errorMessage, parseListenAddress, safeUrl, type Logger } from '@surrogate/core';
import { DatagenWorker } from '@surrogate/datagen-worker';
import { openBus, Topics, type Bus } from '@surrogate/messaging';
import { MetricsRegistry, ObservabilityServer, registerProcessMetrics } from '@surrogate/observability';
import type { GrpcPricerOptions } from '@surrogate/pricing';
import {
  checkRedisUrl,
  ExperimentApiServer,
  ExperimentStoreError,
  MemoryExperimentStore,
  openRedisExperimentStore,
  Producer,
  type ExperimentStore,
} from '@surrogate/producer';
import { TrainerService } from '@surrogate/trainer';
import { badInput } from '../cli-error';
import { serverTls, type ServerTlsFlags } from '../server-tls-flags';
import { serverToken } from '../server-token';
import { stopSignal } from '../stop-signal';

export type ServiceName = 'producer' | 'datagen-worker' | 'trainer';

/** The variable that holds the bearer token clients of the producer's ExperimentService must present (unset: none). */
export const EXPERIMENT_API_TOKEN_ENV = 'SURROGATE_EXPERIMENT_API_TOKEN';

export interface ServiceCommandOptions extends ServerTlsFlags {
  pulsar?: string;
  token?: string;
  tenant?: string;
  namespace?: string;
  site?: string;
  threads?: string;
  artifacts?: string;
  data?: string;
  jobTimeoutMs?: string;
  /** producer: where the experiments' state is kept (redis:// URL); default $REDIS_URL, else memory. */
  redis?: string;
  /** producer: how long Redis keeps an ended experiment (ms; default 7 days). */
  endedTtlMs?: string;
  /** datagen-worker: how far the clocks of the hosts that publish jobs and end events may differ. */
  clockSkewMs?: string;
  /** datagen-worker: how far back to read events on start (ms; 0 = none). */
  eventsLookbackMs?: string;
  /** trainer: training sets above this many MiB (×3 in memory) are streamed from disk. */
  memoryBudgetMb?: string;
  /** trainer: trainings run at once (default 1). */
  maxTrainings?: string;
  pricerModules?: string[];
  /** datagen-worker: how to reach gRPC pricers. */
  grpc?: GrpcPricerOptions;
  /** `host:port` of the HTTP endpoint with /metrics (Prometheus), /healthz and /readyz. */
  metrics?: string;
  /** producer: `host:port` to serve the ExperimentService (gRPC) on; default off. TLS from the tls* flags. */
  api?: string;
}

interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** --memory-budget-mb in bytes (undefined when not given). */
export function memoryBudgetBytes(raw: string | undefined): number | undefined {
  const mb = positiveInt(raw, '--memory-budget-mb');
  return mb === undefined ? undefined : mb * 1024 * 1024;
}

function positiveInt(raw: string | undefined, flag: string): number | undefined {
  return wholeNumber(raw, flag, 1);
}

function wholeNumber(raw: string | undefined, flag: string, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw badInput('BAD_OPTION', `${flag} = ${raw}: must be a whole number ≥ ${min}`);
  return n;
}

/** The bus URL of a distributed service: --pulsar, or $PULSAR_URL. */
export function busUrl(o: { pulsar?: string }): string {
  const url = o.pulsar ?? process.env.PULSAR_URL;
  if (!url)
    throw badInput(
      'MISSING_OPTION',
      '--pulsar URL is required (or set PULSAR_URL), e.g. --pulsar pulsar://127.0.0.1:6650',
    );
  if (!/^pulsar(\+ssl)?:\/\//.test(url))
    throw badInput('BAD_OPTION', `--pulsar = ${safeUrl(url)}: must be a pulsar:// or pulsar+ssl:// URL`);
  return url;
}

/** The producer's Redis URL: --redis, or $REDIS_URL; undefined when neither is set. Checked: exit 2 naming the flag. */
export function redisUrl(o: { redis?: string }): string | undefined {
  const url = o.redis ?? process.env.REDIS_URL;
  if (url === undefined || url === '') return undefined;
  try {
    checkRedisUrl(url);
  } catch (err) {
    if (err instanceof ExperimentStoreError)
      throw badInput('BAD_OPTION', `${o.redis !== undefined ? '--redis' : 'REDIS_URL'} = ${err.message}`);
    throw err;
  }
  return url;
}

/**
 * The producer's experiment store: Redis when a URL is given (reached before anything else
 * starts: unreachable is exit 1), else memory, with a warning that nothing survives a restart.
 */
async function producerStore(o: ServiceCommandOptions, log: Logger): Promise<ExperimentStore | undefined> {
  const url = redisUrl(o);
  if (!url) {
    log.warn('no --redis (nor REDIS_URL): experiment state is kept in memory and will not survive a restart of this producer');
    return undefined;
  }
  const topics = new Topics({ tenant: o.tenant, namespace: o.namespace, site: o.site });
  const store = await openRedisExperimentStore({
    url,
    scope: { tenant: topics.tenant, namespace: topics.namespace },
    endedTtlMs: positiveInt(o.endedTtlMs, '--ended-ttl-ms'),
    logger: log.child({ component: 'redis' }),
  });
  log.info({ redis: store.safeUrl }, 'experiment state in redis');
  return store;
}

export async function connect(o: ServiceCommandOptions, log: Logger): Promise<{ bus: Bus; topics: Topics }> {
  const url = busUrl(o);
  const topics = new Topics({ tenant: o.tenant, namespace: o.namespace, site: o.site });
  log.info({ broker: safeUrl(url) }, 'connecting');
  const bus = await openBus(url, {
    logger: log.child({ component: 'bus' }),
    token: o.token ?? process.env.PULSAR_TOKEN,
  });
  return { bus, topics };
}

function build(
  name: ServiceName,
  o: ServiceCommandOptions,
  bus: Bus,
  topics: Topics,
  log: Logger,
  store: ExperimentStore | undefined,
  metrics: MetricsRegistry | undefined,
): Runnable {
  switch (name) {
    case 'producer':
      return new Producer({
        bus,
        topics,
        logger: log,
        jobTimeoutMs: positiveInt(o.jobTimeoutMs, '--job-timeout-ms'),
        store,
        metrics,
      });
    case 'datagen-worker':
      return new DatagenWorker({
        bus,
        topics,
        logger: log,
        metrics,
        threads: positiveInt(o.threads, '--threads'),
        clockSkewMs: wholeNumber(o.clockSkewMs, '--clock-skew-ms', 0),
        eventsLookbackMs: wholeNumber(o.eventsLookbackMs, '--events-lookback-ms', 0),
        pricerModules: o.pricerModules?.map((m) => path.resolve(m)),
        grpc: o.grpc ? { ...o.grpc, logger: log.child({ component: 'grpc' }) } : undefined,
      });
    case 'trainer': {
      const artifactsRoot = path.resolve(o.artifacts as string);
      return new TrainerService({
        bus,
        topics,
        logger: log,
        artifactsRoot,
        dataDir: path.resolve(o.data ?? path.join(artifactsRoot, '.datasets')),
        threads: positiveInt(o.threads, '--threads'),
        memoryBudgetBytes: memoryBudgetBytes(o.memoryBudgetMb),
        maxConcurrentTrainings: positiveInt(o.maxTrainings, '--max-trainings'),
        metrics,
      });
    }
  }
}

/**
 * `surrogate producer | datagen-worker | trainer --pulsar URL`: runs one service until SIGTERM or
 * SIGINT, then stops it gracefully (in-flight work finishes or is handed back unacked) and exits 0.
 */
export async function serviceCommand(name: ServiceName, o: ServiceCommandOptions): Promise<string> {
  const log = createLogger({ name });
  // Check every option before connecting: bad input never half-starts a service.
  busUrl(o);
  positiveInt(o.threads, '--threads');
  positiveInt(o.jobTimeoutMs, '--job-timeout-ms');
  positiveInt(o.endedTtlMs, '--ended-ttl-ms');
  if (name === 'producer') redisUrl(o);
  wholeNumber(o.clockSkewMs, '--clock-skew-ms', 0);
  wholeNumber(o.eventsLookbackMs, '--events-lookback-ms', 0);
  memoryBudgetBytes(o.memoryBudgetMb);
  positiveInt(o.maxTrainings, '--max-trainings');
  if (o.metrics !== undefined && !parseListenAddress(o.metrics))
    throw badInput('BAD_OPTION', `--metrics = ${o.metrics}: must be host:port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464`);
  if (o.api !== undefined && !parseListenAddress(o.api))
    throw badInput('BAD_OPTION', `--api = ${o.api}: must be host:port, e.g. 127.0.0.1:50053 or 0.0.0.0:50053`);
  if (o.api === undefined && (o.tlsCert ?? o.tlsKey ?? o.tlsClientCa) !== undefined)
    throw badInput('BAD_OPTION', '--tls-cert, --tls-key and --tls-client-ca secure the ExperimentService: they need --api HOST:PORT');
  if (name === 'datagen-worker' && o.grpc?.token !== undefined && o.grpc.allow === undefined)
    throw badInput(
      'BAD_OPTION',
      'a gRPC pricer token (SURROGATE_GRPC_TOKEN or --grpc-token-file) needs --grpc-allow HOST[:PORT],… (or SURROGATE_GRPC_ALLOW): ' +
        "jobs name their pricer's URL, and the token must go only to the pricers you trust",
    );
  const apiTls = serverTls(o);
  const apiToken = o.api === undefined ? undefined : serverToken(EXPERIMENT_API_TOKEN_ENV);
  if (name === 'trainer' && !o.artifacts)
    throw badInput(
      'MISSING_OPTION',
      "trainer needs --artifacts DIR (where each experiment's model.onnx and report.json go)",
    );
  // The operators' endpoint comes up first: /healthz answers while the service connects, and
  // /readyz says what it waits for until it runs.
  let readiness: string | undefined = 'starting';
  const registry = o.metrics === undefined ? undefined : new MetricsRegistry({ service: name });
  const stopProcessMetrics = registry ? registerProcessMetrics(registry) : undefined;
  const observability = registry
    ? await ObservabilityServer.start({ address: o.metrics as string, registry, ready: () => readiness, logger: log })
    : undefined;
  if (observability) log.info({ metrics: `${observability.url}/metrics` }, 'metrics endpoint up');
  let store: ExperimentStore | undefined;
  let api: ExperimentApiServer | undefined;
  try {
    readiness = name === 'producer' ? 'connecting to redis' : readiness;
    store = name === 'producer' ? await producerStore(o, log) : undefined;
    // the API reads the very store the producer writes (also the memory one)
    if (store === undefined && o.api !== undefined) store = new MemoryExperimentStore();
    readiness = 'connecting to the broker';
    const { bus, topics } = await connect(o, log);
    const stopped = stopSignal(); // before the service says it is ready
    let service: Runnable | undefined;
    try {
      service = build(name, o, bus, topics, log, store, registry);
      readiness = 'starting the service';
      // A signal while it starts (e.g. a trainer waiting for the data directory's lock, a broker
      // lookup retrying) stops it there: a pod is not left to its whole grace period.
      const started = service.start();
      const first = await Promise.race([started.then(() => 'started' as const), stopped.received.then(() => 'stop' as const)]);
      if (first === 'stop') {
        log.info('stopping before it finished starting');
        await service.stop();
        await started.catch(() => undefined);
        await bus.close();
        return '';
      }
      if (o.api !== undefined && store !== undefined) {
        readiness = 'starting the experiment API';
        api = await ExperimentApiServer.start({
          bus,
          topics,
          store,
          address: o.api,
          tls: apiTls,
          token: apiToken,
          metrics: registry,
          logger: log.child({ component: 'experiment-api' }),
        });
      }
    } catch (err) {
      // e.g. a subscription the broker refuses (a namespace that does not exist), or the API's
      // address taken: what started is stopped and the connection closed, so the command ends
      // (exit 1) instead of hanging on an open connection with its signals caught
      stopped.release();
      await service?.stop().catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'stopping after a failed start failed'));
      await bus.close().catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'closing the broker connection failed'));
      throw err;
    }
    readiness = undefined;
    log.info('running; SIGTERM or SIGINT stops gracefully');
    await stopped.received;
    readiness = 'stopping';
    log.info('stopping');
    await api?.stop();
    api = undefined;
    await service.stop();
    await bus.close();
  } finally {
    await api?.stop();
    await store?.close();
    await observability?.stop();
    stopProcessMetrics?.();
  }
  return '';
}
