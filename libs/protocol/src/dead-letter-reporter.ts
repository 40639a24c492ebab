import { errorMessage, type Logger } from '@surrogate/core';
import type { DeadLetterInfo } from '@surrogate/messaging';
import type { EventPublisher } from './event-publisher';

/**
 * The `onDeadLetter` callback every service uses: logs the dead letter and publishes a
 * MessageDeadLettered event saying which message went where and why.
 */
export function deadLetterReporter(events: EventPublisher, log: Logger): (info: DeadLetterInfo) => void {
  return (info) => {
    log.warn({ ...info }, 'message dead-lettered');
    const { topic, subscription, deadLetterTopic, messageId, reason } = info;
    events
      .publish('', { deadLettered: { topic, subscription, deadLetterTopic, messageId, reason } })
      .catch((err: unknown) => {
        log.error({ err: errorMessage(err) }, 'could not publish the dead-letter event');
      });
  };
}
