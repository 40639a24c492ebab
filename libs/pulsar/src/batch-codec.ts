/**
 * The payload of a batch entry: for each message, [singleMetadataSize:4][SingleMessageMetadata]
 * [payload], concatenated (then compressed as a whole). MessageMetadata.num_messages_in_batch
 * says how many there are.
 */
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { type SingleMessageMetadata, decodeSingleMessageMetadata, encodeSingleMessageMetadata } from './wire';

export interface BatchItem {
  metadata: SingleMessageMetadata;
  payload: Buffer;
}

/** Serializes one message of a batch (its metadata's payloadSize is set from `payload`). */
export function encodeBatchItem(
  metadata: Omit<SingleMessageMetadata, 'payloadSize'>,
  payload: Uint8Array,
): Buffer {
  const meta = encodeSingleMessageMetadata({ ...metadata, payloadSize: payload.length });
  const out = Buffer.allocUnsafe(4 + meta.length + payload.length);
  out.writeUInt32BE(meta.length, 0);
  out.set(meta, 4);
  out.set(payload, 4 + meta.length);
  return out;
}

/** Splits an (uncompressed) batch payload into its `count` messages. */
export function decodeBatch(payload: Buffer, count: number): BatchItem[] {
  const items: BatchItem[] = [];
  let offset = 0;
  const fail = (why: string, cause?: unknown): never => {
    throw new PulsarError(
      PulsarErrorCode.PROTOCOL_ERROR,
      `malformed batch (message ${items.length} of ${count}): ${why}`,
      cause === undefined ? {} : { cause },
    );
  };
  for (let i = 0; i < count; i++) {
    if (offset + 4 > payload.length) fail('truncated metadata size');
    const metaSize = payload.readUInt32BE(offset);
    offset += 4;
    if (offset + metaSize > payload.length) fail('truncated metadata');
    let metadata: SingleMessageMetadata;
    try {
      metadata = decodeSingleMessageMetadata(payload.subarray(offset, offset + metaSize));
    } catch (err) {
      return fail('bad SingleMessageMetadata', err);
    }
    offset += metaSize;
    const size = metadata.payloadSize;
    if (size < 0 || offset + size > payload.length) fail(`payload size ${size} out of bounds`);
    items.push({ metadata, payload: payload.subarray(offset, offset + size) });
    offset += size;
  }
  return items;
}
