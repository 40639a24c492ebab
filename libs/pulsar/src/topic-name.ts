import { PulsarError, PulsarErrorCode } from './pulsar-error';

const PARTITION_SUFFIX = '-partition-';

/**
 * The full name of a topic: "my-topic" is "persistent://public/default/my-topic",
 * "tenant/ns/my-topic" is "persistent://tenant/ns/my-topic".
 */
export function fullTopicName(topic: string): string {
  const trimmed = topic.trim();
  if (trimmed.length === 0) throw new PulsarError(PulsarErrorCode.INVALID_ARGUMENT, 'topic name is empty');
  const match = /^(persistent|non-persistent):\/\/(.+)$/.exec(trimmed);
  if (match) {
    if (match[2].split('/').length !== 3)
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `invalid topic name "${topic}" (want domain://tenant/namespace/topic)`,
      );
    return trimmed;
  }
  if (trimmed.includes('://'))
    throw new PulsarError(
      PulsarErrorCode.INVALID_ARGUMENT,
      `invalid topic domain in "${topic}" (persistent or non-persistent)`,
    );
  const parts = trimmed.split('/');
  if (parts.length === 1) return `persistent://public/default/${trimmed}`;
  if (parts.length === 3) return `persistent://${trimmed}`;
  throw new PulsarError(
    PulsarErrorCode.INVALID_ARGUMENT,
    `invalid topic name "${topic}" (want topic or tenant/namespace/topic)`,
  );
}

/** Name of partition `index` of a partitioned topic. */
export function partitionTopicName(topic: string, index: number): string {
  return `${fullTopicName(topic)}${PARTITION_SUFFIX}${index}`;
}

/** The partition index encoded in a partition's name, or -1. */
export function partitionIndexOf(topic: string): number {
  const at = topic.lastIndexOf(PARTITION_SUFFIX);
  if (at < 0) return -1;
  const n = Number(topic.slice(at + PARTITION_SUFFIX.length));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}
