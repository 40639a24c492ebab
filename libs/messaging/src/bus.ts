/**
 * The bus port: the only messaging API services use. Adapters (memory, pulsar) implement `Bus`
 * with the same semantics, checked by the conformance suite (`describeBusConformance`).
 */

/** How a subscription spreads its messages over the consumers attached to it (Pulsar's four types). */
export type SubscriptionType = 'exclusive' | 'shared' | 'failover' | 'key-shared';

export const SUBSCRIPTION_TYPES: readonly SubscriptionType[] = ['exclusive', 'shared', 'failover', 'key-shared'];

export interface OutgoingMessage {
  payload: Uint8Array;
  /** Partition/routing key; key-shared subscriptions keep one key on one consumer. */
  key?: string;
  properties?: Record<string, string>;
}

export interface PublishReceipt {
  /** The id the message carries when it is delivered (`IncomingMessage.messageId`). */
  messageId: string;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly key?: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly messageId: string;
  /** 0 on first delivery. */
  readonly redeliveryCount: number;
  /** ms since epoch. */
  readonly publishTime: number;
}

/** Resolves => ack; throws/rejects => nack (redelivery); throws `RejectMessageError` => dead letter now. */
export type MessageHandler = (message: IncomingMessage) => Promise<void> | void;

/** What `onDeadLetter` is told after a message has been published to its dead-letter topic. */
export interface DeadLetterInfo {
  topic: string;
  subscription: string;
  deadLetterTopic: string;
  /** Id of the original message (also in the dead letter's `ORIGIN_MESSAGE_ID` property). */
  messageId: string;
  /** Message of the last error (also in the dead letter's `DEAD_LETTER_REASON` property). */
  reason: string;
  /** redeliveryCount of the last delivery (0 when a first delivery was rejected). */
  redeliveryCount: number;
  /** Id of the message on the dead-letter topic. */
  deadLetterMessageId: string;
}

export type InitialPosition = 'latest' | 'earliest';

export interface SubscribeOptions {
  topic: string;
  subscription: string;
  type: SubscriptionType;
  handler: MessageHandler;
  /** Max messages in the handler at once for this consumer (default 1). */
  concurrency?: number;
  /** Default 5: a message is delivered at most maxRedeliveries+1 times, then dead-lettered. */
  maxRedeliveries?: number;
  /** Default `${topic}-${subscription}-DLQ` (Pulsar's convention). */
  deadLetterTopic?: string;
  /** Default 1000 ms. */
  nackRedeliveryDelayMs?: number;
  /** 0/undefined = off; a handler still running after this is treated as failed and its message redelivered. */
  ackTimeoutMs?: number;
  /** Where a NEW subscription starts; default 'latest'. An existing subscription keeps its cursor. */
  initialPosition?: InitialPosition;
  consumerName?: string;
  /**
   * Default true: the subscription outlives its consumers and the topic keeps every message it has not
   * acked. false: it lives only as long as its one consumer (exclusive only): closed, or its process
   * killed, the subscription is gone and the topic keeps nothing for it. For a process following a
   * topic from now on under a name of its own. Across a lost broker connection it resumes after the
   * last message handed to the handler (a message whose handler was running then is not redelivered).
   * A durable and a non-durable subscription of one name refuse each other (SUBSCRIPTION_TYPE_MISMATCH).
   */
  durable?: boolean;
  /**
   * Non-durable subscriptions only: start at the messages published at most this long ago that the
   * topic still holds, instead of `initialPosition` (0 = none, default). Pulsar counts whole seconds
   * (rounded up) by the broker's publish time, and holds only what a subscription has not acked or the
   * namespace's retention policy keeps; the memory bus holds the same, plus `retentionMs` of its own.
   */
  startRollbackMs?: number;
  /** Called once a message has been dead-lettered, e.g. to publish an event saying why. Errors are logged, not thrown. */
  onDeadLetter?: (info: DeadLetterInfo) => void | Promise<void>;
}

export interface EnsureSubscriptionOptions {
  topic: string;
  subscription: string;
  /**
   * The type its consumers attach with. The subscription is created by a consumer of this type that
   * takes no messages (on Pulsar, an attached consumer of another type would refuse theirs for that
   * instant): shared, failover (at the lowest priority, never the active one while another is
   * attached) or key-shared (its hash range waits for that instant). Exclusive: a consumer attaching in
   * that instant is refused with SUBSCRIPTION_BUSY, so exclusive subscriptions are better created by
   * their consumer.
   */
  type: SubscriptionType;
  /** Where a NEW subscription starts; default 'latest'. */
  initialPosition?: InitialPosition;
}

export interface Subscription {
  readonly topic: string;
  readonly subscription: string;
  /**
   * Detaches this consumer: it takes no new messages, its in-flight handlers finish (their outcome
   * acks or nacks as usual), and whatever it has not acked goes back to the subscription for other
   * consumers. Idempotent.
   */
  close(): Promise<void>;
  /**
   * Closes this consumer as `close` does, then deletes the subscription (Pulsar's unsubscribe): its
   * cursor and whatever it has not acked are dropped, and the topic keeps nothing more for it. For a
   * subscription that lives only as long as its consumer, e.g. one process following a topic under
   * a name of its own; otherwise the topic would keep every later message for it. Refused with
   * SUBSCRIPTION_BUSY while other consumers are attached (this consumer is closed all the same and
   * the subscription stays), and with CONSUMER_CLOSED once `close` has been called. Idempotent.
   */
  unsubscribe(): Promise<void>;
  /**
   * Resolves once the handler has finished (whatever its outcome) the last message the subscription
   * could deliver when this was called: e.g. a rollback's replay has been read. With concurrency 1,
   * every message before it too. Rejects with CONSUMER_CLOSED if the consumer closes first.
   */
  caughtUp(): Promise<void>;
}

export interface Bus {
  /** Resolves only once the message is accepted (durably, for Pulsar). */
  publish(topic: string, message: OutgoingMessage): Promise<PublishReceipt>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Creates a durable subscription when it does not exist, and leaves no consumer attached: from then
   * on the topic keeps every message published to it for that subscription until a consumer acks it.
   * A topic keeps nothing for a subscription that does not exist yet, so a publisher calls this for
   * its consumers' subscriptions before its first publish; what it publishes then waits for consumers
   * that start later. An existing durable subscription is left as it is (cursor, consumers, and what
   * they were handed); a non-durable one of that name is refused with SUBSCRIPTION_TYPE_MISMATCH.
   */
  ensureSubscription(options: EnsureSubscriptionOptions): Promise<void>;
  /**
   * Closes all subscriptions and waits for in-flight handlers (which may still publish meanwhile),
   * then rejects later use with BUS_CLOSED. Idempotent.
   */
  close(): Promise<void>;
}
