import { EventEmitter } from 'node:events';
import type { Logger } from '@surrogate/core';
import { isUnacked, unackedSet } from './ack-set';
import { AckTimeoutTracker } from './ack-timeout-tracker';
import { decodeBatch } from './batch-codec';
import type { ClientContext } from './client-context';
import { codecName, decompress } from './compression';
import type { Connection, ConsumerListener } from './connection';
import { DEFAULT_MAX_MESSAGE_SIZE, type PayloadSection } from './frame';
import type { Message } from './message';
import { MessageId } from './message-id';
import { NegativeAckTracker } from './negative-ack-tracker';
import type { Producer, ProducerOptions } from './producer';
import { BrokerError, PulsarError, PulsarErrorCode } from './pulsar-error';
import { Reconnector } from './reconnector';
import { ReceivedMessage } from './received-message';
import { ReceiverQueue } from './receiver-queue';
import { retryUntil } from './retry';
import {
  type BaseCommand,
  CommandType,
  type KeyValue,
  type MessageIdData,
  ackSetForWire,
  ackSetFromWire,
  fromKeyValues,
  proto,
  toKeyValues,
} from './wire';

/** How a subscription spreads messages over its consumers. */
export type SubscriptionType = 'exclusive' | 'shared' | 'failover' | 'key-shared';
export type InitialPosition = 'latest' | 'earliest';

export interface DeadLetterPolicy {
  /** A message delivered this many times more than once (redeliveryCount >= this) goes to the DLQ instead of being redelivered. */
  maxRedeliverCount: number;
  /** Default `${topic}-${subscription}-DLQ`. */
  deadLetterTopic?: string;
}

export interface ConsumerOptions {
  topic: string;
  subscription: string;
  /** Default exclusive. */
  type?: SubscriptionType;
  consumerName?: string;
  /**
   * Messages prefetched (flow permits granted ahead of `receive`). Default 1000. 0 grants one
   * permit per waiting `receive` call: the consumer never holds a message nobody asked for.
   * Permits are re-granted as the application receives messages, so a slow consumer holds at
   * most this many (plus the rest of one batch).
   */
  receiverQueueSize?: number;
  /**
   * Acknowledge messages of a batch one by one on the broker (batch-index acks, PIP-54; default
   * true): after a restart or redelivery only the unacknowledged messages of a batch come back.
   * Needs acknowledgmentAtBatchIndexLevelEnabled=true on the broker; a broker without it ignores
   * the partial acks and redelivers whole batches, as with false, where a batch is acked on the
   * broker only once all its messages are.
   */
  batchIndexAck?: boolean;
  /** Redeliver messages not acked this long after they were received (0 = off, default). */
  ackTimeoutMs?: number;
  /** Delay before a nacked message is redelivered (default 60000). */
  nackRedeliveryDelayMs?: number;
  deadLetter?: DeadLetterPolicy;
  /** Where a NEW subscription starts (default latest). */
  initialPosition?: InitialPosition;
  /** Failover/shared priority (lower is higher priority). */
  priorityLevel?: number;
  /** Metadata attached to the consumer on the broker. */
  properties?: Record<string, string>;
  /**
   * Default true: the subscription outlives its consumers and the topic keeps every message it has
   * not acked. false: a non-durable subscription (what the Java client's readers use), which the broker
   * keeps in memory only and drops when its consumer closes or its connection dies, so a process
   * killed with SIGKILL leaves nothing behind. Exclusive subscriptions only (see NON_DURABLE_TYPES).
   * After a lost connection or a broker restart the consumer resubscribes just after the last
   * message it handed to the application: none lost, none twice. A message handed over and not
   * acked before the connection was lost is not redelivered (there is no cursor to keep it).
   */
  durable?: boolean;
  /**
   * Non-durable subscriptions only: start at the first message published at most this long ago
   * (by the broker's publish time) instead of `initialPosition`. Sent in whole seconds, rounded up
   * (start_message_rollback_duration_sec). Only messages the topic still holds can be replayed: a
   * window longer than the namespace's retention finds the older ones gone. Used on the first
   * subscribe only; a reconnect resumes after the last message handed to the application.
   */
  startRollbackMs?: number;
}

/** Where a topic (or one partition of it) ends, and where this consumer's subscription stands. */
export interface LastMessageIds {
  topic: string;
  /** Id of the last message stored on the topic (entryId -1: the topic holds none yet). */
  lastMessageId: MessageId;
  /** The subscription's mark-delete position: everything up to it is acked (when the broker says). */
  markDeletePosition?: MessageId;
}

export interface NackOptions {
  /** Extra properties for the dead letter, if this nack sends the message to the DLQ. */
  deadLetterProperties?: Record<string, string>;
}

/** Told after a message was published to the dead-letter topic and acked. */
export interface DeadLetterEvent {
  message: Message;
  deadLetterTopic: string;
  deadLetterMessageId: MessageId;
}

/**
 * Told when a message could not be decoded (checksum mismatch, unknown or corrupt compression,
 * malformed batch). It was dead-lettered (raw payload, with the reason) when the consumer has a
 * dead-letter policy, else discarded; the application never receives it.
 */
export interface UndecodableEvent {
  topic: string;
  /** The entry (a whole batch, when it was one). */
  messageId: MessageId;
  /** PulsarError code of the failure, e.g. PULSAR_UNSUPPORTED_COMPRESSION. */
  code: string;
  reason: string;
  deadLetterTopic?: string;
  deadLetterMessageId?: MessageId;
}

/** What a consumer holds that the application has not received yet. */
export interface BufferedCount {
  messages: number;
  /** Payload bytes of those messages. */
  bytes: number;
}

/** Receives from a subscription. Iterate it, or call `receive`. */
export interface Consumer extends AsyncIterable<Message> {
  readonly topic: string;
  readonly subscription: string;
  /**
   * Prefetched messages not received yet: at most receiverQueueSize (per partition) plus the rest
   * of one batch, however far the application falls behind.
   */
  readonly buffered: BufferedCount;
  receive(timeoutMs?: number): Promise<Message>;
  /** Acknowledges one message (a batch entry is acked on the broker once all its messages are). */
  ack(message: Message): Promise<void>;
  /** Acknowledges this message and all before it (exclusive and failover only). */
  ackCumulative(message: Message): Promise<void>;
  /** Redelivers the message after nackRedeliveryDelayMs (or dead-letters it after too many deliveries). */
  nack(message: Message, options?: NackOptions): void;
  /** Publishes the message to the dead-letter topic now, then acks it. Needs a deadLetter policy or topic. */
  deadLetter(message: Message, properties?: Record<string, string>): Promise<MessageId>;
  /**
   * Deletes the subscription (durable), then closes. A non-durable consumer just closes: the broker
   * drops its subscription with it.
   */
  unsubscribe(): Promise<void>;
  close(): Promise<void>;
  /** The topic's last message id and the subscription's mark-delete position, per partition. */
  lastMessageIds(): Promise<LastMessageIds[]>;
  on(event: 'activeChange', listener: (isActive: boolean, topic: string) => void): this;
  on(event: 'deadLetter', listener: (event: DeadLetterEvent) => void): this;
  on(event: 'endOfTopic', listener: (topic: string) => void): this;
  on(event: 'undecodable', listener: (event: UndecodableEvent) => void): this;
}

/** What a consumer needs besides the client context. */
export interface ConsumerDeps {
  ctx: ClientContext;
  createProducer(options: ProducerOptions): Promise<Producer>;
  /** Shared queue (partitioned consumers); the consumer makes its own when omitted. */
  queue?: ReceiverQueue<Message>;
  /** Parent topic name (for the default DLQ topic of a partition). */
  parentTopic?: string;
  partition?: number;
  /** Who emits events (the partitioned parent, or the consumer itself). */
  events?: EventEmitter;
}

const SUB_TYPES: Record<SubscriptionType, number> = {
  exclusive: proto.CommandSubscribe.SubType.Exclusive,
  shared: proto.CommandSubscribe.SubType.Shared,
  failover: proto.CommandSubscribe.SubType.Failover,
  'key-shared': proto.CommandSubscribe.SubType.Key_Shared,
};

/** Errors after which re-subscribing is pointless. */
const FATAL_SUBSCRIBE_ERRORS = new Set([
  'TopicNotFound',
  'SubscriptionNotFound',
  'InvalidTopicName',
  'NotAllowedError',
  'IncompatibleSchema',
  'TopicTerminatedError',
]);

const MAX_TRACKED = 10_000;

/**
 * Subscription types a non-durable consumer may use. The broker accepts any, but resuming after the
 * last delivered message on reconnect is only right with a single consumer on the subscription: with
 * shared, failover or key-shared consumers, whichever reconnects first would re-create the dropped
 * subscription at its own position, redelivering what the others had or skipping what they had not.
 */
export const NON_DURABLE_TYPES: readonly SubscriptionType[] = ['exclusive'];

/** A position on one partition; batchIndex WHOLE_ENTRY covers every message of the entry. */
interface Position {
  ledgerId: number;
  entryId: number;
  batchIndex: number;
}
const WHOLE_ENTRY = Number.MAX_SAFE_INTEGER;

function comparePositions(a: Position, b: Position): number {
  return a.ledgerId - b.ledgerId || a.entryId - b.entryId || a.batchIndex - b.batchIndex;
}

/** The consumer that received a message (for acks through a partitioned parent). */
export function ownerOf(message: Message): SingleTopicConsumer | undefined {
  const owner = ReceivedMessage.ownerOf(message);
  return owner instanceof SingleTopicConsumer ? owner : undefined;
}

type State = 'connecting' | 'ready' | 'closed' | 'failed';

/**
 * Consumer of one (non-partitioned or partition) topic: subscribes, grants flow permits as the
 * application receives, unpacks batches, acks (batched messages once the whole batch is acked),
 * redelivers on nack and ack timeout, dead-letters after too many deliveries, and re-subscribes
 * after a lost connection.
 */
export class SingleTopicConsumer extends EventEmitter implements Consumer, ConsumerListener {
  readonly topic: string;
  readonly subscription: string;
  readonly type: SubscriptionType;
  private readonly consumerId: number;
  private readonly ctx: ClientContext;
  private readonly log: Logger;
  private readonly queue: ReceiverQueue<Message>;
  private readonly ownsQueue: boolean;
  private readonly receiverQueueSize: number;
  private readonly partition: number;
  private readonly events: EventEmitter;
  private readonly reconnector: Reconnector;
  private readonly ackTimeout?: AckTimeoutTracker<Message>;
  private readonly nacks: NegativeAckTracker<{ message: Message; options?: NackOptions }>;
  private readonly batchAcks = new Map<string, { size: number; acked: Set<number> }>();
  private readonly localRedeliveries = new Map<string, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Individual acks not sent yet, by entry ("ledger:entry"); a later ack of an entry supersedes an earlier one. */
  private pendingAcks = new Map<string, MessageIdData>();
  private readonly batchIndexAck: boolean;
  private ackFlushScheduled = false;
  /**
   * Permits granted to the broker minus messages it has sent since (negative when a batch was
   * larger than the permits left). The broker dispatches while this is > 0.
   */
  private brokerPermits = 0;
  /** This consumer's messages in the queue (the queue is shared by the partitions of a topic). */
  private bufferedHere = 0;
  /** Most messages seen in one entry (a batch); undefined until the first entry arrives. */
  private largestEntry?: number;
  /** receiverQueueSize 0: permits granted and not yet used by a message. */
  private outstandingPermits = 0;
  private consumerEpoch = 0;
  private cnx?: Connection;
  private state: State = 'connecting';
  /** Why the consumer failed permanently (state 'failed'). */
  private failure?: unknown;
  private deadLetterProducer?: Promise<Producer>;
  private readonly deadLetterTopic?: string;
  /** Last ACTIVE_CONSUMER_CHANGE (failover/exclusive). */
  isActive?: boolean;
  readonly durable: boolean;
  /** Rollback of a non-durable subscription's first subscribe, in seconds (0 = none). */
  private readonly rollbackSec: number;
  /**
   * Non-durable: the last message handed to the application (or, before the first, where the
   * subscription started). A reconnect resubscribes from here.
   */
  private resumePoint?: Position;
  /** Non-durable, after a reconnect: messages up to here were handed over already; drop them. */
  private skipUpTo?: Position;

  private constructor(
    private readonly options: ConsumerOptions,
    private readonly deps: ConsumerDeps,
  ) {
    super();
    this.ctx = deps.ctx;
    this.topic = options.topic;
    this.subscription = options.subscription;
    this.type = options.type ?? 'exclusive';
    if (!(this.type in SUB_TYPES))
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `unknown subscription type "${String(this.type)}"`,
      );
    if (!options.subscription)
      throw new PulsarError(PulsarErrorCode.INVALID_ARGUMENT, 'subscription name is required');
    this.durable = options.durable ?? true;
    if (typeof this.durable !== 'boolean')
      throw new PulsarError(PulsarErrorCode.INVALID_ARGUMENT, `durable must be a boolean, got ${String(options.durable)}`, {
        details: { option: 'durable', value: options.durable },
      });
    if (!this.durable && !NON_DURABLE_TYPES.includes(this.type))
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `durable: false needs a subscription type of ${NON_DURABLE_TYPES.join(', ')}, got ${this.type}: a non-durable subscription resumes after its one consumer's last message`,
        { details: { option: 'durable', type: this.type, allowed: NON_DURABLE_TYPES } },
      );
    const rollbackMs = options.startRollbackMs ?? 0;
    if (typeof rollbackMs !== 'number' || !Number.isSafeInteger(rollbackMs) || rollbackMs < 0)
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `startRollbackMs must be a whole number >= 0, got ${String(options.startRollbackMs)}`,
        { details: { option: 'startRollbackMs', value: options.startRollbackMs } },
      );
    if (rollbackMs > 0 && this.durable)
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `startRollbackMs (${rollbackMs}) needs durable: false (a durable subscription keeps its own position)`,
        { details: { option: 'startRollbackMs', value: rollbackMs } },
      );
    this.rollbackSec = Math.ceil(rollbackMs / 1000);
    this.consumerId = this.ctx.newConsumerId();
    this.partition = deps.partition ?? -1;
    this.receiverQueueSize = options.receiverQueueSize ?? 1000;
    this.batchIndexAck = options.batchIndexAck ?? true;
    if (!Number.isInteger(this.receiverQueueSize) || this.receiverQueueSize < 0) {
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `receiverQueueSize must be an integer >= 0, got ${this.receiverQueueSize}`,
      );
    }
    this.events = deps.events ?? this;
    this.log = this.ctx.log.child({
      topic: this.topic,
      subscription: this.subscription,
      consumerId: this.consumerId,
    });
    this.ownsQueue = deps.queue === undefined;
    this.queue = deps.queue ?? new ReceiverQueue<Message>((m) => this.messageDequeued(m), payloadBytes);
    const deadLetter = options.deadLetter;
    if (deadLetter)
      this.deadLetterTopic =
        deadLetter.deadLetterTopic ?? `${deps.parentTopic ?? this.topic}-${this.subscription}-DLQ`;
    if (options.ackTimeoutMs && options.ackTimeoutMs > 0)
      this.ackTimeout = new AckTimeoutTracker(
        options.ackTimeoutMs,
        (expired) => void this.redeliver(expired.map((message) => ({ message }))),
      );
    this.nacks = new NegativeAckTracker(
      options.nackRedeliveryDelayMs ?? 60_000,
      (due) => void this.redeliver(due),
    );
    this.reconnector = new Reconnector({
      attempt: () => this.connect(),
      isClosed: () => this.state === 'closed' || this.state === 'failed',
      onPermanentFailure: (err) => this.failPermanently(err),
      retriable: (err) => !(err instanceof BrokerError) || !FATAL_SUBSCRIBE_ERRORS.has(err.code),
      log: this.log,
      initialBackoffMs: this.ctx.initialBackoffMs,
      maxBackoffMs: this.ctx.maxBackoffMs,
    });
  }

  /** Subscribes, retrying transient failures for up to operationTimeoutMs. */
  static async create(options: ConsumerOptions, deps: ConsumerDeps): Promise<SingleTopicConsumer> {
    const consumer = new SingleTopicConsumer(options, deps);
    try {
      await retryUntil(() => consumer.connect(), {
        timeoutMs: deps.ctx.operationTimeoutMs,
        initialBackoffMs: deps.ctx.initialBackoffMs,
        maxBackoffMs: deps.ctx.maxBackoffMs,
      });
    } catch (err) {
      consumer.state = 'failed';
      consumer.stopTimers();
      throw err;
    }
    return consumer;
  }

  get connected(): boolean {
    return this.state === 'ready';
  }

  get buffered(): BufferedCount {
    return { messages: this.queue.size, bytes: this.queue.bytes };
  }

  private async connect(): Promise<void> {
    const broker = await this.ctx.lookup.lookup(this.topic);
    const cnx = await this.ctx.pool.get(broker.logicalUrl, broker.physicalUrl);
    cnx.registerConsumer(this.consumerId, this);
    try {
      await cnx.request((requestId) => ({
        type: CommandType.SUBSCRIBE,
        subscribe: {
          topic: this.topic,
          subscription: this.subscription,
          subType: SUB_TYPES[this.type],
          consumerId: this.consumerId,
          requestId,
          ...(this.options.consumerName === undefined ? {} : { consumerName: this.options.consumerName }),
          ...(this.options.priorityLevel === undefined ? {} : { priorityLevel: this.options.priorityLevel }),
          durable: this.durable,
          ...this.startFields(),
          metadata: toKeyValues(this.options.properties),
          initialPosition:
            this.options.initialPosition === 'earliest'
              ? proto.CommandSubscribe.InitialPosition.Earliest
              : proto.CommandSubscribe.InitialPosition.Latest,
          ...(this.type === 'key-shared'
            ? { keySharedMeta: { keySharedMode: proto.KeySharedMode.AUTO_SPLIT } }
            : {}),
          consumerEpoch: this.consumerEpoch,
        },
      }));
    } catch (err) {
      cnx.unregisterConsumer(this.consumerId);
      throw err;
    }
    if (!this.durable) {
      // Whatever comes up to the resume point was handed over before (the broker starts one entry
      // early, for the rest of a batch). Before the first message, learn where the subscription
      // starts (no flow permits yet: nothing moved it), so a reconnect loses nothing even then.
      this.skipUpTo = this.resumePoint;
      if (this.resumePoint === undefined) await this.learnStart(cnx);
    }
    if (this.state === 'closed' || this.state === 'failed') {
      cnx.unregisterConsumer(this.consumerId);
      return;
    }
    if (cnx.closed) {
      cnx.unregisterConsumer(this.consumerId);
      throw new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `connection lost while subscribing to ${this.topic}`);
    }
    this.cnx = cnx;
    this.state = 'ready';
    this.flushAcks();
    // Fresh permits: whatever was prefetched on the old connection was dropped.
    this.brokerPermits = 0;
    this.outstandingPermits = 0;
    if (this.receiverQueueSize > 0) this.refill();
    else this.grantOnDemand();
  }

  /** SUBSCRIBE fields of a non-durable consumer: resume after the last delivered message, or roll back. */
  private startFields(): { startMessageId?: MessageIdData; startMessageRollbackDurationSec?: number } {
    if (this.durable) return {};
    if (this.resumePoint !== undefined)
      return { startMessageId: { ledgerId: this.resumePoint.ledgerId, entryId: this.resumePoint.entryId } };
    return this.rollbackSec > 0 ? { startMessageRollbackDurationSec: this.rollbackSec } : {};
  }

  /** Non-durable: the subscription's start (its mark-delete position) becomes the resume point. */
  private async learnStart(cnx: Connection): Promise<void> {
    try {
      const position = (await this.queryLastMessageId(cnx)).markDeletePosition;
      if (position !== undefined && this.resumePoint === undefined)
        this.resumePoint = {
          ledgerId: position.ledgerId,
          entryId: position.entryId,
          batchIndex: WHOLE_ENTRY,
        };
    } catch (err) {
      if (cnx.closed) throw err;
      this.log.warn({ err }, 'could not learn where the non-durable subscription starts; a reconnect before the first message starts afresh');
    }
  }

  private async queryLastMessageId(cnx: Connection): Promise<LastMessageIds> {
    const response = await cnx.request((requestId) => ({
      type: CommandType.GET_LAST_MESSAGE_ID,
      getLastMessageId: { consumerId: this.consumerId, requestId },
    }));
    const answer = response.getLastMessageIdResponse;
    if (!answer?.lastMessageId)
      throw new PulsarError(PulsarErrorCode.PROTOCOL_ERROR, `GET_LAST_MESSAGE_ID on ${this.topic}: no last_message_id in the response`);
    const markDelete = answer.consumerMarkDeletePosition;
    // "Before the first entry" is entry -1, which arrives as 2^64 - 1 (uint64): keep it -1.
    const position = (data: MessageIdData): MessageId => {
      const id = MessageId.fromData(data, this.partition);
      return Number.isSafeInteger(id.entryId) ? id : new MessageId(id.ledgerId, -1, id.partition, id.batchIndex);
    };
    return {
      topic: this.topic,
      lastMessageId: position(answer.lastMessageId),
      ...(markDelete ? { markDeletePosition: position(markDelete) } : {}),
    };
  }

  async lastMessageIds(): Promise<LastMessageIds[]> {
    if (this.state === 'closed' || this.state === 'failed')
      throw new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `consumer on ${this.topic} is closed`);
    const cnx = this.cnx;
    if (!cnx)
      throw new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `consumer on ${this.topic} is not connected`);
    return [await this.queryLastMessageId(cnx)];
  }

  /** Non-durable, after a reconnect: was this message handed to the application already? */
  private deliveredBefore(id: MessageId): boolean {
    return this.skipUpTo !== undefined && comparePositions(id, this.skipUpTo) <= 0;
  }

  // ---- receiving -------------------------------------------------------------------------

  async receive(timeoutMs?: number): Promise<Message> {
    if (this.state === 'failed')
      throw new PulsarError(
        PulsarErrorCode.ALREADY_CLOSED,
        `consumer on ${this.topic} failed: ${(this.failure as Error)?.message}`,
        { cause: this.failure },
      );
    if (this.state === 'closed')
      throw new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `consumer on ${this.topic} is closed`);
    const next = this.queue.receive(timeoutMs);
    if (this.receiverQueueSize === 0) this.grantOnDemand();
    return next;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof PulsarError && err.code === PulsarErrorCode.ALREADY_CLOSED) return;
        throw err;
      }
    }
  }

  /** receiverQueueSize 0: one permit per waiting receive not covered by a queued message or an outstanding permit. */
  private grantOnDemand(): void {
    if (this.state !== 'ready') return;
    const wanted = this.queue.waiting - this.queue.size - this.outstandingPermits;
    if (wanted > 0) {
      this.outstandingPermits += wanted;
      this.flow(wanted);
    }
  }

  private flow(permits: number): void {
    if (permits <= 0 || !this.cnx) return;
    this.cnx.send({ type: CommandType.FLOW, flow: { consumerId: this.consumerId, messagePermits: permits } });
  }

  /**
   * Grants the broker permits for as many ENTRIES as fit in the receiver queue. A permit is one
   * message to the broker, but a broker that is not in precise flow-control mode reads one entry
   * per permit (up to 100 per read), and an entry can be a batch of up to 1000 messages: granting
   * receiverQueueSize permits at once could bring 100 batches. So the broker is given a permit
   * balance of floor(room / largest batch seen) entries (at least 1 while there is room; 1 until
   * the first entry shows the batch size), topping it up once that grew by half the queue's worth.
   * What the consumer holds stays within receiverQueueSize + one batch - 1.
   */
  private refill(): void {
    if (this.receiverQueueSize === 0 || this.state !== 'ready') return;
    const room = this.receiverQueueSize - this.bufferedHere;
    if (room <= 0) return;
    const perEntry = this.largestEntry ?? this.receiverQueueSize;
    const target = Math.max(1, Math.floor(room / perEntry));
    const threshold = Math.max(1, Math.floor(this.receiverQueueSize / perEntry / 2));
    if (target - this.brokerPermits >= threshold) {
      this.flow(target - this.brokerPermits);
      this.brokerPermits = target;
    }
  }

  /** Permits used by messages the application will never see (skipped, discarded, dropped). */
  private returnPermits(count: number): void {
    if (count <= 0) return;
    if (this.receiverQueueSize === 0) this.grantOnDemand();
    else this.refill();
  }

  /** The application took `message` from the queue. */
  messageDequeued(message: Message): void {
    if (!this.durable) {
      const id = message.messageId;
      if (this.resumePoint === undefined || comparePositions(id, this.resumePoint) > 0)
        this.resumePoint = { ledgerId: id.ledgerId, entryId: id.entryId, batchIndex: id.batchIndex };
    }
    this.ackTimeout?.add(message.messageId.toString(), message);
    this.bufferedHere--;
    this.refill();
  }

  /** Queues a delivered message (counted as held here until the application takes it). */
  private deliver(message: ReceivedMessage): void {
    this.bufferedHere++;
    this.queue.push(message);
  }

  /** Messages of this consumer dropped from the queue (they come again from the broker). */
  private dropQueued(): number {
    const dropped = this.queue.removeWhere((m) => ReceivedMessage.ownerOf(m) === this).length;
    this.bufferedHere -= dropped;
    return dropped;
  }

  onMessage(command: NonNullable<BaseCommand['message']>, section: PayloadSection): void {
    if (this.state !== 'ready') return;
    const metadata = section.metadata;
    const isBatch = Object.prototype.hasOwnProperty.call(metadata, 'numMessagesInBatch');
    const count = isBatch ? Math.max(1, metadata.numMessagesInBatch ?? 1) : 1;
    if (this.receiverQueueSize === 0) this.outstandingPermits = Math.max(0, this.outstandingPermits - count);
    this.brokerPermits -= count;
    if (this.largestEntry === undefined || count > this.largestEntry) this.largestEntry = count;
    const entry = MessageId.fromData(command.messageId, this.partition);

    if (typeof command.consumerEpoch === 'number' && command.consumerEpoch < this.consumerEpoch) {
      // Sent before our last redeliver-all: the broker redelivers it anyway.
      this.returnPermits(count);
      return;
    }
    if (!isBatch && this.deliveredBefore(entry)) {
      this.returnPermits(count);
      this.queueAck(entry.toEntryData());
      return;
    }
    const brokerRedeliveries = command.redeliveryCount ?? 0;
    const ValidationError = proto.CommandAck.ValidationError;
    if (section.checksumValid === false) {
      this.undecodable(
        entry,
        section,
        count,
        brokerRedeliveries,
        ValidationError.ChecksumMismatch,
        new PulsarError(PulsarErrorCode.PROTOCOL_ERROR, 'payload checksum (CRC32-C) mismatch'),
      );
      return;
    }
    const compression = metadata.compression ?? 0;
    const uncompressedSize = metadata.uncompressedSize ?? section.payload.length;
    const maxSize = this.cnx?.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (compression !== 0 && uncompressedSize > maxSize) {
      // As the Java client: a compressed payload never inflates beyond the broker's message limit.
      this.undecodable(
        entry,
        section,
        count,
        brokerRedeliveries,
        ValidationError.UncompressedSizeCorruption,
        new PulsarError(
          PulsarErrorCode.COMPRESSION_ERROR,
          `uncompressed size ${uncompressedSize} exceeds the maximum message size ${maxSize}`,
          { details: { uncompressedSize, maxMessageSize: maxSize } },
        ),
      );
      return;
    }
    let payload: Buffer;
    try {
      payload = decompress(compression, section.payload, uncompressedSize);
    } catch (err) {
      this.undecodable(
        entry,
        section,
        count,
        brokerRedeliveries,
        ValidationError.DecompressionError,
        asPulsarError(err, PulsarErrorCode.COMPRESSION_ERROR),
      );
      return;
    }
    if (!isBatch) {
      this.deliver(
        new ReceivedMessage(
          this,
          this.topic,
          entry,
          payload,
          propertiesOf(metadata.properties),
          metadata.publishTime,
          metadata.producerName,
          metadata.sequenceId,
          this.redeliveryCountOf(entry, brokerRedeliveries),
          metadata.partitionKey,
          metadata.eventTime,
        ),
      );
      this.refill(); // the first entry tells the batch size: grant the rest
      return;
    }
    let items;
    try {
      items = decodeBatch(payload, count);
    } catch (err) {
      this.undecodable(
        entry,
        section,
        count,
        brokerRedeliveries,
        ValidationError.BatchDeSerializeError,
        asPulsarError(err, PulsarErrorCode.PROTOCOL_ERROR),
      );
      return;
    }
    const entryKey = entry.entryKey();
    let tracker = this.batchAcks.get(entryKey);
    if (!tracker) {
      tracker = { size: count, acked: new Set() };
      this.batchAcks.set(entryKey, tracker);
      if (this.batchAcks.size > MAX_TRACKED)
        this.batchAcks.delete(this.batchAcks.keys().next().value as string);
    }
    const brokerAckSet = ackSetFromWire(command.ackSet);
    // Skipped messages (acked before, compacted out) used broker permits but are not held:
    // refill() below accounts for them.
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      const m = item.metadata;
      const ackedByBroker = brokerAckSet.length > 0 && !isUnacked(brokerAckSet, index);
      const id = new MessageId(entry.ledgerId, entry.entryId, this.partition, index, count);
      if (
        m.compactedOut ||
        ackedByBroker ||
        (tracker.acked.size > 0 && tracker.acked.has(index)) ||
        this.deliveredBefore(id)
      ) {
        tracker.acked.add(index);
        continue;
      }
      this.deliver(
        new ReceivedMessage(
          this,
          this.topic,
          id,
          item.payload,
          propertiesOf(m.properties),
          metadata.publishTime,
          metadata.producerName,
          typeof m.sequenceId === 'number' ? m.sequenceId : metadata.sequenceId + index,
          this.redeliveryCountOf(id, brokerRedeliveries),
          m.partitionKey,
          m.eventTime,
        ),
      );
    }
    if (tracker.acked.size === tracker.size) {
      // Everything in it was acked before: ack the entry (again) so the broker stops sending it.
      this.batchAcks.delete(entryKey);
      this.queueAck(entry.toEntryData());
    }
    this.refill();
  }

  private redeliveryCountOf(id: MessageId, fromBroker: number): number {
    if (this.localRedeliveries.size === 0) return fromBroker;
    return Math.max(fromBroker, this.localRedeliveries.get(id.toString()) ?? 0);
  }

  /**
   * An entry the application can never read (checksum mismatch, unknown codec, corrupt compressed
   * data, malformed batch): with a dead-letter policy its raw payload goes to the dead-letter
   * topic with the reason, else it is discarded; either way it is acked with the validation error
   * (the broker logs it) and an 'undecodable' event is emitted. Never thrown at the application.
   */
  private undecodable(
    entry: MessageId,
    section: PayloadSection,
    count: number,
    redeliveryCount: number,
    validationError: number,
    error: PulsarError,
  ): void {
    this.returnPermits(count);
    const reason = `${error.code}: ${error.message}`;
    if (!this.deadLetterTopic) {
      this.log.error(
        { messageId: entry.toString(), reason },
        'discarding a message that cannot be decoded (no dead-letter policy)',
      );
      this.ackEntry(entry, validationError);
      this.events.emit('undecodable', {
        topic: this.topic,
        messageId: entry,
        code: error.code,
        reason,
      } satisfies UndecodableEvent);
      return;
    }
    void this.deadLetterUndecodable(entry, section, redeliveryCount, validationError, error, reason);
  }

  private async deadLetterUndecodable(
    entry: MessageId,
    section: PayloadSection,
    redeliveryCount: number,
    validationError: number,
    error: PulsarError,
    reason: string,
  ): Promise<void> {
    const topic = this.deadLetterTopic as string;
    const metadata = section.metadata;
    const batched = Object.prototype.hasOwnProperty.call(metadata, 'numMessagesInBatch');
    let deadLetterMessageId: MessageId;
    try {
      const producer = await this.getDeadLetterProducer(topic);
      deadLetterMessageId = await producer.send({
        // As received: possibly compressed, possibly a whole batch (see the properties).
        payload: section.payload,
        ...(metadata.partitionKey === undefined || metadata.partitionKey === null
          ? {}
          : { key: metadata.partitionKey }),
        properties: {
          ...(batched ? {} : fromKeyValues(metadata.properties)),
          REAL_TOPIC: this.deps.parentTopic ?? this.topic,
          REAL_SUBSCRIPTION: this.subscription,
          ORIGIN_MESSAGE_ID: entry.toString(),
          DEAD_LETTER_REASON: reason,
          REDELIVERY_COUNT: String(redeliveryCount),
          PULSAR_COMPRESSION: codecName(metadata.compression ?? 0),
          PULSAR_UNCOMPRESSED_SIZE: String(metadata.uncompressedSize ?? section.payload.length),
          ...(batched ? { PULSAR_NUM_MESSAGES_IN_BATCH: String(metadata.numMessagesInBatch ?? 0) } : {}),
        },
      });
    } catch (err) {
      if (this.state === 'closed' || this.state === 'failed') return;
      const delayMs = this.options.nackRedeliveryDelayMs ?? 60_000;
      this.log.error(
        { messageId: entry.toString(), reason, err, deadLetterTopic: topic, delayMs },
        'could not dead-letter a message that cannot be decoded: it stays unacknowledged and is redelivered',
      );
      this.redeliverEntryLater(entry, delayMs);
      return;
    }
    this.ackEntry(entry, validationError);
    this.log.error(
      {
        messageId: entry.toString(),
        reason,
        deadLetterTopic: topic,
        deadLetterMessageId: deadLetterMessageId.toString(),
      },
      'dead-lettered a message that cannot be decoded',
    );
    this.events.emit('undecodable', {
      topic: this.topic,
      messageId: entry,
      code: error.code,
      reason,
      deadLetterTopic: topic,
      deadLetterMessageId,
    } satisfies UndecodableEvent);
  }

  /** Individual ack of a whole entry, with a validation error (the broker logs it). */
  private ackEntry(entry: MessageId, validationError: number): void {
    this.cnx?.send({
      type: CommandType.ACK,
      ack: {
        consumerId: this.consumerId,
        ackType: proto.CommandAck.AckType.Individual,
        messageId: [entry.toEntryData()],
        validationError,
      },
    });
  }

  private redeliverEntryLater(entry: MessageId, delayMs: number): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.state !== 'ready' || !this.cnx) return;
      if (this.type === 'shared' || this.type === 'key-shared') {
        this.cnx.send({
          type: CommandType.REDELIVER_UNACKNOWLEDGED_MESSAGES,
          redeliverUnacknowledgedMessages: { consumerId: this.consumerId, messageIds: [entry.toEntryData()] },
        });
      } else {
        this.redeliverAll();
      }
    }, delayMs);
    this.retryTimers.add(timer);
  }

  private getDeadLetterProducer(topic: string): Promise<Producer> {
    if (!this.deadLetterProducer) {
      this.deadLetterProducer = this.deps.createProducer({ topic, batching: false });
      this.deadLetterProducer.catch(() => (this.deadLetterProducer = undefined));
    }
    return this.deadLetterProducer;
  }

  // ---- acknowledging ----------------------------------------------------------------------

  private checkOwned(message: Message): void {
    if (ReceivedMessage.ownerOf(message) !== this)
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `message ${message.messageId.toString()} was not received by this consumer`,
      );
  }

  async ack(message: Message): Promise<void> {
    this.checkOwned(message);
    const id = message.messageId;
    this.forget(id);
    if (id.batchIndex < 0) {
      this.queueAck(id.toEntryData());
      return;
    }
    const tracker = this.batchAcks.get(id.entryKey());
    if (!tracker) return; // the whole batch was acked already
    tracker.acked.add(id.batchIndex);
    if (tracker.acked.size >= tracker.size) {
      this.batchAcks.delete(id.entryKey());
      this.queueAck(id.toEntryData());
    } else if (this.batchIndexAck) {
      this.queueAck({ ...id.toEntryData(), ackSet: ackSetForWire(unackedSet(tracker.size, tracker.acked)) });
    }
  }

  async ackCumulative(message: Message): Promise<void> {
    this.checkOwned(message);
    if (this.type === 'shared' || this.type === 'key-shared') {
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `cumulative ack is not allowed on a ${this.type} subscription`,
      );
    }
    const id = message.messageId;
    this.ackTimeout?.removeWhere((m) => m.messageId.compareTo(id) <= 0);
    for (const [key] of this.localRedeliveries) {
      if (MessageId.parse(key).compareTo(id) <= 0) this.localRedeliveries.delete(key);
    }
    let target: MessageIdData | undefined = id.toEntryData();
    if (id.batchIndex >= 0) {
      const tracker = this.batchAcks.get(id.entryKey());
      if (tracker) for (let i = 0; i <= id.batchIndex; i++) tracker.acked.add(i);
      const complete = !tracker || tracker.acked.size >= tracker.size;
      if (complete) this.batchAcks.delete(id.entryKey());
      else if (this.batchIndexAck) {
        // Everything before this entry, and in it the indexes up to this one.
        const upTo = new Set(Array.from({ length: id.batchIndex + 1 }, (_, i) => i));
        target.ackSet = ackSetForWire(unackedSet(tracker.size, upTo));
      }
      // Not the whole batch yet: acknowledge everything before this entry.
      else target = id.entryId > 0 ? { ledgerId: id.ledgerId, entryId: id.entryId - 1 } : undefined;
    }
    for (const [key] of this.batchAcks) {
      const [ledger, entry] = key.split(':').map(Number);
      if (ledger < id.ledgerId || (ledger === id.ledgerId && entry < id.entryId)) this.batchAcks.delete(key);
    }
    if (target)
      this.cnx?.send({
        type: CommandType.ACK,
        ack: {
          consumerId: this.consumerId,
          ackType: proto.CommandAck.AckType.Cumulative,
          messageId: [target],
        },
      });
  }

  nack(message: Message, options?: NackOptions): void {
    this.checkOwned(message);
    const key = message.messageId.toString();
    this.ackTimeout?.remove(key);
    this.nacks.add(key, options === undefined ? { message } : { message, options });
  }

  /** Stops tracking an acked message. */
  private forget(id: MessageId): void {
    if (this.nacks.size === 0 && this.localRedeliveries.size === 0 && !this.ackTimeout?.size) return;
    const key = id.toString();
    this.ackTimeout?.remove(key);
    this.nacks.remove(key);
    this.localRedeliveries.delete(key);
  }

  private queueAck(id: MessageIdData): void {
    const key = `${id.ledgerId}:${id.entryId}`;
    this.pendingAcks.delete(key); // keep insertion order = order of the latest ack
    this.pendingAcks.set(key, id);
    // Disconnected for long: drop the oldest (the broker redelivers them: at-least-once).
    if (this.pendingAcks.size > MAX_TRACKED)
      this.pendingAcks.delete(this.pendingAcks.keys().next().value as string);
    if (!this.ackFlushScheduled) {
      this.ackFlushScheduled = true;
      setImmediate(() => {
        this.ackFlushScheduled = false;
        this.flushAcks();
      });
    }
  }

  /** Sends the acks collected since the last flush in one ACK command. */
  private flushAcks(): void {
    if (this.pendingAcks.size === 0 || this.state !== 'ready' || !this.cnx) return;
    const ids = [...this.pendingAcks.values()];
    this.pendingAcks.clear();
    this.cnx.send({
      type: CommandType.ACK,
      ack: { consumerId: this.consumerId, ackType: proto.CommandAck.AckType.Individual, messageId: ids },
    });
  }

  // ---- redelivery and dead letters --------------------------------------------------------

  private async redeliver(items: { message: Message; options?: NackOptions }[]): Promise<void> {
    if (this.state === 'closed' || this.state === 'failed') return;
    const again: Message[] = [];
    const toDeadLetter: { message: Message; options?: NackOptions }[] = [];
    for (const item of items) {
      const key = item.message.messageId.toString();
      const max = this.options.deadLetter?.maxRedeliverCount;
      if (max !== undefined && item.message.redeliveryCount >= max) toDeadLetter.push(item);
      else {
        again.push(item.message);
        this.localRedeliveries.delete(key);
        this.localRedeliveries.set(key, item.message.redeliveryCount + 1);
        if (this.localRedeliveries.size > MAX_TRACKED)
          this.localRedeliveries.delete(this.localRedeliveries.keys().next().value as string);
      }
    }
    const failed = await Promise.all(
      toDeadLetter.map(async ({ message, options }) => {
        try {
          await this.deadLetter(message, options?.deadLetterProperties);
          return undefined;
        } catch (err) {
          this.log.error(
            { err, messageId: message.messageId.toString() },
            'could not publish to the dead-letter topic: redelivering instead',
          );
          return message;
        }
      }),
    );
    for (const m of failed) if (m) again.push(m);
    if (again.length === 0 || this.state !== 'ready' || !this.cnx) return;
    if (this.type === 'shared' || this.type === 'key-shared') {
      const entries = new Map<string, MessageIdData>();
      for (const m of again) entries.set(m.messageId.entryKey(), m.messageId.toEntryData());
      this.cnx.send({
        type: CommandType.REDELIVER_UNACKNOWLEDGED_MESSAGES,
        redeliverUnacknowledgedMessages: { consumerId: this.consumerId, messageIds: [...entries.values()] },
      });
      return;
    }
    this.redeliverAll();
  }

  /**
   * Exclusive/failover subscriptions cannot redeliver single messages: the broker rewinds to the
   * first unacked message. Prefetched messages are dropped (they come again) and the epoch
   * makes us ignore those already in flight.
   */
  private redeliverAll(): void {
    if (!this.cnx) return;
    this.consumerEpoch++;
    const dropped = this.dropQueued();
    this.ackTimeout?.clear();
    this.cnx.send({
      type: CommandType.REDELIVER_UNACKNOWLEDGED_MESSAGES,
      redeliverUnacknowledgedMessages: { consumerId: this.consumerId, consumerEpoch: this.consumerEpoch },
    });
    this.returnPermits(dropped);
  }

  async deadLetter(message: Message, properties?: Record<string, string>): Promise<MessageId> {
    this.checkOwned(message);
    if (!this.deadLetterTopic)
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        'no dead-letter topic configured (deadLetter policy)',
      );
    const topic = this.deadLetterTopic;
    const producer = await this.getDeadLetterProducer(topic);
    const id = await producer.send({
      payload: message.payload,
      ...(message.key === undefined ? {} : { key: message.key }),
      ...(message.eventTime === undefined ? {} : { eventTime: message.eventTime }),
      properties: {
        ...message.properties,
        REAL_TOPIC: this.deps.parentTopic ?? this.topic,
        ORIGIN_MESSAGE_ID: message.messageId.toString(),
        ...(properties ?? {}),
      },
    });
    await this.ack(message);
    this.log.info(
      {
        messageId: message.messageId.toString(),
        deadLetterTopic: topic,
        redeliveryCount: message.redeliveryCount,
      },
      'message dead-lettered',
    );
    this.events.emit('deadLetter', {
      message,
      deadLetterTopic: topic,
      deadLetterMessageId: id,
    } satisfies DeadLetterEvent);
    return id;
  }

  // ---- broker events and connection loss ---------------------------------------------------

  onActiveConsumerChange(isActive: boolean): void {
    this.isActive = isActive;
    this.events.emit('activeChange', isActive, this.topic);
  }

  onReachedEndOfTopic(): void {
    this.events.emit('endOfTopic', this.topic);
  }

  onClosedByBroker(): void {
    this.lostConnection(
      new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `broker closed the consumer on ${this.topic}`),
    );
  }

  onConnectionClosed(cause: PulsarError): void {
    this.lostConnection(cause);
  }

  private lostConnection(cause: PulsarError): void {
    this.cnx?.unregisterConsumer(this.consumerId);
    this.cnx = undefined;
    if (this.state !== 'ready') return;
    this.state = 'connecting';
    // The broker redelivers everything unacked: drop what was prefetched.
    this.dropQueued();
    this.ackTimeout?.clear();
    this.reconnector.start(cause);
  }

  private failPermanently(err: unknown): void {
    this.state = 'failed';
    this.failure = err;
    this.stopTimers();
    this.log.error({ err }, 'consumer failed permanently');
    if (this.ownsQueue)
      this.queue.close(
        new PulsarError(
          PulsarErrorCode.ALREADY_CLOSED,
          `consumer on ${this.topic} failed: ${(err as Error).message}`,
          { cause: err },
        ),
      );
  }

  private stopTimers(): void {
    this.reconnector.stop();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.ackTimeout?.clear();
    this.nacks.clear();
  }

  async unsubscribe(): Promise<void> {
    if (this.state === 'closed')
      throw new PulsarError(PulsarErrorCode.ALREADY_CLOSED, `consumer on ${this.topic} is closed`);
    // The broker drops a non-durable subscription with its consumer, connected or not.
    if (!this.durable) return this.shutdown(true);
    const cnx = this.cnx;
    if (!cnx)
      throw new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `consumer on ${this.topic} is not connected`);
    await cnx.request((requestId) => ({
      type: CommandType.UNSUBSCRIBE,
      unsubscribe: { consumerId: this.consumerId, requestId },
    }));
    await this.shutdown(false);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await this.shutdown(true);
  }

  private async shutdown(sendClose: boolean): Promise<void> {
    this.flushAcks();
    const cnx = this.cnx;
    this.state = 'closed';
    this.cnx = undefined;
    this.stopTimers();
    if (this.ownsQueue) this.queue.close();
    else this.dropQueued();
    if (cnx && !cnx.closed && sendClose) {
      try {
        await cnx.request((requestId) => ({
          type: CommandType.CLOSE_CONSUMER,
          closeConsumer: { consumerId: this.consumerId, requestId },
        }));
      } catch (err) {
        this.log.debug({ err }, 'CLOSE_CONSUMER failed (connection gone)');
      }
    }
    cnx?.unregisterConsumer(this.consumerId);
    const dlq = this.deadLetterProducer;
    this.deadLetterProducer = undefined;
    if (dlq) await dlq.then((p) => p.close()).catch(() => undefined);
  }
}

export function payloadBytes(message: Message): number {
  return message.payload.length;
}

/** A message's properties, or undefined when it has none (ReceivedMessage shares one empty object). */
function propertiesOf(list: readonly KeyValue[] | null | undefined): Record<string, string> | undefined {
  return list && list.length > 0 ? fromKeyValues(list) : undefined;
}

function asPulsarError(err: unknown, code: string): PulsarError {
  return err instanceof PulsarError
    ? err
    : new PulsarError(code, String((err as Error)?.message ?? err), { cause: err });
}
