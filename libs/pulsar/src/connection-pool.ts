import type { Logger } from '@surrogate/core';
import { Connection, type ConnectionOptions } from './connection';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { parseServiceUrl } from './service-url';

export type PoolOptions = Omit<ConnectionOptions, 'address' | 'proxyToBrokerUrl' | 'logger'> & {
  logger: Logger;
};

/**
 * One connection per broker (per logical/physical address pair), shared by every lookup,
 * producer and consumer of the client. A closed or failed connection leaves the pool, so the
 * next `get` opens a fresh one.
 */
export class ConnectionPool {
  private readonly connections = new Map<string, Promise<Connection>>();
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /**
   * The connection to `logicalUrl` (a broker URL from a lookup), opened if needed. When
   * `physicalUrl` differs (a proxy), the TCP connection goes there and CONNECT names the broker.
   */
  get(logicalUrl: string, physicalUrl: string = logicalUrl): Promise<Connection> {
    if (this.closed) return Promise.reject(new PulsarError(PulsarErrorCode.ALREADY_CLOSED, 'client closed'));
    const key = `${logicalUrl}|${physicalUrl}`;
    const existing = this.connections.get(key);
    if (existing) return existing;
    const [address] = parseServiceUrl(physicalUrl);
    const opening = Connection.open({
      ...this.options,
      address,
      ...(logicalUrl === physicalUrl
        ? {}
        : { proxyToBrokerUrl: logicalUrl.replace(/^pulsar(\+ssl)?:\/\//, '') }),
    }).then(
      (cnx) => {
        cnx.onClose(() => {
          if (this.connections.get(key) === opening) this.connections.delete(key);
        });
        if (this.closed) cnx.close();
        return cnx;
      },
      (err: unknown) => {
        if (this.connections.get(key) === opening) this.connections.delete(key);
        throw err;
      },
    );
    this.connections.set(key, opening);
    return opening;
  }

  get size(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (cnx) => cnx.close(),
          () => undefined,
        ),
      ),
    );
  }
}
