/**
 * Reconnect across a real broker restart, and the broker's own keep-alive. Uses its OWN broker
 * (separate state dir and ports, keepAliveIntervalSeconds=1, started and stopped here through
 * deploy/pulsar/pulsar.sh) so that the shared one is untouched.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PulsarClient } from './client';
import { Connection } from './connection';
import type { Message } from './message';
import { PulsarErrorCode } from './pulsar-error';
import {
  BROKER_START_TIMEOUT_MS,
  PULSAR_SCRIPT,
  capturingLogger,
  uniqueTopic,
  waitFor,
} from './test-support/broker';
import { parseServiceUrl } from './service-url';
import { closedPort } from './test-support/tcp-proxy';

let env: NodeJS.ProcessEnv;
let stateDir: string;

function pulsar(command: 'up' | 'down'): string {
  const out = execFileSync(PULSAR_SCRIPT, [command], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: BROKER_START_TIMEOUT_MS,
  });
  return out.trim().split('\n').pop() ?? '';
}

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsar-restart-test-'));
  const extraConf = path.join(stateDir, 'extra.conf');
  fs.writeFileSync(extraConf, 'keepAliveIntervalSeconds=1\n');
  env = {
    ...process.env,
    PULSAR_STATE_DIR: stateDir,
    PULSAR_PORT: String(await closedPort()),
    PULSAR_HTTP_PORT: String(await closedPort()),
    PULSAR_EXTRA_CONF: extraConf,
  };
  delete env.PULSAR_URL;
}, BROKER_START_TIMEOUT_MS);

afterAll(() => {
  try {
    pulsar('down');
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}, 120_000);

it(
  'producer and consumer survive a broker restart: messages sent while it is down are delivered once it is back',
  async () => {
    const url = pulsar('up');
    const { logger, records } = capturingLogger('info');
    const client = await PulsarClient.connect({
      serviceUrl: url,
      logger,
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      connectTimeoutMs: 2000,
    });
    const topic = uniqueTopic('restart');
    const consumer = await client.subscribe({
      topic,
      subscription: 's',
      type: 'shared',
      initialPosition: 'earliest',
      receiverQueueSize: 10,
    });
    const received: Message[] = [];
    void (async () => {
      for await (const m of consumer) {
        received.push(m);
        await consumer.ack(m);
      }
    })();
    const producer = await client.createProducer({ topic, batching: false, sendTimeoutMs: 120_000 });
    await producer.send({ payload: Buffer.from('before') });
    await waitFor(() => received.length === 1, 5000, 'the first message');

    const impatient = await client.createProducer({ topic, batching: false, sendTimeoutMs: 500 });

    pulsar('down');
    const during = [1, 2, 3].map((i) => producer.send({ payload: Buffer.from(`during-${i}`) }));
    // Without a broker, a send times out after sendTimeoutMs with a typed error.
    const sentAt = Date.now();
    await expect(impatient.send({ payload: Buffer.from('lost') })).rejects.toMatchObject({
      code: PulsarErrorCode.SEND_TIMEOUT,
    });
    expect(Date.now() - sentAt).toBeLessThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(pulsar('up')).toBe(url);

    const ids = await Promise.all(during);
    expect(ids).toHaveLength(3);
    await waitFor(
      () =>
        ['during-1', 'during-2', 'during-3'].every((t) => received.some((m) => m.payload.toString() === t)),
      60_000,
      'the messages sent while down',
    );
    const lines = records.map(
      (r) => JSON.parse(r) as { msg: string; attempt?: number; delayMs?: number; cause?: string },
    );
    const attempts = lines.filter((l) => l.msg === 'connection lost: reconnecting');
    expect(attempts.length).toBeGreaterThan(2);
    expect(Math.max(...attempts.map((l) => l.delayMs ?? 0))).toBeLessThanOrEqual(1000);
    expect(attempts.every((l) => (l.cause ?? '').length > 0)).toBe(true);
    await client.close();
  },
  4 * BROKER_START_TIMEOUT_MS,
);

it(
  'answers the broker PINGs: with its own pings off, a connection outlives several broker keep-alive intervals',
  async () => {
    const url = pulsar('up');
    const cnx = await Connection.open({
      address: parseServiceUrl(url)[0],
      connectTimeoutMs: 5000,
      operationTimeoutMs: 5000,
      keepAliveIntervalMs: 0,
      logger: capturingLogger('silent').logger,
    });
    // The broker closes a connection that leaves its PING unanswered for one interval (1 s here).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(cnx.closed).toBe(false);
    cnx.close();
  },
  BROKER_START_TIMEOUT_MS,
);
