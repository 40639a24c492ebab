/**
 * The payload of a batch entry: for each message, [singleMetadataSize:4][SingleMessageMetadata]
 * [payload], concatenated (then compressed as a whole). MessageMetadata.num_messages_in_batch
 * says how many there are.
 */
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import {
  type SingleMetadataFields,
  decodeSingleMetadata,
  singleMetadataSize,
  writeSingleMetadata,
} from './single-message-metadata';
import type { SingleMessageMetadata } from './wire';

export interface BatchItem {
  metadata: SingleMessageMetadata;
  payload: Buffer;
}

/** Size of one message in a batch: 4 + its metadata + its payload (string sizes go to `stringBytes`). */
export function batchItemSize(fields: SingleMetadataFields, stringBytes: number[]): number {
  return 4 + singleMetadataSize(fields, stringBytes) + fields.payloadSize;
}

/**
 * Writes one message of a batch at `pos` (`size` and `stringBytes` from `batchItemSize`); returns
 * the position after it.
 */
export function writeBatchItem(
  buf: Buffer,
  pos: number,
  size: number,
  fields: SingleMetadataFields,
  payload: Uint8Array,
  stringBytes: readonly number[],
): number {
  const metaSize = size - 4 - payload.length;
  buf.writeUInt32BE(metaSize, pos);
  const at = writeSingleMetadata(buf, pos + 4, fields, stringBytes);
  if (at !== pos + 4 + metaSize)
    throw new PulsarError(
      PulsarErrorCode.PROTOCOL_ERROR,
      'batch item size changed between sizing and writing',
    );
  buf.set(payload, at);
  return at + payload.length;
}

/** One message of a batch on its own (tests, tools). */
export function encodeBatchItem(
  fields: Omit<SingleMetadataFields, 'payloadSize'>,
  payload: Uint8Array,
): Buffer {
  const full = { ...fields, payloadSize: payload.length };
  const stringBytes: number[] = [];
  const size = batchItemSize(full, stringBytes);
  const out = Buffer.allocUnsafe(size);
  writeBatchItem(out, 0, size, full, payload, stringBytes);
  return out;
}

/** Splits an (uncompressed) batch payload into its `count` messages. */
export function decodeBatch(payload: Buffer, count: number): BatchItem[] {
  const items: BatchItem[] = new Array(count);
  let offset = 0;
  const fail = (index: number, why: string, cause?: unknown): never => {
    throw new PulsarError(
      PulsarErrorCode.PROTOCOL_ERROR,
      `malformed batch (message ${index} of ${count}): ${why}`,
      cause === undefined ? {} : { cause },
    );
  };
  for (let i = 0; i < count; i++) {
    if (offset + 4 > payload.length) fail(i, 'truncated metadata size');
    const metaSize = payload.readUInt32BE(offset);
    offset += 4;
    if (offset + metaSize > payload.length) fail(i, 'truncated metadata');
    let metadata: SingleMessageMetadata;
    try {
      metadata = decodeSingleMetadata(payload, offset, offset + metaSize);
    } catch (err) {
      return fail(i, 'bad SingleMessageMetadata', err);
    }
    offset += metaSize;
    const size = metadata.payloadSize;
    if (size < 0 || offset + size > payload.length) fail(i, `payload size ${size} out of bounds`);
    items[i] = { metadata, payload: payload.subarray(offset, offset + size) };
    offset += size;
  }
  return items;
}
