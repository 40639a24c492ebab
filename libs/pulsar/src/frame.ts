/**
 * Pulsar frames (all integers big-endian):
 *
 *   simple:  [totalSize:4][commandSize:4][BaseCommand]
 *   payload: [totalSize:4][commandSize:4][BaseCommand]
 *            ([0x0e02][brokerEntryMetadataSize:4][BrokerEntryMetadata])?   (broker to client only)
 *            ([0x0e01][crc32c:4])? [metadataSize:4][MessageMetadata][payload]
 *
 * totalSize counts every byte after itself; the CRC32-C covers metadataSize, metadata and payload.
 */
import { crc32c } from './crc32c';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import {
  type BaseCommand,
  type MessageMetadata,
  decodeBrokerEntryMetadata,
  decodeCommand,
  decodeMessageMetadata,
  encodeCommandBody,
  encodeMessageMetadata,
} from './wire';

export const MAGIC_CRC32C = 0x0e01;
export const MAGIC_BROKER_ENTRY_METADATA = 0x0e02;

/** Pulsar's default maximum message size (5 MiB), used until CONNECTED says otherwise. */
export const DEFAULT_MAX_MESSAGE_SIZE = 5 * 1024 * 1024;
/** Room a frame may take beyond maxMessageSize for the command and metadata (as the broker allows). */
export const FRAME_PADDING = 10 * 1024;

/** The payload part of a payload frame, as received. */
export interface PayloadSection {
  metadata: MessageMetadata;
  /** Raw (possibly compressed, possibly batched) payload. */
  payload: Buffer;
  /** false if the frame carried a checksum that does not match; undefined if it had none. */
  checksumValid?: boolean;
  /** Broker timestamp from broker entry metadata, when present. */
  brokerTimestamp?: number;
}

export interface Frame {
  command: BaseCommand;
  payload?: PayloadSection;
}

function protocolError(message: string, cause?: unknown): PulsarError {
  return new PulsarError(PulsarErrorCode.PROTOCOL_ERROR, message, cause === undefined ? {} : { cause });
}

/** A simple command frame. */
export function encodeCommand(command: BaseCommand): Buffer {
  const body = encodeCommandBody(command);
  const frame = Buffer.allocUnsafe(8 + body.length);
  frame.writeUInt32BE(4 + body.length, 0);
  frame.writeUInt32BE(body.length, 4);
  frame.set(body, 8);
  return frame;
}

/** A payload command frame (SEND): command, magic, CRC32-C, metadata and payload. */
export function encodePayloadCommand(
  command: BaseCommand,
  metadata: MessageMetadata | Uint8Array,
  payload: Uint8Array,
): Buffer {
  return encodePayloadFrame(command, metadata, payload.length, (frame, offset) => frame.set(payload, offset));
}

/**
 * A payload command frame as two buffers to be written one after the other: everything before
 * the payload, and the payload itself, NOT copied (the checksum covers both). For large payloads,
 * where the copy into one frame cost more than the second write.
 */
export function encodePayloadFrameParts(
  command: BaseCommand,
  metadata: MessageMetadata | Uint8Array,
  payload: Uint8Array,
): [Buffer, Buffer] {
  const body = encodeCommandBody(command);
  const meta = metadata instanceof Uint8Array ? metadata : encodeMessageMetadata(metadata);
  const totalSize = 4 + body.length + 2 + 4 + 4 + meta.length + payload.length;
  const head = Buffer.allocUnsafe(4 + 4 + body.length + 2 + 4 + 4 + meta.length);
  let offset = 0;
  head.writeUInt32BE(totalSize, offset);
  head.writeUInt32BE(body.length, (offset += 4));
  head.set(body, (offset += 4));
  head.writeUInt16BE(MAGIC_CRC32C, (offset += body.length));
  const checksumAt = (offset += 2);
  const checksummedAt = (offset += 4);
  head.writeUInt32BE(meta.length, offset);
  head.set(meta, (offset += 4));
  head.writeUInt32BE(crc32c(payload, crc32c(head.subarray(checksummedAt))), checksumAt);
  return [head, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)];
}

/**
 * A payload command frame whose `payloadSize` payload bytes are written in place by
 * `writePayload(frame, offset)` (no intermediate payload buffer), then checksummed.
 */
export function encodePayloadFrame(
  command: BaseCommand,
  metadata: MessageMetadata | Uint8Array,
  payloadSize: number,
  writePayload: (frame: Buffer, offset: number) => void,
): Buffer {
  const body = encodeCommandBody(command);
  const meta = metadata instanceof Uint8Array ? metadata : encodeMessageMetadata(metadata);
  const checksummedSize = 4 + meta.length + payloadSize;
  const totalSize = 4 + body.length + 2 + 4 + checksummedSize;
  const frame = Buffer.allocUnsafe(4 + totalSize);
  let offset = 0;
  frame.writeUInt32BE(totalSize, offset);
  frame.writeUInt32BE(body.length, (offset += 4));
  frame.set(body, (offset += 4));
  frame.writeUInt16BE(MAGIC_CRC32C, (offset += body.length));
  const checksumAt = (offset += 2);
  const checksummedAt = (offset += 4);
  frame.writeUInt32BE(meta.length, offset);
  frame.set(meta, (offset += 4));
  writePayload(frame, (offset += meta.length));
  frame.writeUInt32BE(crc32c(frame.subarray(checksummedAt)), checksumAt);
  return frame;
}

/** Decodes one frame given its bytes AFTER the totalSize field. */
export function decodeFrame(body: Buffer): Frame {
  if (body.length < 4) throw protocolError(`frame of ${body.length} bytes is too short`);
  const commandSize = body.readUInt32BE(0);
  if (commandSize > body.length - 4)
    throw protocolError(`command size ${commandSize} exceeds frame size ${body.length}`);
  let command: BaseCommand;
  try {
    command = decodeCommand(body.subarray(4, 4 + commandSize));
  } catch (err) {
    throw protocolError('malformed BaseCommand', err);
  }
  const offset = 4 + commandSize;
  if (offset === body.length) return { command };
  return { command, payload: decodePayloadSection(body, offset) };
}

function decodePayloadSection(body: Buffer, start: number): PayloadSection {
  let offset = start;
  let brokerTimestamp: number | undefined;
  const need = (n: number, what: string): void => {
    if (offset + n > body.length) throw protocolError(`truncated payload frame: no room for ${what}`);
  };
  need(2, 'magic');
  if (body.readUInt16BE(offset) === MAGIC_BROKER_ENTRY_METADATA) {
    need(6, 'broker entry metadata size');
    const size = body.readUInt32BE(offset + 2);
    offset += 6;
    need(size, 'broker entry metadata');
    try {
      const entry = decodeBrokerEntryMetadata(body.subarray(offset, offset + size));
      if (typeof entry.brokerTimestamp === 'number') brokerTimestamp = entry.brokerTimestamp;
    } catch (err) {
      throw protocolError('malformed BrokerEntryMetadata', err);
    }
    offset += size;
  }
  let checksumValid: boolean | undefined;
  need(2, 'magic');
  if (body.readUInt16BE(offset) === MAGIC_CRC32C) {
    need(6, 'checksum');
    const expected = body.readUInt32BE(offset + 2);
    offset += 6;
    checksumValid = crc32c(body.subarray(offset)) === expected;
  }
  need(4, 'metadata size');
  const metadataSize = body.readUInt32BE(offset);
  offset += 4;
  need(metadataSize, 'metadata');
  let metadata: MessageMetadata;
  try {
    metadata = decodeMessageMetadata(body.subarray(offset, offset + metadataSize));
  } catch (err) {
    throw protocolError('malformed MessageMetadata', err);
  }
  const payload = body.subarray(offset + metadataSize);
  const section: PayloadSection = { metadata, payload };
  if (checksumValid !== undefined) section.checksumValid = checksumValid;
  if (brokerTimestamp !== undefined) section.brokerTimestamp = brokerTimestamp;
  return section;
}
