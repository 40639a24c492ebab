import { GrpcPricerError } from './grpc-pricer-error';
import { formatValue } from './validate-params';

/** Where a client-owned pricer is served: `grpc://host:port/name` or `grpcs://host:port/name` (TLS). */
export interface RemotePricerUrl {
  /** The URL as written in specs, normalised (lower-case scheme and host). */
  readonly url: string;
  /** Whether the connection uses TLS (`grpcs://`). */
  readonly tls: boolean;
  /** Host name or IP address; an IPv6 address keeps its brackets. */
  readonly host: string;
  readonly port: number;
  /** `host:port`, the gRPC target. */
  readonly target: string;
  /** The pricer's name on that server (the URL path). */
  readonly name: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Whether a spec's `pricer` names a gRPC pricer (by its scheme; the rest may still be malformed). */
export function isRemotePricer(pricer: unknown): pricer is string {
  return typeof pricer === 'string' && /^grpcs?:\/\//i.test(pricer);
}

function invalid(value: unknown, rule: string): GrpcPricerError {
  return new GrpcPricerError('INVALID_PRICER_URL', `pricer URL ${formatValue(value)}: ${rule}`, {
    details: { value, rule },
  });
}

/**
 * Parses `grpc://host:port/name` (plaintext) or `grpcs://host:port/name` (TLS). The port is
 * required; the name is 1–100 letters, digits, dot, dash or underscore. Credentials, queries and
 * fragments are refused: a spec travels in messages and logs, so it must never carry a secret
 * (tokens and certificates are worker settings). Throws INVALID_PRICER_URL naming the rule broken.
 */
export function parseRemotePricerUrl(raw: unknown): RemotePricerUrl {
  if (typeof raw !== 'string') throw invalid(raw, 'must be a string');
  const scheme = /^(grpcs?):\/\//i.exec(raw);
  if (!scheme) throw invalid(raw, 'must start with grpc:// or grpcs://');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(raw, 'is not a valid URL (expected grpc://host:port/name)');
  }
  if (url.username !== '' || url.password !== '')
    throw invalid(raw, 'must not carry credentials; configure a token on the worker instead');
  if (url.search !== '' || url.hash !== '') throw invalid(raw, 'must not have a query or a fragment');
  if (url.hostname === '') throw invalid(raw, 'needs a host (expected grpc://host:port/name)');
  if (url.port === '') throw invalid(raw, 'needs a port (expected grpc://host:port/name)');
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(raw, 'port must be from 1 to 65535');
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!NAME.test(name))
    throw invalid(
      raw,
      'the path must be the pricer name: 1–100 letters, digits, dot, dash or underscore (grpc://host:port/name)',
    );
  const tls = (scheme[1] as string).toLowerCase() === 'grpcs';
  const host = url.hostname.toLowerCase();
  const target = `${host}:${port}`;
  return {
    url: `${tls ? 'grpcs' : 'grpc'}://${target}/${name}`,
    tls,
    host,
    port,
    target,
    name,
  };
}
