/**
 * SingleMessageMetadata, the header of each message inside a batch, encoded and decoded by hand.
 * It is on the hot path of batching (one per message, both ways), where protobufjs's generic
 * codec and its Long-to-number conversion took most of the time. The bytes are the same as the
 * generated codec's (fields in field-number order; tested against it); unknown fields are skipped
 * on decode. 64-bit fields are JS numbers (exact below 2^53, as everywhere in this client).
 *
 *   1 properties (KeyValue: 1 key, 2 value)   2 partition_key   3 payload_size (int32)
 *   4 compacted_out   5 event_time (uint64)   6 partition_key_b64_encoded   7 ordering_key (bytes)
 *   8 sequence_id (uint64)   9 null_value   10 null_partition_key
 */
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import type { KeyValue, SingleMessageMetadata } from './wire';

function varintSize(value: number): number {
  // value >= 0, < 2^53
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function int32Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 128) {
    buf[pos++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

function writeInt32(buf: Uint8Array, pos: number, value: number): number {
  if (value >= 0) return writeVarint(buf, pos, value);
  // Negative int32: sign-extended to 64 bits, 10 bytes.
  let low = value >>> 0;
  for (let i = 0; i < 4; i++) {
    buf[pos++] = (low & 127) | 128;
    low >>>= 7;
  }
  buf[pos++] = (low & 0x0f) | 0x70 | 128;
  for (let i = 0; i < 4; i++) buf[pos++] = 0xff;
  buf[pos++] = 0x01;
  return pos;
}

/**
 * What the producer writes for one message of a batch: properties, partition key, payload size,
 * event time, sequence id (the fields this client sets).
 */
export interface SingleMetadataFields {
  properties: Readonly<Record<string, string>> | undefined;
  partitionKey: string | undefined;
  payloadSize: number;
  eventTime: number | undefined;
  sequenceId: number;
}

/**
 * Bytes of the encoded metadata. The UTF-8 sizes of its strings are pushed to `stringBytes` (in
 * the order `writeSingleMetadata` consumes them); nothing is pushed without properties or key.
 */
export function singleMetadataSize(fields: SingleMetadataFields, stringBytes: number[]): number {
  let size = 0;
  const properties = fields.properties;
  if (properties) {
    for (const key of Object.keys(properties)) {
      const k = Buffer.byteLength(key, 'utf8');
      const v = Buffer.byteLength(properties[key], 'utf8');
      stringBytes.push(k, v);
      const entry = 1 + varintSize(k) + k + 1 + varintSize(v) + v;
      size += 1 + varintSize(entry) + entry;
    }
  }
  if (fields.partitionKey !== undefined) {
    const k = Buffer.byteLength(fields.partitionKey, 'utf8');
    stringBytes.push(k);
    size += 1 + varintSize(k) + k;
  }
  size += 1 + int32Size(fields.payloadSize);
  if (fields.eventTime !== undefined) size += 1 + varintSize(fields.eventTime);
  size += 1 + varintSize(fields.sequenceId);
  return size;
}

function writeString(buf: Buffer, pos: number, text: string, bytes: number): number {
  pos = writeVarint(buf, pos, bytes);
  if (bytes === text.length && bytes < 64) {
    // Short ASCII: faster than a native call.
    for (let i = 0; i < bytes; i++) buf[pos + i] = text.charCodeAt(i);
  } else {
    buf.write(text, pos, bytes, 'utf8');
  }
  return pos + bytes;
}

/**
 * Writes the metadata at `pos` (sizes from `singleMetadataSize`, with the same `stringBytes`);
 * returns the position after it.
 */
export function writeSingleMetadata(
  buf: Buffer,
  pos: number,
  fields: SingleMetadataFields,
  stringBytes: readonly number[],
): number {
  let s = 0;
  const properties = fields.properties;
  if (properties) {
    for (const key of Object.keys(properties)) {
      const k = stringBytes[s++];
      const v = stringBytes[s++];
      buf[pos++] = (1 << 3) | 2;
      pos = writeVarint(buf, pos, 1 + varintSize(k) + k + 1 + varintSize(v) + v);
      buf[pos++] = (1 << 3) | 2;
      pos = writeString(buf, pos, key, k);
      buf[pos++] = (2 << 3) | 2;
      pos = writeString(buf, pos, properties[key], v);
    }
  }
  if (fields.partitionKey !== undefined) {
    buf[pos++] = (2 << 3) | 2;
    pos = writeString(buf, pos, fields.partitionKey, stringBytes[s++]);
  }
  buf[pos++] = 3 << 3;
  pos = writeInt32(buf, pos, fields.payloadSize);
  if (fields.eventTime !== undefined) {
    buf[pos++] = 5 << 3;
    pos = writeVarint(buf, pos, fields.eventTime);
  }
  buf[pos++] = 8 << 3;
  return writeVarint(buf, pos, fields.sequenceId);
}

/** Encodes the metadata on its own. */
export function encodeSingleMetadata(fields: SingleMetadataFields): Buffer {
  const stringBytes: number[] = [];
  const buf = Buffer.allocUnsafe(singleMetadataSize(fields, stringBytes));
  writeSingleMetadata(buf, 0, fields, stringBytes);
  return buf;
}

// ---- decoding ------------------------------------------------------------------------------

function malformed(why: string): PulsarError {
  return new PulsarError(PulsarErrorCode.PROTOCOL_ERROR, `malformed SingleMessageMetadata: ${why}`);
}

/** Decoder state: the buffer and the read position. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint as a number (exact below 2^53). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 127) * scale;
      if (b < 128) return result;
      scale *= 128;
    }
    throw malformed('varint longer than 10 bytes');
  }

  /** An int32 varint (negative values are 10-byte sign-extended). */
  int32(): number {
    const start = this.pos;
    this.varint();
    let low = 0;
    for (let i = 0; i < 5 && start + i < this.pos; i++) low |= (this.buf[start + i] & 127) << (7 * i);
    return low | 0;
  }

  length(): number {
    const n = this.varint();
    if (n > this.end - this.pos) throw malformed(`field of ${n} bytes overruns the message`);
    return n;
  }

  string(): string {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return this.buf.toString('utf8', start, start + n);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const n = this.length(); // (reads the length first: it moves pos)
        this.pos += n;
        return;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw malformed(`wire type ${wireType}`);
    }
    if (this.pos > this.end) throw malformed('truncated field');
  }
}

function readKeyValue(r: Reader): KeyValue {
  const size = r.length();
  const end = r.pos + size;
  let key = '';
  let value = '';
  const inner = new Reader(r.buf, r.pos, end);
  while (inner.pos < end) {
    const tag = inner.varint();
    if (tag === ((1 << 3) | 2)) key = inner.string();
    else if (tag === ((2 << 3) | 2)) value = inner.string();
    else inner.skip(tag & 7);
  }
  r.pos = end;
  return { key, value };
}

/**
 * Decodes the metadata in `buf[start, end)` to a plain object holding only the fields present,
 * like `decodeSingleMessageMetadata` of the generated codec (which also requires payload_size).
 */
export function decodeSingleMetadata(buf: Buffer, start = 0, end = buf.length): SingleMessageMetadata {
  const r = new Reader(buf, start, end);
  const out: SingleMessageMetadata = { payloadSize: 0 };
  let hasPayloadSize = false;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2:
        (out.properties ??= []).push(readKeyValue(r));
        break;
      case (2 << 3) | 2:
        out.partitionKey = r.string();
        break;
      case 3 << 3:
        out.payloadSize = r.int32();
        hasPayloadSize = true;
        break;
      case 4 << 3:
        out.compactedOut = r.varint() !== 0;
        break;
      case 5 << 3:
        out.eventTime = r.varint();
        break;
      case 6 << 3:
        out.partitionKeyB64Encoded = r.varint() !== 0;
        break;
      case (7 << 3) | 2: {
        const n = r.length();
        out.orderingKey = buf.subarray(r.pos, r.pos + n);
        r.pos += n;
        break;
      }
      case 8 << 3:
        out.sequenceId = r.varint();
        break;
      case 9 << 3:
        out.nullValue = r.varint() !== 0;
        break;
      case 10 << 3:
        out.nullPartitionKey = r.varint() !== 0;
        break;
      default:
        if (tag >>> 3 === 0) throw malformed('field number 0');
        r.skip(tag & 7);
    }
  }
  if (!hasPayloadSize) throw malformed('no payload_size (a required field)');
  return out;
}
