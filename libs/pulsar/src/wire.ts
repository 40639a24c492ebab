/**
 * The one adapter between this client and the protobufjs types generated from
 * proto/pulsar/pulsar-api.proto. Everything else imports `proto` and the codec helpers from here.
 *
 * `@surrogate/proto`'s index does not re-export the `pulsar` namespace yet; once it does, replace
 * the import below with `import { pulsar } from '@surrogate/proto'`.
 *
 * 64-bit fields: with `long` installed protobufjs decodes uint64/int64 as Long objects whatever
 * the --force-number flag says, and absent fields read through to Long defaults on the prototype.
 * `decode*` below therefore return PLAIN objects holding only the fields present on the wire,
 * with every 64-bit integer converted to a JS number. 2^53 is far beyond any ledger id, entry id,
 * sequence id or request id a client meets in practice. The one exception is `ackSet` (a bit set
 * stored in int64 words), kept as exact 32-bit halves: see `AckSetWord`.
 */
import { pulsar } from '@surrogate/proto';

export const proto = pulsar.proto;
export type BaseCommand = pulsar.proto.IBaseCommand;
export type MessageMetadata = pulsar.proto.IMessageMetadata;
export type SingleMessageMetadata = pulsar.proto.ISingleMessageMetadata;
export type MessageIdData = pulsar.proto.IMessageIdData;
export type KeyValue = pulsar.proto.IKeyValue;
export const CommandType = pulsar.proto.BaseCommand.Type;
export type CommandType = pulsar.proto.BaseCommand.Type;

/** One int64 word of an ack set, as protobufjs reads and writes it: exact low/high halves. */
export interface AckSetWord {
  low: number;
  high: number;
}

function isLong(value: unknown): value is { low: number; high: number; unsigned: boolean } {
  return (
    typeof value === 'object' && value !== null && 'low' in value && 'high' in value && 'unsigned' in value
  );
}

function longToNumber(value: { low: number; high: number; unsigned: boolean }): number {
  const high = value.unsigned ? value.high >>> 0 : value.high | 0;
  return high * 0x100000000 + (value.low >>> 0);
}

const BINARY = (value: unknown): value is Uint8Array => value instanceof Uint8Array;

/**
 * A plain copy of a decoded protobufjs message: own (present) fields only, 64-bit integers as
 * numbers, ack sets as exact words. Exported for tests.
 */
export function plain(value: unknown, key = ''): unknown {
  if (isLong(value))
    return key === 'ackSet' ? { low: value.low | 0, high: value.high | 0 } : longToNumber(value);
  if (typeof value === 'number' && key === 'ackSet') return numberToWord(value);
  if (Array.isArray(value)) return value.map((item) => plain(item, key));
  if (typeof value !== 'object' || value === null || BINARY(value)) return value;
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(value))
    out[field] = plain((value as Record<string, unknown>)[field], field);
  return out;
}

function numberToWord(value: number): AckSetWord {
  const low = Number(BigInt.asIntN(32, BigInt(value)));
  const high = Number(BigInt.asIntN(32, BigInt(value) >> 32n));
  return { low, high };
}

export function decodeCommand(bytes: Uint8Array): BaseCommand {
  return plain(proto.BaseCommand.decode(bytes)) as BaseCommand;
}

export function decodeMessageMetadata(bytes: Uint8Array): MessageMetadata {
  return plain(proto.MessageMetadata.decode(bytes)) as MessageMetadata;
}

export function decodeSingleMessageMetadata(bytes: Uint8Array): SingleMessageMetadata {
  return plain(proto.SingleMessageMetadata.decode(bytes)) as SingleMessageMetadata;
}

export function decodeBrokerEntryMetadata(bytes: Uint8Array): pulsar.proto.IBrokerEntryMetadata {
  return plain(proto.BrokerEntryMetadata.decode(bytes)) as pulsar.proto.IBrokerEntryMetadata;
}

export function encodeCommandBody(command: BaseCommand): Uint8Array {
  return proto.BaseCommand.encode(command).finish();
}

export function encodeMessageMetadata(metadata: MessageMetadata): Uint8Array {
  return proto.MessageMetadata.encode(metadata).finish();
}

export function encodeSingleMessageMetadata(metadata: SingleMessageMetadata): Uint8Array {
  return proto.SingleMessageMetadata.encode(metadata).finish();
}

/** Ack-set words typed as the generated interfaces expect (protobufjs writes {low, high} exactly). */
export function ackSetForWire(words: readonly AckSetWord[]): number[] {
  return words.map((word) => ({ low: word.low, high: word.high, unsigned: false })) as unknown as number[];
}

/** Ack-set words of a decoded message (see `plain`). */
export function ackSetFromWire(words: readonly unknown[] | null | undefined): AckSetWord[] {
  return (words ?? []) as AckSetWord[];
}

/** The broker's ServerError name for a code (e.g. "AuthenticationError"), or "ServerError<n>". */
export function serverErrorName(code: number | null | undefined): string {
  if (code === null || code === undefined) return 'UnknownError';
  const name = (proto.ServerError as unknown as Record<number, string | undefined>)[code];
  return name ?? `ServerError${code}`;
}

/** Name of a command type, for logs. */
export function commandTypeName(type: number): string {
  return (CommandType as unknown as Record<number, string | undefined>)[type] ?? `COMMAND_${type}`;
}

export function toKeyValues(properties: Readonly<Record<string, string>> | undefined): KeyValue[] {
  return properties ? Object.entries(properties).map(([key, value]) => ({ key, value })) : [];
}

export function fromKeyValues(list: readonly KeyValue[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) out[kv.key] = kv.value;
  return out;
}
