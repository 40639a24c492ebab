/**
 * @surrogate/pulsar: a pure-TypeScript client of the Apache Pulsar binary protocol.
 *
 * ```ts
 * const client = await PulsarClient.connect({ serviceUrl: 'pulsar://127.0.0.1:6650', token });
 * const producer = await client.createProducer({ topic: 'jobs', batching: { maxPublishDelayMs: 5 }, compression: 'lz4' });
 * const id = await producer.send({ payload, key: 'experiment-1', properties: { kind: 'job' } });
 * const consumer = await client.subscribe({ topic: 'jobs', subscription: 'workers', type: 'shared',
 *   receiverQueueSize: 0, ackTimeoutMs: 60_000, nackRedeliveryDelayMs: 1000, deadLetter: { maxRedeliverCount: 5 } });
 * for await (const message of consumer) { try { handle(message); await consumer.ack(message); } catch { consumer.nack(message); } }
 * await client.close();
 * ```
 *
 * - Message ids: `MessageId.toString()` is the same in the send receipt and on delivery
 *   ("ledger:entry:partition[:batchIndex]").
 * - Flow control: up to `receiverQueueSize` messages are prefetched ahead of `receive` and
 *   re-requested as the application receives; permits are sized in entries by the largest batch
 *   seen, so a consumer that falls behind holds at most receiverQueueSize + one batch - 1
 *   (`consumer.buffered` counts them). 0 grants one permit per waiting `receive` (for N
 *   concurrent handlers, run N receive loops).
 * - Acks: individual (batch-index acks for messages of a batch, option `batchIndexAck`, default on)
 *   and cumulative; negative acks with delay, ack timeout, client-side dead-letter topic.
 * - Compression: reads NONE, LZ4, ZLIB, ZSTD (pure JS on Node 20) and SNAPPY; writes LZ4 and ZLIB.
 *   A message that cannot be decoded (unknown codec, corrupt payload, malformed batch) never
 *   reaches the application: it is dead-lettered with DEAD_LETTER_REASON (with a deadLetter
 *   policy) or discarded, acked, and reported by an 'undecodable' event.
 * - Errors: `PulsarError` (codes in `PulsarErrorCode`) and `BrokerError` (code = the broker's
 *   ServerError name, e.g. "AuthenticationError"), both `SurrogateError`s.
 * - Reconnects (bounded jittered backoff) re-create producers (resending pending messages with
 *   their sequence ids) and consumers (re-subscribe, fresh permits); authentication failures are
 *   not retried.
 * - Non-durable consumers (`durable: false`, exclusive only: NON_DURABLE_TYPES): the broker keeps
 *   the subscription in memory and drops it when the consumer closes or its connection dies (a
 *   SIGKILLed process leaves nothing behind); `unsubscribe` just closes. `startRollbackMs` starts
 *   at the messages published within that window (whole seconds on the wire, rounded up) that the
 *   topic still holds (its retention policy). A reconnect resubscribes with start_message_id = the
 *   last message handed to the application (before the first one: where the subscription started,
 *   from GET_LAST_MESSAGE_ID) and drops what the broker sends again of that entry or batch: none
 *   lost, none twice. A message handed over but not acked before the connection died is not
 *   redelivered (as with the Java client's non-durable consumers and readers).
 * - `consumer.lastMessageIds()`: the topic's last message id and the subscription's mark-delete
 *   position, per partition.
 */
export { PulsarClient, type ClientOptions } from './client';
export type { TlsOptions, TokenSource } from './connection';
export type { Producer, ProducerMessage, ProducerOptions, BatchingOptions } from './producer';
export type { PartitionedProducerOptions } from './partitioned-producer';
export type {
  Consumer,
  ConsumerOptions,
  SubscriptionType,
  InitialPosition,
  DeadLetterPolicy,
  NackOptions,
  DeadLetterEvent,
  UndecodableEvent,
  BufferedCount,
  LastMessageIds,
} from './consumer';
export { NON_DURABLE_TYPES } from './consumer';
export type { Message } from './message';
export { MessageId } from './message-id';
export type { CompressionName } from './compression';
export type { HashingScheme } from './key-hash';
export { PulsarError, PulsarErrorCode, BrokerError, isAuthError, isRetriable } from './pulsar-error';
export { fullTopicName, partitionTopicName } from './topic-name';
export { crc32c } from './crc32c';
export { lz4Compress, lz4Decompress } from './lz4-block';
