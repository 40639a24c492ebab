import type { Logger } from '@surrogate/core';
import type { ConnectionPool } from './connection-pool';
import type { LookupService } from './lookup';

/** What producers and consumers share from their client. */
export interface ClientContext {
  readonly pool: ConnectionPool;
  readonly lookup: LookupService;
  readonly log: Logger;
  readonly operationTimeoutMs: number;
  /** Bounds of the reconnect backoff. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  newProducerId(): number;
  newConsumerId(): number;
}
