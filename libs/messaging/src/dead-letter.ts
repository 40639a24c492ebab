/** Names of the properties a dead letter carries on top of the original message's properties. */
export const DeadLetterProperty = {
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_SUBSCRIPTION: 'REAL_SUBSCRIPTION',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  DEAD_LETTER_REASON: 'DEAD_LETTER_REASON',
  REDELIVERY_COUNT: 'REDELIVERY_COUNT',
} as const;

/** Pulsar's default dead-letter topic of a subscription. */
export function defaultDeadLetterTopic(topic: string, subscription: string): string {
  return `${topic}-${subscription}-DLQ`;
}

export interface DeadLetterOrigin {
  topic: string;
  subscription: string;
  messageId: string;
  properties: Readonly<Record<string, string>>;
  /** Message of the last error. */
  reason: string;
  /** redeliveryCount of the last delivery. */
  redeliveryCount: number;
}

/** The properties of a dead letter: the original ones plus where it came from and why it died. */
export function deadLetterProperties(origin: DeadLetterOrigin): Record<string, string> {
  return {
    ...origin.properties,
    [DeadLetterProperty.REAL_TOPIC]: origin.topic,
    [DeadLetterProperty.REAL_SUBSCRIPTION]: origin.subscription,
    [DeadLetterProperty.ORIGIN_MESSAGE_ID]: origin.messageId,
    [DeadLetterProperty.DEAD_LETTER_REASON]: origin.reason,
    [DeadLetterProperty.REDELIVERY_COUNT]: String(origin.redeliveryCount),
  };
}
