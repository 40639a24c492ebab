import { PulsarError, PulsarErrorCode } from './pulsar-error';

export interface ServiceAddress {
  host: string;
  port: number;
  tls: boolean;
}

/**
 * Parses a binary-protocol service URL: "pulsar://host:6650" or "pulsar+ssl://host:6651",
 * optionally with several comma-separated hosts ("pulsar://a:6650,b:6650"). The default port is
 * 6650 (6651 with TLS).
 */
export function parseServiceUrl(url: string): ServiceAddress[] {
  if (/^[a-z+]+:\/\/[^/?#]*@/i.test(url.trim()) || /[?#]/.test(url))
    throw new PulsarError(
      PulsarErrorCode.INVALID_URL,
      `invalid Pulsar service URL "${redacted(url)}": it carries no credentials or query (a token goes in $PULSAR_TOKEN)`,
    );
  const match = /^(pulsar|pulsar\+ssl):\/\/([^/?#]+)\/?$/.exec(url.trim());
  if (!match) {
    throw new PulsarError(
      PulsarErrorCode.INVALID_URL,
      `invalid Pulsar service URL "${redacted(url)}" (want pulsar://host:port or pulsar+ssl://host:port)`,
    );
  }
  const tls = match[1] === 'pulsar+ssl';
  return match[2].split(',').map((hostPort) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort.trim());
    const port = m?.[2] === undefined ? (tls ? 6651 : 6650) : Number(m[2]);
    if (!m || port < 1 || port > 65535)
      throw new PulsarError(PulsarErrorCode.INVALID_URL, `invalid host:port "${hostPort}" in service URL`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port, tls };
  });
}

/** A URL as an error may quote it: without what could be a secret (user info, query, fragment). */
function redacted(url: string): string {
  return url.trim().replace(/(\/\/)[^/?#]*@/, '$1[redacted]@').replace(/[?#].*$/, '?[redacted]');
}

/** The canonical URL of one address, used as the connection pool key. */
export function addressUrl(address: ServiceAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.tls ? 'pulsar+ssl' : 'pulsar'}://${host}:${address.port}`;
}
