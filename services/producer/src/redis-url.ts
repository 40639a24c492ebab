import { ExperimentStoreError } from './experiment-store-error';

/**
 * A Redis URL fit for logs and error messages, otherwise as given: its user and password (whatever
 * stands between `//` and the last `@`) become `[redacted]`, and so do token-like query parameters.
 */
export function redactRedisUrl(raw: string): string {
  return raw
    .replace(/\/\/.*@/, '//[redacted]@')
    .replace(/([?&][^=&#]*(?:token|secret|password|pass|key|auth)[^=&#]*=)[^&#]*/gi, '$1redacted');
}

/**
 * Checks a Redis URL: redis:// (or rediss:// for TLS), a host, an optional port 1–65535, an
 * optional database number (/0, /1, …). Throws STORE_BAD_URL naming the (redacted) value and rule.
 */
export function checkRedisUrl(raw: string): URL {
  const bad = (rule: string): never => {
    throw new ExperimentStoreError('STORE_BAD_URL', `${redactRedisUrl(raw)}: ${rule}`, { details: { value: redactRedisUrl(raw) } });
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad('not a URL; expected redis://[user:password@]host[:port][/db] or rediss://… for TLS');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') bad(`must be a redis:// or rediss:// URL, not ${url.protocol}//`);
  if (!url.hostname) bad('names no host');
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname))
    bad(`the path must be a database number (/0, /1, …), not ${url.pathname}`);
  return url;
}
