import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { PULSAR_SCRIPT, STARTED_MARKER } from './real-broker';

/** Stops the broker if the tests started it (set PULSAR_KEEP_BROKER=1 to keep it for the next run). */
export default function globalTeardown(): void {
  if (!fs.existsSync(STARTED_MARKER) || process.env.PULSAR_KEEP_BROKER === '1') return;
  fs.rmSync(STARTED_MARKER, { force: true });
  execFileSync(PULSAR_SCRIPT, ['down'], { stdio: 'ignore', timeout: 60_000 });
}
