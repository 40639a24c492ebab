export {
  BROKER_START_TIMEOUT_MS,
  PULSAR_SCRIPT,
  STARTED_MARKER,
  admin,
  adminUrl,
  brokerUrl,
  createPartitionedTopic,
  freshNamespace,
  topicStats,
  uniqueTopic,
  unloadTopic,
} from './real-broker';
export { answersPing, realRedis, startRedisServer, REDIS_START_TIMEOUT_MS, type RealRedis } from './real-redis';
