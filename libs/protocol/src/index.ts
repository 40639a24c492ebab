export { Codecs, type WireCodec } from './wire-codec';
export { EventPublisher, eventKind, type EventBody } from './event-publisher';
export { encodeColumns, decodeColumns } from './chunk-columns';
export { chunkKey, purposeName, purposeValue, type PurposeName } from './chunk-id';
export { deadLetterReporter } from './dead-letter-reporter';
export { newExperimentId } from './experiment-id';
export { followEvents, type EventsFollower } from './events-follower';
export { SERVICE_SUBSCRIPTIONS, DURABLE_CONSUMERS, ensureServiceSubscriptions, type DurableConsumer } from './service-subscriptions';
export { CommandPublisher } from './command-publisher';
