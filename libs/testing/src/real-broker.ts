/**
 * The REAL broker from deploy/pulsar/pulsar.sh, for tests. `brokerUrl()` starts it once
 * (or reuses the running one; PULSAR_URL selects an external broker) and the global teardown
 * stops it again if these tests started it (unless PULSAR_KEEP_BROKER=1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../..');
export const PULSAR_SCRIPT = path.join(REPO_ROOT, 'deploy/pulsar/pulsar.sh');
/** Present while a broker started by these tests is running. */
export const STARTED_MARKER = path.resolve(__dirname, '.test-broker-started');
/** Longest a broker start may take (first start may resolve jars). */
export const BROKER_START_TIMEOUT_MS = 240_000;

let cachedUrl: string | undefined;

export function brokerUrl(): string {
  if (process.env.PULSAR_URL) return process.env.PULSAR_URL;
  if (cachedUrl) return cachedUrl;
  const wasRunning = spawnSync(PULSAR_SCRIPT, ['status'], { stdio: 'ignore' }).status === 0;
  const out = execFileSync(PULSAR_SCRIPT, ['up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: BROKER_START_TIMEOUT_MS,
  });
  const lines = out.trim().split('\n');
  cachedUrl = lines[lines.length - 1].trim();
  if (!wasRunning) fs.writeFileSync(STARTED_MARKER, `${cachedUrl}\n`);
  return cachedUrl;
}

/** The broker's admin (HTTP) URL: PULSAR_ADMIN_URL, else what pulsar.sh recorded, else :8080. */
export function adminUrl(): string {
  if (process.env.PULSAR_ADMIN_URL) return process.env.PULSAR_ADMIN_URL;
  const recorded = path.join(REPO_ROOT, 'deploy/pulsar/.cache/run/http_url');
  if (!process.env.PULSAR_URL && fs.existsSync(recorded)) return fs.readFileSync(recorded, 'utf8').trim();
  return 'http://127.0.0.1:8080';
}

/** A call to the broker's admin REST API; throws on a non-2xx status. */
export async function admin(
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  urlPath: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${adminUrl()}${urlPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`admin ${method} ${urlPath}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

function restPath(topic: string): string {
  const m = /^persistent:\/\/(.+)$/.exec(topic);
  if (!m) throw new Error(`not a persistent topic: ${topic}`);
  return `/admin/v2/persistent/${m[1]}`;
}

export async function createPartitionedTopic(topic: string, partitions: number): Promise<void> {
  await admin('PUT', `${restPath(topic)}/partitions`, partitions);
}

/** Unloads the topic: the broker closes its producers and consumers, which must reconnect. */
export async function unloadTopic(topic: string): Promise<void> {
  await admin('PUT', `${restPath(topic)}/unload`);
}

export async function topicStats(topic: string): Promise<Record<string, unknown>> {
  return (await admin('GET', `${restPath(topic)}/stats`)) as Record<string, unknown>;
}

let counter = 0;
/** A topic no other test (or earlier run) uses. */
/** Creates a namespace of its own under `public` for one test file (`<prefix>-<time>`), and returns its name. */
export async function freshNamespace(prefix: string): Promise<string> {
  const namespace = `${prefix}-${Date.now().toString(36)}`;
  await admin('PUT', `/admin/v2/namespaces/public/${namespace}`, {});
  return namespace;
}

export function uniqueTopic(base: string): string {
  counter++;
  return `persistent://public/default/${base}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}
