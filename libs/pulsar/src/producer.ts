import type { Logger } from '@surrogate/core';
import { batchItemSize, writeBatchItem } from './batch-codec';
import type { ClientContext } from './client-context';
import { CompressionType, type CompressionName, compress, compressionTypeOf } from './compression';
import type { Connection, ProducerListener } from './connection';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  encodePayloadCommand,
  encodePayloadFrame,
  encodePayloadFrameParts,
} from './frame';
import { MessageId } from './message-id';
import { BrokerError, PulsarError, PulsarErrorCode } from './pulsar-error';
import { Reconnector } from './reconnector';
import { retryUntil } from './retry';
import { Semaphore } from './semaphore';
import type { SingleMetadataFields } from './single-message-metadata';
import { type BaseCommand, CommandType, type MessageMetadata, serverErrorName, toKeyValues } from './wire';

/** A message to publish. */
export interface ProducerMessage {
  /**
   * The bytes to publish. Payloads of 16 KiB and more sent on their own (not batched, not
   * compressed) are written to the socket without a copy: do not modify them until `send` resolves.
   */
  payload: Uint8Array;
  /** Partition key: routes the message on partitioned topics and keys Key_Shared subscriptions. */
  key?: string;
  properties?: Record<string, string>;
  /** Application event time, ms since epoch. */
  eventTime?: number;
}

/**
 * The most bytes a message's key and properties may take. The broker counts them, with the payload,
 * against its frame limit (the maximum message size plus a little room); a message over it makes the
 * broker reset the connection, and a producer that sent it again on every reconnect would take every
 * other message of that connection down with it.
 */
export const MAX_METADATA_BYTES = 8 * 1024;

function checkMetadataSize(message: ProducerMessage, topic: string): void {
  let size = message.key === undefined ? 0 : Buffer.byteLength(message.key);
  for (const [k, v] of Object.entries(message.properties ?? {})) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (size > MAX_METADATA_BYTES)
    throw new PulsarError(
      PulsarErrorCode.MESSAGE_TOO_LARGE,
      `a message's key and properties take ${size} bytes; at most ${MAX_METADATA_BYTES}`,
      { details: { size, maxMetadataBytes: MAX_METADATA_BYTES, topic } },
    );
}

export interface BatchingOptions {
  /** Most messages in one batch (default 1000). */
  maxMessages?: number;
  /** Longest a message waits for its batch to fill (default 10 ms). */
  maxPublishDelayMs?: number;
  /** Most payload bytes in one batch (default 128 KiB). */
  maxBytes?: number;
  /**
   * A batch holds consecutive messages of ONE key, and its metadata carries that key (default
   * true). Key_Shared subscriptions dispatch a whole batch by the key in its metadata, so mixing
   * keys in a batch would break key affinity. false: any messages share a batch (the Java
   * client's default container).
   */
  keyBased?: boolean;
}

export interface ProducerOptions {
  topic: string;
  /** Unique on the topic; the broker assigns one when omitted. */
  producerName?: string;
  /** Batching options, or false to send every message on its own. Default: batching on. */
  batching?: BatchingOptions | false;
  /** Codec of the payloads written (default none). */
  compression?: CompressionName;
  /** Most messages sent but not yet acknowledged by the broker; `send` waits beyond it (default 1000). */
  maxPendingMessages?: number;
  /** A message without a receipt after this long fails with SEND_TIMEOUT (default 30000; 0 = never). */
  sendTimeoutMs?: number;
  /** Metadata attached to the producer on the broker. */
  properties?: Record<string, string>;
}

/** Publishes to one topic. `send` resolves with the id the broker stored the message under. */
export interface Producer {
  readonly topic: string;
  readonly producerName: string;
  send(message: ProducerMessage): Promise<MessageId>;
  /** Sends the open batch and waits for the receipts of everything sent so far. */
  flush(): Promise<void>;
  /** Flushes, then closes the producer on the broker. Idempotent. */
  close(): Promise<void>;
}

interface Callback {
  resolve(id: MessageId): void;
  reject(err: unknown): void;
}

/** One SEND on the wire: a single message or a batch. */
interface OpSend {
  sequenceId: number;
  highestSequenceId: number;
  numMessages: number;
  /** One per message, in batch-index order. */
  callbacks: Callback[];
  /** A batch (ids carry batch indexes) or a message sent on its own. */
  batched: boolean;
  /** The SEND frame, or its parts (header, payload) for large payloads, which are not copied. */
  frame: Buffer | Buffer[];
  deadline: number;
  settled: Promise<void>;
  markSettled(): void;
}

interface BatchedMessage {
  message: ProducerMessage;
  sequenceId: number;
  callback: Callback;
  /** Its SingleMessageMetadata fields, encoded size in the batch, and the UTF-8 sizes of its strings. */
  fields: SingleMetadataFields;
  size: number;
  strings: number[];
}

/** Payloads from this size on are written to the socket as they are, not copied into the frame. */
const ZERO_COPY_MIN = 16 * 1024;

/** Shared by every message without properties or key (nothing is ever pushed to it). */
const NO_STRINGS: number[] = [];

type State = 'connecting' | 'ready' | 'closing' | 'closed' | 'failed';

const DEFAULT_BATCHING: Required<BatchingOptions> = {
  maxMessages: 1000,
  maxPublishDelayMs: 10,
  maxBytes: 128 * 1024,
  keyBased: true,
};

/** Errors after which a SEND is not retried on a new connection. */
const FATAL_SEND_ERRORS = new Set([
  'TopicTerminatedError',
  'NotAllowedError',
  'ProducerFenced',
  'ChecksumError',
  'AuthorizationError',
  'IncompatibleSchema',
]);

/**
 * Producer on one (non-partitioned or partition) topic. Messages are numbered by sequence id
 * and kept in a bounded pending queue until their receipt; after a reconnect the producer is
 * re-created under the same name and the pending messages are resent in order with the same ids.
 */
export class SingleTopicProducer implements Producer, ProducerListener {
  readonly topic: string;
  producerName: string;
  private readonly producerId: number;
  private readonly log: Logger;
  private readonly batching: Required<BatchingOptions> | false;
  private readonly compression: CompressionType;
  private readonly sendTimeoutMs: number;
  private readonly semaphore: Semaphore;
  private readonly pending: OpSend[] = [];
  private batch: BatchedMessage[] = [];
  private batchBytes = 0;
  private batchTimer?: NodeJS.Timeout;
  private timeoutTimer?: NodeJS.Timeout;
  private nextSequenceId = 0;
  private epoch = 0;
  private userProvidedName: boolean;
  private cnx?: Connection;
  private state: State = 'connecting';
  private failure?: unknown;
  private readonly reconnector: Reconnector;

  private constructor(
    private readonly ctx: ClientContext,
    private readonly options: ProducerOptions,
    /** Partition index, -1 for a non-partitioned topic. */
    private readonly partition: number,
  ) {
    this.topic = options.topic;
    this.producerId = ctx.newProducerId();
    this.producerName = options.producerName ?? '';
    this.userProvidedName = options.producerName !== undefined;
    this.batching = options.batching === false ? false : { ...DEFAULT_BATCHING, ...(options.batching ?? {}) };
    this.compression = compressionTypeOf(options.compression ?? 'none');
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    const maxPending = options.maxPendingMessages ?? 1000;
    if (!Number.isInteger(maxPending) || maxPending < 1)
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `maxPendingMessages must be a positive integer, got ${maxPending}`,
      );
    this.semaphore = new Semaphore(maxPending);
    this.log = ctx.log.child({ topic: this.topic, producerId: this.producerId });
    this.reconnector = new Reconnector({
      attempt: () => this.connect(),
      isClosed: () => this.state === 'closed' || this.state === 'failed',
      onPermanentFailure: (err) => this.failPermanently(err),
      // On reconnect, anything but credentials and a terminated/fenced topic is worth retrying.
      retriable: (err) => !(err instanceof BrokerError) || !FATAL_SEND_ERRORS.has(err.code),
      log: this.log,
      initialBackoffMs: ctx.initialBackoffMs,
      maxBackoffMs: ctx.maxBackoffMs,
    });
  }

  /** Creates the producer on the broker, retrying transient failures for up to operationTimeoutMs. */
  static async create(
    ctx: ClientContext,
    options: ProducerOptions,
    partition = -1,
  ): Promise<SingleTopicProducer> {
    const producer = new SingleTopicProducer(ctx, options, partition);
    try {
      await retryUntil(() => producer.connect(), {
        timeoutMs: ctx.operationTimeoutMs,
        initialBackoffMs: ctx.initialBackoffMs,
        maxBackoffMs: ctx.maxBackoffMs,
      });
    } catch (err) {
      producer.state = 'failed';
      throw err;
    }
    return producer;
  }

  /** Max message size of the current connection (5 MiB until connected). */
  get maxMessageSize(): number {
    return this.cnx?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** Messages sent and not yet acknowledged, including the open batch. */
  get pendingCount(): number {
    return this.semaphore.used;
  }

  get connected(): boolean {
    return this.state === 'ready';
  }

  private async connect(): Promise<void> {
    const broker = await this.ctx.lookup.lookup(this.topic);
    const cnx = await this.ctx.pool.get(broker.logicalUrl, broker.physicalUrl);
    cnx.registerProducer(this.producerId, this);
    let response: BaseCommand;
    try {
      response = await cnx.request((requestId) => ({
        type: CommandType.PRODUCER,
        producer: {
          topic: this.topic,
          producerId: this.producerId,
          requestId,
          ...(this.producerName ? { producerName: this.producerName } : {}),
          userProvidedProducerName: this.userProvidedName,
          epoch: this.epoch,
          metadata: toKeyValues(this.options.properties),
        },
      }));
    } catch (err) {
      cnx.unregisterProducer(this.producerId);
      throw err;
    }
    const success = response.producerSuccess;
    if (!success)
      throw new PulsarError(
        PulsarErrorCode.PROTOCOL_ERROR,
        'PRODUCER got a response other than PRODUCER_SUCCESS',
      );
    if (this.state === 'closed' || this.state === 'failed') {
      cnx.unregisterProducer(this.producerId);
      return;
    }
    const firstTime = !this.producerName;
    this.producerName = success.producerName;
    if (
      firstTime &&
      typeof success.lastSequenceId === 'number' &&
      success.lastSequenceId >= 0 &&
      this.nextSequenceId === 0
    ) {
      // Deduplication is on and this name published before: continue after its last id.
      this.nextSequenceId = success.lastSequenceId + 1;
    }
    this.epoch++;
    this.cnx = cnx;
    if (this.state === 'connecting') this.state = 'ready';
    this.reconnector.succeeded();
    for (const op of this.pending) cnx.write(op.frame);
    if (this.pending.length > 0) this.log.info({ resent: this.pending.length }, 'resent pending messages');
  }

  send(message: ProducerMessage): Promise<MessageId> {
    try {
      this.checkOpen();
      if (!(message.payload instanceof Uint8Array))
        throw new PulsarError(PulsarErrorCode.INVALID_ARGUMENT, 'payload must be a Uint8Array');
      checkMetadataSize(message, this.topic);
      if (this.batching) this.checkSize(message.payload.length);
    } catch (err) {
      return Promise.reject(err);
    }
    // Synchronous when there is room, so that send(); flush() or send(); close() include the message.
    if (this.semaphore.tryAcquire()) return this.enqueueMessage(message);
    return this.semaphore.acquire().then(() => {
      try {
        this.checkOpen();
      } catch (err) {
        this.semaphore.release();
        throw err;
      }
      return this.enqueueMessage(message);
    });
  }

  /** Assigns the sequence id and queues the message (a permit is held). */
  private enqueueMessage(message: ProducerMessage): Promise<MessageId> {
    return new Promise<MessageId>((resolve, reject) => {
      const callback: Callback = {
        resolve: (id) => {
          this.semaphore.release();
          resolve(id);
        },
        reject: (err) => {
          this.semaphore.release();
          reject(err);
        },
      };
      const sequenceId = this.nextSequenceId++;
      try {
        if (this.batching) this.addToBatch(this.batchEntry(message, sequenceId, callback));
        else this.enqueue(this.singleOp(message, sequenceId, callback));
      } catch (err) {
        callback.reject(err);
      }
    });
  }

  private checkOpen(): void {
    if (this.state === 'closing' || this.state === 'closed')
      throw new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `producer on ${this.topic} is closed`);
    if (this.state === 'failed') {
      throw new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `producer on ${this.topic} failed permanently`, {
        cause: this.failure,
      });
    }
  }

  private checkSize(size: number): void {
    const max = this.maxMessageSize;
    if (size > max) {
      throw new PulsarError(
        PulsarErrorCode.MESSAGE_TOO_LARGE,
        `message of ${size} bytes exceeds the broker's maximum message size of ${max} bytes`,
        {
          details: { size, maxMessageSize: max, topic: this.topic },
        },
      );
    }
  }

  private batchEntry(message: ProducerMessage, sequenceId: number, callback: Callback): BatchedMessage {
    const fields: SingleMetadataFields = {
      properties: message.properties,
      partitionKey: message.key,
      payloadSize: message.payload.length,
      eventTime: message.eventTime,
      sequenceId,
    };
    const strings = message.properties !== undefined || message.key !== undefined ? [] : NO_STRINGS;
    return { message, sequenceId, callback, fields, strings, size: batchItemSize(fields, strings) };
  }

  private addToBatch(entry: BatchedMessage): void {
    const batching = this.batching as Required<BatchingOptions>;
    // Sizes count the per-message metadata too: the batch as sent (uncompressed) stays within
    // maxBytes and the broker's limit, as a consumer checks (uncompressed size <= max message size).
    const size = entry.size;
    const open = this.batch[0];
    if (
      open &&
      (this.batchBytes + size > batching.maxBytes ||
        this.batchBytes + size > this.maxMessageSize ||
        (batching.keyBased && open.message.key !== entry.message.key))
    ) {
      this.flushBatch();
    }
    this.batch.push(entry);
    this.batchBytes += size;
    if (this.batch.length >= batching.maxMessages || this.batchBytes >= batching.maxBytes) {
      this.flushBatch();
    } else if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.flushBatch();
      }, batching.maxPublishDelayMs);
    }
  }

  /** Turns the open batch into one SEND (a batch of one is sent as a plain message). */
  private flushBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const entries = this.batch;
    const rawSize = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (entries.length === 0) return;
    try {
      if (entries.length === 1) {
        const [only] = entries;
        this.enqueue(this.singleOp(only.message, only.sequenceId, only.callback));
        return;
      }
      const writeItems = (buf: Buffer, offset: number): void => {
        let at = offset;
        for (const e of entries) at = writeBatchItem(buf, at, e.size, e.fields, e.message.payload, e.strings);
      };
      const first = entries[0].sequenceId;
      const last = entries[entries.length - 1].sequenceId;
      const metadata: MessageMetadata = {
        producerName: this.producerName,
        sequenceId: first,
        publishTime: Date.now(),
        numMessagesInBatch: entries.length,
        highestSequenceId: last,
        uncompressedSize: rawSize,
      };
      const key = entries[0].message.key;
      if ((this.batching as Required<BatchingOptions>).keyBased && key !== undefined)
        metadata.partitionKey = key;
      const command: BaseCommand = {
        type: CommandType.SEND,
        send: {
          producerId: this.producerId,
          sequenceId: first,
          numMessages: entries.length,
          highestSequenceId: last,
        },
      };
      let frame: Buffer;
      if (this.compression === CompressionType.NONE) {
        // Written straight into the frame: no batch buffer, no extra copy.
        frame = encodePayloadFrame(command, metadata, rawSize, writeItems);
      } else {
        const raw = Buffer.allocUnsafe(rawSize);
        writeItems(raw, 0);
        frame = encodePayloadCommand(command, metadata, this.compressPayload(raw, metadata));
      }
      const callbacks = new Array<Callback>(entries.length);
      for (let i = 0; i < entries.length; i++) callbacks[i] = entries[i].callback;
      this.enqueue(this.makeOp(first, last, entries.length, callbacks, true, frame));
    } catch (err) {
      for (const e of entries) e.callback.reject(err);
    }
  }

  private compressPayload(raw: Buffer, metadata: MessageMetadata): Buffer {
    if (this.compression === CompressionType.NONE) return raw;
    metadata.compression = this.compression;
    return compress(this.compression, raw);
  }

  private singleOp(message: ProducerMessage, sequenceId: number, callback: Callback): OpSend {
    const raw = Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength);
    const metadata: MessageMetadata = {
      producerName: this.producerName,
      sequenceId,
      publishTime: Date.now(),
      properties: toKeyValues(message.properties),
      uncompressedSize: raw.length,
      ...(message.key === undefined ? {} : { partitionKey: message.key }),
      ...(message.eventTime === undefined ? {} : { eventTime: message.eventTime }),
    };
    const payload = this.compressPayload(raw, metadata);
    this.checkSize(payload.length);
    const command: BaseCommand = {
      type: CommandType.SEND,
      send: { producerId: this.producerId, sequenceId, numMessages: 1 },
    };
    const frame =
      payload.length >= ZERO_COPY_MIN
        ? encodePayloadFrameParts(command, metadata, payload)
        : encodePayloadCommand(command, metadata, payload);
    return this.makeOp(sequenceId, sequenceId, 1, [callback], false, frame);
  }

  private makeOp(
    sequenceId: number,
    highestSequenceId: number,
    numMessages: number,
    callbacks: Callback[],
    batched: boolean,
    frame: Buffer | Buffer[],
  ): OpSend {
    let markSettled!: () => void;
    const settled = new Promise<void>((resolve) => {
      markSettled = resolve;
    });
    const deadline = this.sendTimeoutMs > 0 ? Date.now() + this.sendTimeoutMs : Number.POSITIVE_INFINITY;
    return {
      sequenceId,
      highestSequenceId,
      numMessages,
      callbacks,
      batched,
      frame,
      deadline,
      settled,
      markSettled,
    };
  }

  private enqueue(op: OpSend): void {
    this.pending.push(op);
    // cnx is set only while the producer exists on the broker (ready, or closing and flushing).
    if (this.cnx) this.cnx.write(op.frame);
    this.armSendTimeout();
  }

  private armSendTimeout(): void {
    if (this.timeoutTimer || this.sendTimeoutMs <= 0 || this.pending.length === 0) return;
    const delay = Math.max(10, this.pending[0].deadline - Date.now());
    this.timeoutTimer = setTimeout(() => {
      this.timeoutTimer = undefined;
      const now = Date.now();
      while (this.pending.length > 0 && this.pending[0].deadline <= now) {
        const op = this.pending.shift() as OpSend;
        this.settle(
          op,
          new PulsarError(
            PulsarErrorCode.SEND_TIMEOUT,
            `no receipt from the broker within ${this.sendTimeoutMs} ms`,
            {
              details: { topic: this.topic, sequenceId: op.sequenceId, connected: this.state === 'ready' },
            },
          ),
        );
      }
      this.armSendTimeout();
    }, delay);
  }

  private settle(op: OpSend, error: unknown, messageId?: { ledgerId: number; entryId: number }): void {
    const callbacks = op.callbacks;
    for (let i = 0; i < callbacks.length; i++) {
      if (messageId)
        callbacks[i].resolve(
          op.batched
            ? new MessageId(messageId.ledgerId, messageId.entryId, this.partition, i, op.numMessages)
            : new MessageId(messageId.ledgerId, messageId.entryId, this.partition),
        );
      else callbacks[i].reject(error);
    }
    op.markSettled();
  }

  onSendReceipt(receipt: NonNullable<BaseCommand['sendReceipt']>): void {
    const head = this.pending[0];
    if (!head || receipt.sequenceId < head.sequenceId) {
      this.log.debug(
        { sequenceId: receipt.sequenceId },
        'receipt for a message no longer pending (timed out or duplicate)',
      );
      return;
    }
    if (receipt.sequenceId > head.sequenceId) {
      // The broker acknowledged something we have not seen acknowledged before it: resync.
      this.log.warn(
        { got: receipt.sequenceId, expected: head.sequenceId },
        'out-of-order send receipt: reconnecting',
      );
      this.cnx?.close();
      return;
    }
    this.pending.shift();
    const id = receipt.messageId ?? { ledgerId: -1, entryId: -1 };
    this.settle(head, undefined, id);
  }

  onSendError(error: NonNullable<BaseCommand['sendError']>): void {
    const name = serverErrorName(error.error);
    const head = this.pending[0];
    if (FATAL_SEND_ERRORS.has(name) && head && head.sequenceId === error.sequenceId) {
      this.pending.shift();
      this.settle(
        head,
        new BrokerError(name, error.message, { topic: this.topic, sequenceId: error.sequenceId }),
      );
      return;
    }
    // Anything else (e.g. PersistenceError): re-create the producer and resend.
    this.log.warn(
      { error: name, sequenceId: error.sequenceId, brokerMessage: error.message },
      'send error: reconnecting to resend',
    );
    this.cnx?.close();
  }

  onClosedByBroker(): void {
    this.lostConnection(
      new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `broker closed the producer on ${this.topic}`),
    );
  }

  onConnectionClosed(cause: PulsarError): void {
    this.lostConnection(cause);
  }

  private lostConnection(cause: PulsarError): void {
    this.cnx?.unregisterProducer(this.producerId);
    this.cnx = undefined;
    // While closing, keep reconnecting so that pending messages can still be flushed.
    if (this.state === 'ready') this.state = 'connecting';
    else if (this.state !== 'closing') return;
    this.reconnector.start(cause);
  }

  private failPermanently(err: unknown): void {
    this.state = 'failed';
    this.failure = err;
    this.clearTimers();
    const error = new PulsarError(
      PulsarErrorCode.ALREADY_CLOSED,
      `producer on ${this.topic} failed permanently: ${(err as Error).message}`,
      { cause: err },
    );
    for (const op of this.pending.splice(0)) this.settle(op, error);
    for (const e of this.batch.splice(0)) e.callback.reject(error);
    this.semaphore.close(error);
  }

  async flush(): Promise<void> {
    this.flushBatch();
    const last = this.pending[this.pending.length - 1];
    if (last) await last.settled;
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasFailed = this.state === 'failed';
    this.state = 'closing';
    if (!wasFailed) {
      this.flushBatch();
      const last = this.pending[this.pending.length - 1];
      if (last) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          last.settled,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.ctx.operationTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
    }
    this.state = 'closed';
    this.reconnector.stop();
    this.clearTimers();
    const error = new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `producer on ${this.topic} closed`);
    for (const op of this.pending.splice(0)) this.settle(op, error);
    this.semaphore.close(error);
    const cnx = this.cnx;
    this.cnx = undefined;
    if (cnx && !cnx.closed) {
      try {
        await cnx.request((requestId) => ({
          type: CommandType.CLOSE_PRODUCER,
          closeProducer: { producerId: this.producerId, requestId },
        }));
      } catch (err) {
        this.log.debug({ err }, 'CLOSE_PRODUCER failed (connection gone)');
      }
      cnx.unregisterProducer(this.producerId);
    }
  }

  private clearTimers(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.batchTimer = undefined;
    this.timeoutTimer = undefined;
  }
}
