import type { Message } from './message';
import type { MessageId } from './message-id';

const NO_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A delivered message: one fixed object shape (the consumer's hot path creates one per message),
 * plus, privately, the consumer that received it, so that acks go back to the right partition
 * and an ack through the wrong consumer is refused.
 */
export class ReceivedMessage implements Message {
  readonly #owner: object;
  readonly properties: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  readonly eventTime: number | undefined;

  constructor(
    owner: object,
    readonly topic: string,
    readonly messageId: MessageId,
    readonly payload: Buffer,
    properties: Readonly<Record<string, string>> | undefined,
    readonly publishTime: number,
    readonly producerName: string,
    readonly sequenceId: number,
    readonly redeliveryCount: number,
    key: string | null | undefined,
    eventTime: number | null | undefined,
  ) {
    this.#owner = owner;
    this.properties = properties ?? NO_PROPERTIES;
    this.key = key ?? undefined;
    // Pulsar writes 0 for "no event time".
    this.eventTime = eventTime ? eventTime : undefined;
  }

  /** The consumer that received `message`, if this client delivered it. */
  static ownerOf(message: Message): object | undefined {
    return message instanceof ReceivedMessage ? message.#owner : undefined;
  }
}
