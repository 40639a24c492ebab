/**
 * A REAL Redis for tests. `realRedis()` answers with $REDIS_URL when it is set, else with the Redis
 * on 127.0.0.1:6379 when one answers PING there, else it starts `redis-server` itself on a free
 * port with a temporary directory and no persistence; `stop()` stops only a server it started.
 *
 *   const redis = await realRedis();   // in beforeAll
 *   … redis.url …
 *   await redis.stop();                 // in afterAll
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RealRedis {
  /** redis://host:port (or $REDIS_URL as given). */
  readonly url: string;
  /** True when this call started redis-server (stop() stops it). */
  readonly started: boolean;
  stop(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;
/** Longest a redis-server start may take before the test setup gives up. */
export const REDIS_START_TIMEOUT_MS = 20_000;

export async function realRedis(): Promise<RealRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, started: false, stop: async () => undefined };
  if (await answersPing(DEFAULT_HOST, DEFAULT_PORT))
    return { url: `redis://${DEFAULT_HOST}:${DEFAULT_PORT}`, started: false, stop: async () => undefined };
  return startRedisServer();
}

/** True if a Redis answers PING (+PONG) at host:port within a second. */
export function answersPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, DEFAULT_HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a redis-server of its own (always), on a free port with a temporary directory. */
export async function startRedisServer(): Promise<RealRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'surrogate-redis-'));
  const args = ['--port', String(port), '--bind', DEFAULT_HOST, '--dir', dir, '--save', '', '--appendonly', 'no'];
  let child: ChildProcess;
  try {
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`cannot start redis-server (install it: apt-get install redis-server): ${String(err)}`);
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(r, 50, undefined))]);
    if (failed) {
      await stop();
      throw new Error(`cannot start redis-server (install it: apt-get install redis-server): ${failed.message}`);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server exited (${child.exitCode}) on start:\n${output}`);
    }
    if (await answersPing(DEFAULT_HOST, port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer on port ${port} within ${REDIS_START_TIMEOUT_MS} ms:\n${output}`);
    }
  }
  return { url: `redis://${DEFAULT_HOST}:${port}`, started: true, stop };
}
