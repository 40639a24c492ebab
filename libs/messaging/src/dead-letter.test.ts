import { DeadLetterProperty, deadLetterProperties, defaultDeadLetterTopic } from './dead-letter';

describe('dead letters', () => {
  it("names the default dead-letter topic by Pulsar's convention", () => {
    expect(defaultDeadLetterTopic('persistent://a/b/jobs', 'datagen')).toBe('persistent://a/b/jobs-datagen-DLQ');
  });

  it('keeps the original properties and adds origin and reason, overriding stale ones', () => {
    const properties = deadLetterProperties({
      topic: 'persistent://a/b/jobs',
      subscription: 'datagen',
      messageId: '3:14',
      properties: { experimentId: 'e1', [DeadLetterProperty.DEAD_LETTER_REASON]: 'older reason' },
      reason: 'bad spec',
      redeliveryCount: 4,
    });
    expect(properties).toEqual({
      experimentId: 'e1',
      REAL_TOPIC: 'persistent://a/b/jobs',
      REAL_SUBSCRIPTION: 'datagen',
      ORIGIN_MESSAGE_ID: '3:14',
      DEAD_LETTER_REASON: 'bad spec',
      REDELIVERY_COUNT: '4',
    });
  });
});
