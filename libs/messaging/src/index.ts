export {
  SUBSCRIPTION_TYPES,
  type Bus,
  type DeadLetterInfo,
  type EnsureSubscriptionOptions,
  type IncomingMessage,
  type InitialPosition,
  type MessageHandler,
  type OutgoingMessage,
  type PublishReceipt,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionType,
} from './bus';
export { BusError, BusErrorCode } from './bus-error';
export { RejectMessageError, isRejectMessageError, MESSAGE_REJECTED } from './reject-message-error';
export { DeadLetterProperty, defaultDeadLetterTopic, deadLetterProperties, type DeadLetterOrigin } from './dead-letter';
export {
  resolveSubscribeOptions,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_REDELIVERIES,
  DEFAULT_NACK_REDELIVERY_DELAY_MS,
  type ResolvedSubscribeOptions,
} from './subscribe-options';
export { checkOutgoingMessage, checkTopic } from './message-validation';
export { topicName, Topics, LOGICAL_TOPICS, type LogicalTopic, type TopicsScope } from './topics';
export { MemoryBus, createMemoryBus, type MemoryBusOptions } from './memory-bus';
export { PulsarBus, createPulsarBus, DEFAULT_DEAD_LETTER_SUBSCRIPTION, type PulsarBusOptions } from './pulsar-bus';
export { KEYLESS_KEY_PREFIX } from './keyless-key';
export { openBus, type OpenBusOptions } from './open-bus';
export type { MemorySubscriptionStats } from './memory-subscription';
export { describeBusConformance, type ConformanceHarness, type ConformanceOptions } from './conformance/bus-conformance';
export { waitFor, sleep } from './conformance/wait-for';
