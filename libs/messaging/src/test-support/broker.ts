/**
 * Test support: the REAL broker from deploy/pulsar/pulsar.sh (as in libs/pulsar's tests).
 * `brokerUrl()` starts it once or reuses the running one (PULSAR_URL selects an external broker);
 * the global teardown stops it again only if these tests started it (unless PULSAR_KEEP_BROKER=1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const PULSAR_SCRIPT = path.join(REPO_ROOT, 'deploy/pulsar/pulsar.sh');
/** Present while a broker started by these tests is running (inside dist/, which git ignores). */
export const STARTED_MARKER = path.resolve(__dirname, '../.test-broker-started');
/** Longest a broker start may take (a first start may resolve jars). */
export const BROKER_START_TIMEOUT_MS = 240_000;

let cachedUrl: string | undefined;

export function brokerUrl(): string {
  if (process.env.PULSAR_URL) return process.env.PULSAR_URL;
  if (cachedUrl) return cachedUrl;
  const wasRunning = spawnSync(PULSAR_SCRIPT, ['status'], { stdio: 'ignore' }).status === 0;
  const out = execFileSync(PULSAR_SCRIPT, ['up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: BROKER_START_TIMEOUT_MS });
  const lines = out.trim().split('\n');
  cachedUrl = lines[lines.length - 1].trim();
  if (!wasRunning) fs.writeFileSync(STARTED_MARKER, `${cachedUrl}\n`);
  return cachedUrl;
}

let counter = 0;
/** A topic no other test (or earlier run) uses. */
export function uniqueTopic(base: string): string {
  counter += 1;
  return `persistent://public/default/bus-${base}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}
