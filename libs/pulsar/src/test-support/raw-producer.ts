import type { Logger } from '@surrogate/core';
import { Connection, type ProducerListener } from '../connection';
import { encodePayloadCommand } from '../frame';
import type { PulsarError } from '../pulsar-error';
import { parseServiceUrl } from '../service-url';
import { type BaseCommand, CommandType, type MessageMetadata } from '../wire';

/**
 * Publishes hand-made entries (any metadata, any payload bytes, optionally a corrupted frame) to
 * the real broker, as a producer the client would never be: for tests of what consumers do with
 * payloads they cannot decode.
 */
export class RawProducer implements ProducerListener {
  private readonly receipts: ((receipt: NonNullable<BaseCommand['sendReceipt']>) => void)[] = [];
  private sequenceId = 0;
  private producerName = '';

  private constructor(
    private readonly cnx: Connection,
    private readonly producerId: number,
  ) {}

  static async create(serviceUrl: string, topic: string, logger: Logger): Promise<RawProducer> {
    const cnx = await Connection.open({
      address: parseServiceUrl(serviceUrl)[0],
      connectTimeoutMs: 10_000,
      operationTimeoutMs: 10_000,
      keepAliveIntervalMs: 30_000,
      logger,
    });
    const raw = new RawProducer(cnx, 1);
    cnx.registerProducer(1, raw);
    try {
      // The lookup makes the (standalone) broker load the topic's bundle.
      await cnx.request((requestId) => ({ type: CommandType.LOOKUP, lookupTopic: { topic, requestId } }));
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await cnx.request((requestId) => ({
            type: CommandType.PRODUCER,
            producer: { topic, producerId: 1, requestId },
          }));
          raw.producerName = response.producerSuccess?.producerName ?? 'raw';
          return raw;
        } catch (err) {
          if (attempt >= 20 || (err as PulsarError).code !== 'ServiceNotReady') throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } catch (err) {
      cnx.close();
      throw err;
    }
  }

  /**
   * Sends one entry; `corrupt` flips a payload byte AFTER the checksum was computed. Resolves
   * with the entry's "ledger:entry" once the broker stored it.
   */
  send(
    metadata: Omit<MessageMetadata, 'producerName' | 'sequenceId' | 'publishTime'>,
    payload: Uint8Array,
    options: { corrupt?: boolean } = {},
  ): Promise<string> {
    const sequenceId = this.sequenceId++;
    const numMessages = metadata.numMessagesInBatch ?? 1;
    const frame = encodePayloadCommand(
      { type: CommandType.SEND, send: { producerId: this.producerId, sequenceId, numMessages } },
      { ...metadata, producerName: this.producerName, sequenceId, publishTime: Date.now() },
      payload,
    );
    if (options.corrupt) frame[frame.length - 1] ^= 0xff;
    return new Promise((resolve) => {
      this.receipts.push((r) => resolve(`${r.messageId?.ledgerId}:${r.messageId?.entryId}`));
      this.cnx.write(frame);
    });
  }

  close(): void {
    this.cnx.close();
  }

  onSendReceipt(receipt: NonNullable<BaseCommand['sendReceipt']>): void {
    this.receipts.shift()?.(receipt);
  }

  onSendError(error: NonNullable<BaseCommand['sendError']>): void {
    throw new Error(`raw send failed: ${JSON.stringify(error)}`);
  }

  onClosedByBroker(): void {}

  onConnectionClosed(_cause: PulsarError): void {}
}
