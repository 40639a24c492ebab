export {
  BROKER_START_TIMEOUT_MS,
  PULSAR_SCRIPT,
  STARTED_MARKER,
  admin,
  adminUrl,
  brokerUrl,
  createPartitionedTopic,
  topicStats,
  uniqueTopic,
  unloadTopic,
} from './real-broker';
