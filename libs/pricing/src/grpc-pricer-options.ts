import { readFileSync } from 'node:fs';
import type { Logger } from '@surrogate/core';
import { GrpcPricerError } from './grpc-pricer-error';

/** How a client talks to gRPC pricers. Every field is optional. */
export interface GrpcPricerOptions {
  /** PEM CA certificate(s) that verify grpcs:// servers. Default: the system's root CAs. */
  ca?: Buffer;
  /** PEM client certificate chain and its key, for servers that require mutual TLS (both or neither). */
  cert?: Buffer;
  key?: Buffer;
  /** Bearer token, sent as `authorization: Bearer <token>` on grpcs:// connections (never in clear). */
  token?: string;
  /**
   * The pricers that may be called, as `host` (any port) or `host:port`, lower case: a URL naming
   * another is refused (PRICER_NOT_ALLOWED) before any connection, so neither the token nor a client
   * certificate goes to a host a spec names. Default: any.
   */
  allow?: string[];
  /** Deadline of each call, in milliseconds. Default 30 000. */
  deadlineMs?: number;
  /** Retries of a call that failed with UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED. Default 3. */
  retries?: number;
  /** First backoff before a retry; doubled on each retry, with jitter. Default 100 ms. */
  initialBackoffMs?: number;
  /** Longest backoff. Default 5 000 ms. */
  maxBackoffMs?: number;
  /** Rows per PriceBatch call (lowered to the server's max_batch_rows). Default 8192. */
  batchRows?: number;
  /** PriceBatch calls in flight at once for one `price` call. Default 4. */
  concurrency?: number;
  logger?: Logger;
}

/** The same settings as they are configured: file paths rather than file contents. */
export interface GrpcPricerSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  token?: string;
  /** Comma-separated `host` or `host:port` entries. */
  allow?: string;
  deadlineMs?: string | number;
  retries?: string | number;
  batchRows?: string | number;
  concurrency?: string | number;
}

/** Environment variables that configure gRPC pricer clients, by setting. */
export const GRPC_PRICER_ENV = {
  caFile: 'SURROGATE_GRPC_CA',
  certFile: 'SURROGATE_GRPC_CERT',
  keyFile: 'SURROGATE_GRPC_KEY',
  token: 'SURROGATE_GRPC_TOKEN',
  allow: 'SURROGATE_GRPC_ALLOW',
  deadlineMs: 'SURROGATE_GRPC_DEADLINE_MS',
  retries: 'SURROGATE_GRPC_RETRIES',
  batchRows: 'SURROGATE_GRPC_BATCH_ROWS',
  concurrency: 'SURROGATE_GRPC_CONCURRENCY',
} as const;

/** Settings from the environment (`SURROGATE_GRPC_*`); empty variables count as unset. */
export function grpcPricerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): GrpcPricerSettings {
  const out: GrpcPricerSettings = {};
  for (const [key, variable] of Object.entries(GRPC_PRICER_ENV) as [keyof GrpcPricerSettings, string][]) {
    const value = env[variable];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

function configError(setting: string, value: unknown, rule: string, cause?: unknown): GrpcPricerError {
  return new GrpcPricerError('GRPC_CONFIG_INVALID', `${setting} = ${String(value)}: ${rule}`, {
    cause,
    details: { setting, value, rule },
  });
}

function readPem(setting: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw configError(setting, file, `cannot read the file (${code})`, err);
  }
}

function wholeNumber(
  setting: string,
  raw: string | number | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === 'number' ? raw : raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw configError(setting, raw, `must be a whole number from ${min} to ${max}`);
  return n;
}

function allowList(setting: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const entries = raw.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
  if (entries.length === 0) throw configError(setting, raw, 'name at least one host or host:port');
  for (const e of entries) {
    const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d+))?$/.exec(e);
    const port = m?.[2] === undefined ? undefined : Number(m[2]);
    if (!m || (port !== undefined && (port < 1 || port > 65535)))
      throw configError(setting, raw, `${e}: each entry is a host or host:port (e.g. pricing.bank.internal:50051)`);
  }
  return entries;
}

/** Whether `host:port` is among `allow` (entries `host`, any port, or `host:port`). */
export function pricerAllowed(allow: readonly string[] | undefined, host: string, port: number): boolean {
  if (allow === undefined) return true;
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return allow.includes(h) || allow.includes(`${h}:${port}`);
}

/**
 * Client options from settings: reads the PEM files and checks the numbers. `names` says how each
 * setting is called where it came from (a flag or a variable), for the error messages.
 * Throws GRPC_CONFIG_INVALID naming the setting, its value and the rule.
 */
export function grpcPricerOptions(
  settings: GrpcPricerSettings,
  names: Partial<Record<keyof GrpcPricerSettings, string>> = GRPC_PRICER_ENV,
): GrpcPricerOptions {
  const name = (k: keyof GrpcPricerSettings): string => names[k] ?? k;
  if ((settings.certFile === undefined) !== (settings.keyFile === undefined)) {
    const [given, missing] =
      settings.certFile === undefined
        ? (['keyFile', 'certFile'] as const)
        : (['certFile', 'keyFile'] as const);
    throw configError(
      name(given),
      settings[given],
      `a client certificate needs both ${name('certFile')} and ${name('keyFile')}; ${name(missing)} is not set`,
    );
  }
  const options: GrpcPricerOptions = {
    ca: readPem(name('caFile'), settings.caFile),
    cert: readPem(name('certFile'), settings.certFile),
    key: readPem(name('keyFile'), settings.keyFile),
    token: settings.token,
    allow: allowList(name('allow'), settings.allow),
    deadlineMs: wholeNumber(name('deadlineMs'), settings.deadlineMs, 1, 24 * 3600_000),
    retries: wholeNumber(name('retries'), settings.retries, 0, 100),
    batchRows: wholeNumber(name('batchRows'), settings.batchRows, 1, 1 << 24),
    concurrency: wholeNumber(name('concurrency'), settings.concurrency, 1, 1024),
  };
  for (const k of Object.keys(options) as (keyof GrpcPricerOptions)[])
    if (options[k] === undefined) delete options[k];
  return options;
}
