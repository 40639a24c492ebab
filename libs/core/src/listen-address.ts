/**
 * A `host:port` to listen on, with a port from 0 to 65535 (0 picks a free one) and IPv6 hosts in
 * brackets (`[::1]:9464`); undefined when `address` is not one.
 */
export function parseListenAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
