import { BusError, BusErrorCode } from './bus-error';
import { SUBSCRIPTION_TYPES, type DeadLetterInfo, type EnsureSubscriptionOptions, type InitialPosition, type MessageHandler, type SubscribeOptions, type SubscriptionType } from './bus';
import { defaultDeadLetterTopic } from './dead-letter';
import { checkTopic } from './message-validation';

export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_MAX_REDELIVERIES = 5;
export const DEFAULT_NACK_REDELIVERY_DELAY_MS = 1000;
/** Subscription types a non-durable subscription may have (Pulsar's client allows these only). */
export const NON_DURABLE_TYPES: readonly SubscriptionType[] = ['exclusive'];

/** SubscribeOptions checked and with every default filled in; adapters work from this. */
export interface ResolvedSubscribeOptions {
  readonly topic: string;
  readonly subscription: string;
  readonly type: SubscriptionType;
  readonly handler: MessageHandler;
  readonly concurrency: number;
  readonly maxRedeliveries: number;
  readonly deadLetterTopic: string;
  readonly nackRedeliveryDelayMs: number;
  /** 0 = off. */
  readonly ackTimeoutMs: number;
  readonly initialPosition: InitialPosition;
  readonly consumerName?: string;
  readonly durable: boolean;
  /** 0 = none. */
  readonly startRollbackMs: number;
  readonly onDeadLetter?: (info: DeadLetterInfo) => void | Promise<void>;
}

function invalid(message: string, details: Record<string, unknown>): BusError {
  return new BusError(BusErrorCode.INVALID_ARGUMENT, message, { details });
}

function integerAtLeast(name: string, value: number | undefined, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(`${name} must be an integer >= ${min}, got ${String(value)}`, { option: name, value });
  }
  return value;
}

/**
 * Validates the topic, subscription name, type and initial position of `subscribe` and
 * `ensureSubscription` (BusError INVALID_ARGUMENT); the position defaults to 'latest'.
 */
export function resolveSubscriptionTarget(options: EnsureSubscriptionOptions): Required<EnsureSubscriptionOptions> {
  const topic = checkTopic(options.topic);
  if (typeof options.subscription !== 'string' || options.subscription.length === 0) {
    throw invalid('subscription must be a non-empty string', { option: 'subscription', value: options.subscription });
  }
  if (!SUBSCRIPTION_TYPES.includes(options.type)) {
    throw invalid(`type must be one of ${SUBSCRIPTION_TYPES.join(', ')}, got ${String(options.type)}`, { option: 'type', value: options.type });
  }
  const initialPosition = options.initialPosition ?? 'latest';
  if (initialPosition !== 'latest' && initialPosition !== 'earliest') {
    throw invalid(`initialPosition must be 'latest' or 'earliest', got ${String(initialPosition)}`, { option: 'initialPosition', value: initialPosition });
  }
  return { topic, subscription: options.subscription, type: options.type, initialPosition };
}

/** Validates subscribe options (BusError INVALID_ARGUMENT) and applies the defaults of the port. */
export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  const { topic, initialPosition } = resolveSubscriptionTarget(options);
  if (typeof options.handler !== 'function') throw invalid('handler must be a function', { option: 'handler' });
  if (options.onDeadLetter !== undefined && typeof options.onDeadLetter !== 'function') {
    throw invalid('onDeadLetter must be a function', { option: 'onDeadLetter' });
  }
  const durable = options.durable ?? true;
  if (typeof durable !== 'boolean') throw invalid(`durable must be true or false, got ${String(durable)}`, { option: 'durable', value: durable });
  if (!durable && !NON_DURABLE_TYPES.includes(options.type)) {
    throw invalid(`durable: false needs type ${NON_DURABLE_TYPES.join(' or ')}, got ${options.type}: a non-durable subscription follows one consumer's position`, {
      option: 'durable',
      value: durable,
      type: options.type,
    });
  }
  const startRollbackMs = integerAtLeast('startRollbackMs', options.startRollbackMs, 0, 0);
  if (startRollbackMs > 0 && durable) {
    throw invalid(`startRollbackMs (${startRollbackMs}) needs durable: false: a durable subscription keeps its own position`, {
      option: 'startRollbackMs',
      value: startRollbackMs,
    });
  }
  const deadLetterTopic =
    options.deadLetterTopic === undefined ? defaultDeadLetterTopic(topic, options.subscription) : checkTopic(options.deadLetterTopic);
  return {
    topic,
    subscription: options.subscription,
    type: options.type,
    handler: options.handler,
    concurrency: integerAtLeast('concurrency', options.concurrency, 1, DEFAULT_CONCURRENCY),
    maxRedeliveries: integerAtLeast('maxRedeliveries', options.maxRedeliveries, 0, DEFAULT_MAX_REDELIVERIES),
    deadLetterTopic,
    nackRedeliveryDelayMs: integerAtLeast('nackRedeliveryDelayMs', options.nackRedeliveryDelayMs, 0, DEFAULT_NACK_REDELIVERY_DELAY_MS),
    ackTimeoutMs: integerAtLeast('ackTimeoutMs', options.ackTimeoutMs, 0, 0),
    initialPosition,
    consumerName: options.consumerName,
    durable,
    startRollbackMs,
    onDeadLetter: options.onDeadLetter,
  };
}
