import type { Logger } from '@surrogate/core';
import type { Connection } from './connection';
import type { ConnectionPool } from './connection-pool';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { CommandType, proto } from './wire';

const MAX_REDIRECTS = 20;

export interface BrokerAddress {
  /** The broker that owns the topic. */
  logicalUrl: string;
  /** Where to open the TCP connection (the service URL when going through a proxy). */
  physicalUrl: string;
}

/**
 * Binary lookup: which broker owns a topic (following redirects, with the authoritative flag
 * the broker returns), and how many partitions a topic has. Lookups go to the service URL.
 */
export class LookupService {
  constructor(
    private readonly pool: ConnectionPool,
    private readonly serviceUrl: string,
    private readonly useTls: boolean,
    private readonly log: Logger,
  ) {}

  /** Number of partitions of `topic`: 0 for a non-partitioned topic. */
  async partitions(topic: string): Promise<number> {
    const cnx = await this.pool.get(this.serviceUrl);
    const response = await cnx.request((requestId) => ({
      type: CommandType.PARTITIONED_METADATA,
      partitionMetadata: { topic, requestId },
    }));
    return response.partitionMetadataResponse?.partitions ?? 0;
  }

  /** The broker serving `topic`. */
  async lookup(topic: string): Promise<BrokerAddress> {
    let cnx: Connection = await this.pool.get(this.serviceUrl);
    let authoritative = false;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await cnx.request((requestId) => ({
        type: CommandType.LOOKUP,
        lookupTopic: { topic, requestId, authoritative },
      }));
      const r = response.lookupTopicResponse;
      const url = (this.useTls ? r?.brokerServiceUrlTls : r?.brokerServiceUrl) || undefined;
      if (!r || !url) {
        throw new PulsarError(
          PulsarErrorCode.LOOKUP_FAILED,
          `lookup of ${topic} returned no ${this.useTls ? 'TLS ' : ''}broker URL`,
          { details: { topic } },
        );
      }
      const physicalUrl = r.proxyThroughServiceUrl ? this.serviceUrl : url;
      if (r.response === proto.CommandLookupTopicResponse.LookupType.Connect) {
        this.log.debug({ topic, broker: url }, 'lookup resolved');
        return { logicalUrl: url, physicalUrl };
      }
      // Redirect: ask the broker we were sent to.
      authoritative = r.authoritative === true;
      cnx = await this.pool.get(url, physicalUrl);
    }
    throw new PulsarError(
      PulsarErrorCode.LOOKUP_FAILED,
      `lookup of ${topic} exceeded ${MAX_REDIRECTS} redirects`,
      { details: { topic } },
    );
  }
}
