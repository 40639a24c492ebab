/**
 * Token authentication against a REAL broker that requires it: a second standalone broker,
 * started here through deploy/pulsar/pulsar.sh with PULSAR_AUTH=token and a secret key made by
 * this test (own state dir and ports; the shared broker is untouched), stopped afterwards.
 * Tokens are HS256 JWTs made with node:crypto. A wrong token is a typed error carrying the
 * broker's code, after ONE connection attempt: never retried, not even by the reconnect loop.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PulsarClient } from './client';
import { Connection } from './connection';
import { BrokerError, PulsarError, PulsarErrorCode, isAuthError } from './pulsar-error';
import {
  BROKER_START_TIMEOUT_MS,
  PULSAR_SCRIPT,
  capturingLogger,
  sleep,
  testLogger,
  uniqueTopic,
} from './test-support/broker';
import { closedPort } from './test-support/tcp-proxy';

let env: NodeJS.ProcessEnv;
let stateDir: string;
let url: string;
const secret = randomBytes(32);

function pulsar(...args: string[]): string {
  const out = execFileSync(PULSAR_SCRIPT, args, {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: BROKER_START_TIMEOUT_MS,
  });
  return out.trim().split('\n').pop() ?? '';
}

/** An HS256 JWT with `claims`, signed with `key`. */
function jwt(key: Buffer, claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pulsar-auth-test-'));
  const keyFile = path.join(stateDir, 'secret.key');
  fs.writeFileSync(keyFile, secret, { mode: 0o600 });
  env = {
    ...process.env,
    PULSAR_STATE_DIR: stateDir,
    PULSAR_PORT: String(await closedPort()),
    PULSAR_HTTP_PORT: String(await closedPort()),
    PULSAR_AUTH: 'token',
    PULSAR_TOKEN_SECRET_KEY: keyFile,
  };
  delete env.PULSAR_URL;
  delete env.PULSAR_ADMIN_TOKEN;
  url = pulsar('up');
}, BROKER_START_TIMEOUT_MS);

afterAll(() => {
  try {
    pulsar('down');
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}, 120_000);

afterEach(() => jest.restoreAllMocks());

it(
  'a token signed with the broker key works; so does one made by pulsar.sh token',
  async () => {
    for (const token of [jwt(secret, { sub: 'app' }), pulsar('token', 'worker')]) {
      const client = await PulsarClient.connect({ serviceUrl: url, token, logger: testLogger() });
      const topic = uniqueTopic('auth-ok');
      const consumer = await client.subscribe({ topic, subscription: 's' });
      const producer = await client.createProducer({ topic });
      await producer.send({ payload: Buffer.from('authenticated') });
      expect((await consumer.receive(10_000)).payload.toString()).toBe('authenticated');
      await client.close();
    }
  },
  BROKER_START_TIMEOUT_MS,
);

it.each([
  ['signed with another key', () => jwt(randomBytes(32), { sub: 'app' })],
  ['expired', () => jwt(secret, { sub: 'app', exp: Math.floor(Date.now() / 1000) - 60 })],
  ['not a JWT', () => 'not-a-jwt'],
  ['missing', () => undefined],
])('a token %s: AuthenticationError from the broker after one attempt, no retries', async (_, token) => {
  const opens = jest.spyOn(Connection, 'open');
  const { logger, records } = capturingLogger('debug');
  const value = token();
  const err = await PulsarClient.connect({
    serviceUrl: url,
    ...(value === undefined ? {} : { token: value }),
    logger,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BrokerError);
  expect((err as BrokerError).code).toBe('AuthenticationError');
  expect(isAuthError(err)).toBe(true);
  expect((err as BrokerError).message).toMatch(/^broker error AuthenticationError: .+/);
  await sleep(1000); // fifty backoff periods: a retry loop would have tried again by now
  expect(opens).toHaveBeenCalledTimes(1);
  if (value !== undefined && value.length > 8) expect(records.join('\n')).not.toContain(value);
});

it('a token that turns bad while running: the reconnect fails once with the broker error and stops', async () => {
  const opens = jest.spyOn(Connection, 'open');
  const { logger, records } = capturingLogger('info');
  let token = jwt(secret, { sub: 'app' });
  const client = await PulsarClient.connect({
    serviceUrl: url,
    token: () => token,
    logger,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
  });
  const topic = uniqueTopic('auth-revoked');
  const consumer = await client.subscribe({ topic, subscription: 's' });
  const producer = await client.createProducer({ topic, batching: false });
  await producer.send({ payload: Buffer.from('before') });
  expect((await consumer.receive(10_000)).payload.toString()).toBe('before');

  // The credentials go bad and the connection drops: every reconnect must now fail.
  token = jwt(randomBytes(32), { sub: 'app' });
  const before = opens.mock.calls.length;
  for (const opened of opens.mock.results) (await (opened.value as Promise<Connection>)).close();

  const sendErr = await producer.send({ payload: Buffer.from('after') }).catch((e: unknown) => e);
  expect(sendErr).toBeInstanceOf(PulsarError);
  expect((sendErr as PulsarError).code).toBe(PulsarErrorCode.ALREADY_CLOSED);
  expect(((sendErr as PulsarError).cause as BrokerError).code).toBe('AuthenticationError');
  const receiveErr = await consumer.receive(10_000).catch((e: unknown) => e);
  expect((receiveErr as PulsarError).code).toBe(PulsarErrorCode.ALREADY_CLOSED);
  expect(((receiveErr as PulsarError).cause as BrokerError).code).toBe('AuthenticationError');

  // Producer and consumer each tried at most once (they share the client's connection).
  await sleep(1000);
  const attempts = opens.mock.calls.length - before;
  expect(attempts).toBeGreaterThanOrEqual(1);
  expect(attempts).toBeLessThanOrEqual(2);
  await sleep(1000);
  expect(opens.mock.calls.length - before).toBe(attempts);
  const lines = records.map((r) => JSON.parse(r) as { msg: string; cause?: string });
  const gaveUp = lines.filter((l) => l.msg === 'giving up reconnecting');
  expect(gaveUp).toHaveLength(2);
  expect(gaveUp.every((l) => (l.cause ?? '').startsWith('AuthenticationError'))).toBe(true);
  await client.close();
});
