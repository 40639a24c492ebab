/** Connection, handshake, keep-alive, TLS, lookup and pool, against the real broker. */
import * as net from 'node:net';
import { PulsarClient } from './client';
import { CLIENT_PROTOCOL_VERSION, Connection } from './connection';
import { ConnectionPool } from './connection-pool';
import { DEFAULT_MAX_MESSAGE_SIZE } from './frame';
import { FrameDecoder } from './frame-decoder';
import { LookupService } from './lookup';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { parseServiceUrl } from './service-url';
import {
  BROKER_START_TIMEOUT_MS,
  adminUrl,
  brokerUrl,
  capturingLogger,
  createPartitionedTopic,
  testLogger,
  uniqueTopic,
  waitFor,
} from './test-support/broker';
import { TcpProxy, blackHole, closedPort } from './test-support/tcp-proxy';
import { TEST_CA, TEST_SERVER_CERT, TEST_SERVER_KEY, UNRELATED_CA } from './test-support/tls-fixtures';
import { CommandType } from './wire';

let url: string;
beforeAll(() => {
  url = brokerUrl();
}, BROKER_START_TIMEOUT_MS);

const log = testLogger();

function open(
  serviceUrl: string,
  extra: Partial<Parameters<typeof Connection.open>[0]> = {},
): Promise<Connection> {
  return Connection.open({
    address: parseServiceUrl(serviceUrl)[0],
    connectTimeoutMs: 5000,
    operationTimeoutMs: 5000,
    keepAliveIntervalMs: 30_000,
    logger: log,
    ...extra,
  });
}

describe('connection to the real broker', () => {
  it('completes CONNECT/CONNECTED and negotiates the protocol version and max message size', async () => {
    const cnx = await open(url);
    expect(cnx.serverVersion).toMatch(/Pulsar/);
    expect(cnx.protocolVersion).toBeGreaterThan(0);
    expect(cnx.protocolVersion).toBeLessThanOrEqual(CLIENT_PROTOCOL_VERSION);
    expect(cnx.maxMessageSize).toBe(DEFAULT_MAX_MESSAGE_SIZE);
    cnx.close();
    expect(cnx.closed).toBe(true);
  });

  it('keeps a healthy connection open with short keep-alive intervals (the broker answers PINGs)', async () => {
    // Several intervals pass; intervals are generous enough that a busy CI machine still answers in time.
    const cnx = await open(url, { keepAliveIntervalMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(cnx.closed).toBe(false);
    const response = await cnx.request((requestId) => ({
      type: CommandType.PARTITIONED_METADATA,
      partitionMetadata: { topic: uniqueTopic('ka'), requestId },
    }));
    expect(response.type).toBe(CommandType.PARTITIONED_METADATA_RESPONSE);
    cnx.close();
  });

  it('closes a connection whose peer stopped answering, within two keep-alive intervals', async () => {
    const proxy = await TcpProxy.start(url);
    try {
      const cnx = await open(proxy.url, { keepAliveIntervalMs: 300 });
      let reason = '';
      cnx.onClose((cause) => (reason = cause.message));
      proxy.freeze();
      const frozenAt = Date.now();
      await waitFor(() => cnx.closed, 5000, 'the keep-alive to close the connection');
      // Two intervals, plus slack for a loaded machine: far below the 5 s a hang would take.
      expect(Date.now() - frozenAt).toBeLessThan(1500);
      expect(reason).toMatch(/keep-alive/);
      // A request pending on it fails with a typed error instead of hanging.
      await expect(
        cnx.request((requestId) => ({ type: CommandType.LOOKUP, lookupTopic: { topic: 't', requestId } })),
      ).rejects.toMatchObject({
        code: PulsarErrorCode.CONNECTION_CLOSED,
      });
    } finally {
      await proxy.close();
    }
  });

  it('rejects pending requests when the connection drops', async () => {
    const proxy = await TcpProxy.start(url);
    try {
      const cnx = await open(proxy.url);
      proxy.freeze();
      const pending = cnx.request((requestId) => ({
        type: CommandType.PARTITIONED_METADATA,
        partitionMetadata: { topic: uniqueTopic('x'), requestId },
      }));
      proxy.dropAll();
      await expect(pending).rejects.toMatchObject({ code: PulsarErrorCode.CONNECTION_CLOSED });
    } finally {
      await proxy.close();
    }
  });

  it('times out a request with no response (OPERATION_TIMEOUT)', async () => {
    const proxy = await TcpProxy.start(url);
    try {
      const cnx = await open(proxy.url, { operationTimeoutMs: 150 });
      proxy.freeze();
      const started = Date.now();
      await expect(
        cnx.request((requestId) => ({
          type: CommandType.PARTITIONED_METADATA,
          partitionMetadata: { topic: 't', requestId },
        })),
      ).rejects.toMatchObject({
        code: PulsarErrorCode.OPERATION_TIMEOUT,
      });
      expect(Date.now() - started).toBeLessThan(1000);
      cnx.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('connect failures are fast and typed', () => {
  it('a closed port fails with PULSAR_CONNECTION_FAILED at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const err = await PulsarClient.connect({
      serviceUrl: `pulsar://127.0.0.1:${port}`,
      logger: log,
      connectTimeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulsarError);
    expect((err as PulsarError).code).toBe(PulsarErrorCode.CONNECTION_FAILED);
    expect((err as PulsarError).message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a peer that never answers fails with PULSAR_CONNECT_TIMEOUT after connectTimeoutMs', async () => {
    const hole = await blackHole();
    try {
      const started = Date.now();
      const err = await PulsarClient.connect({
        serviceUrl: `pulsar://127.0.0.1:${hole.port}`,
        logger: log,
        connectTimeoutMs: 300,
      }).catch((e: unknown) => e);
      expect((err as PulsarError).code).toBe(PulsarErrorCode.CONNECT_TIMEOUT);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1500);
    } finally {
      await hole.close();
    }
  });

  it('a host name that does not resolve fails with PULSAR_CONNECTION_FAILED naming it', async () => {
    const err = await PulsarClient.connect({
      serviceUrl: 'pulsar://surrogate-no-such-host.invalid:6650',
      logger: log,
      connectTimeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect((err as PulsarError).code).toBe(PulsarErrorCode.CONNECTION_FAILED);
    expect((err as PulsarError).message).toContain('surrogate-no-such-host.invalid');
    expect((err as PulsarError).details).toMatchObject({
      errno: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/),
    });
  });

  it('a port that is not Pulsar (the broker HTTP port) fails with a PROTOCOL_ERROR that says so', async () => {
    const http = new URL(adminUrl());
    const err = await PulsarClient.connect({
      serviceUrl: `pulsar://${http.hostname}:${http.port}`,
      logger: log,
      connectTimeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect((err as PulsarError).code).toBe(PulsarErrorCode.PROTOCOL_ERROR);
    expect((err as PulsarError).message).toMatch(
      /does not speak the Pulsar binary protocol \(it answered "HTTP\/1\.1/,
    );
  });

  it('a malformed URL fails with PULSAR_INVALID_URL', async () => {
    await expect(
      PulsarClient.connect({ serviceUrl: 'http://127.0.0.1:8080', logger: log }),
    ).rejects.toMatchObject({ code: PulsarErrorCode.INVALID_URL });
  });

  it('tries every host of a multi-host service URL', async () => {
    const port = await closedPort();
    const hostPort = url.replace('pulsar://', '');
    const client = await PulsarClient.connect({
      serviceUrl: `pulsar://127.0.0.1:${port},${hostPort}`,
      logger: log,
    });
    expect(client.serviceUrl).toBe(url);
    await client.close();
  });
});

describe('TLS (pulsar+ssl://) through a TLS terminator in front of the broker', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await TcpProxy.start(url, { tls: { key: TEST_SERVER_KEY, cert: TEST_SERVER_CERT } });
  });
  afterAll(() => proxy.close());

  it('connects and talks to the broker when the CA is trusted', async () => {
    const client = await PulsarClient.connect({
      serviceUrl: `pulsar+ssl://localhost:${proxy.port}`,
      tls: { ca: TEST_CA },
      logger: log,
    });
    expect(await client.partitionsOf(uniqueTopic('tls'))).toBe(0);
    await client.close();
  });

  it('fails with PULSAR_CONNECTION_FAILED when the certificate is not trusted', async () => {
    const err = await PulsarClient.connect({
      serviceUrl: `pulsar+ssl://localhost:${proxy.port}`,
      tls: { ca: UNRELATED_CA },
      logger: log,
    }).catch((e: unknown) => e);
    expect((err as PulsarError).code).toBe(PulsarErrorCode.CONNECTION_FAILED);
    expect((err as PulsarError).message).toMatch(/certificate/);
  });
});

describe('token authentication', () => {
  it('sends authMethodName "token" with the token as authData in CONNECT', async () => {
    // Records the first frame a client sends; answers nothing.
    const frames: Buffer[] = [];
    const server = net.createServer((socket) => {
      const decoder = new FrameDecoder(1 << 20);
      socket.on('data', (chunk) => {
        for (const frame of decoder.push(chunk))
          frames.push(Buffer.from(JSON.stringify(frame.command.connect ?? {})));
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await PulsarClient.connect({
      serviceUrl: `pulsar://127.0.0.1:${port}`,
      token: () => 'secret-jwt',
      logger: log,
      connectTimeoutMs: 1000,
    }).catch(() => undefined);
    server.close();
    const connect = JSON.parse(frames[0].toString());
    expect(connect.authMethodName).toBe('token');
    expect(Buffer.from(connect.authData.data).toString()).toBe('secret-jwt');
    expect(connect.protocolVersion).toBe(CLIENT_PROTOCOL_VERSION);
    expect(connect.clientVersion).toMatch(/surrogate/);
  });

  it('never writes the token to the logs', async () => {
    const { logger, records } = capturingLogger('trace');
    const client = await PulsarClient.connect({
      serviceUrl: url,
      token: 'eyJ.super-secret-token.sig',
      logger,
    });
    const topic = uniqueTopic('token-log');
    const producer = await client.createProducer({ topic });
    await producer.send({ payload: Buffer.from('x') });
    await client.close();
    expect(records.length).toBeGreaterThan(0);
    expect(records.join('\n')).not.toContain('super-secret-token');
  });
});

describe('lookup, partitioned metadata and the connection pool', () => {
  it('resolves a topic to the broker itself and reports partitions', async () => {
    const pool = new ConnectionPool({
      connectTimeoutMs: 5000,
      operationTimeoutMs: 5000,
      keepAliveIntervalMs: 30_000,
      logger: log,
    });
    const lookup = new LookupService(pool, url, false, log);
    const plainTopic = uniqueTopic('lookup');
    const partitioned = uniqueTopic('lookup-p');
    await createPartitionedTopic(partitioned, 3);
    expect(await lookup.lookup(plainTopic)).toEqual({ logicalUrl: url, physicalUrl: url });
    expect(await lookup.partitions(plainTopic)).toBe(0);
    expect(await lookup.partitions(partitioned)).toBe(3);
    expect(pool.size).toBe(1);
    await pool.close();
  });

  it('shares one connection per broker between producers and consumers', async () => {
    const client = await PulsarClient.connect({ serviceUrl: url, logger: log });
    const pool = (client as unknown as { pool: ConnectionPool }).pool;
    const topic = uniqueTopic('pool');
    await client.subscribe({ topic, subscription: 's' });
    await client.createProducer({ topic });
    await client.createProducer({ topic: uniqueTopic('pool-2') });
    expect(pool.size).toBe(1);
    await client.close();
    expect(pool.size).toBe(0);
  });

  it('rejects use after close', async () => {
    const client = await PulsarClient.connect({ serviceUrl: url, logger: log });
    await client.close();
    await client.close();
    await expect(client.createProducer({ topic: uniqueTopic('closed') })).rejects.toMatchObject({
      code: PulsarErrorCode.ALREADY_CLOSED,
    });
  });
});
