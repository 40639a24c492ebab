import { crc32c } from './crc32c';
import {
  MAGIC_BROKER_ENTRY_METADATA,
  MAGIC_CRC32C,
  decodeFrame,
  encodeCommand,
  encodePayloadCommand,
  encodePayloadFrame,
  encodePayloadFrameParts,
} from './frame';
import { FrameDecoder } from './frame-decoder';
import { PulsarError } from './pulsar-error';
import { CommandType, type BaseCommand, encodeCommandBody, encodeMessageMetadata, proto } from './wire';

const ping: BaseCommand = { type: CommandType.PING, ping: {} };
const send: BaseCommand = { type: CommandType.SEND, send: { producerId: 3, sequenceId: 42, numMessages: 1 } };
const metadata = { producerName: 'p', sequenceId: 42, publishTime: 1_700_000_000_000, partitionKey: 'k' };

describe('simple command frames', () => {
  it('are [totalSize][commandSize][command]', () => {
    const frame = encodeCommand(ping);
    const body = encodeCommandBody(ping);
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(frame.readUInt32BE(4)).toBe(body.length);
    expect(frame.subarray(8)).toEqual(Buffer.from(body));
    expect(decodeFrame(frame.subarray(4))).toEqual({ command: { type: CommandType.PING, ping: {} } });
  });

  it('omit unset optional fields and keep 64-bit ids', () => {
    const command: BaseCommand = {
      type: CommandType.ACK,
      ack: {
        consumerId: 7,
        ackType: proto.CommandAck.AckType.Individual,
        messageId: [{ ledgerId: 2 ** 40 + 1, entryId: 2 ** 35 + 3 }],
      },
    };
    const decoded = decodeFrame(encodeCommand(command).subarray(4)).command;
    expect(decoded.ack?.messageId?.[0]).toEqual({ ledgerId: 2 ** 40 + 1, entryId: 2 ** 35 + 3, ackSet: [] });
    // partition and batch_index were not set: they are absent, not defaulted.
    expect(decoded.ack?.messageId?.[0]).not.toHaveProperty('partition');
    expect(decoded.ack).not.toHaveProperty('validationError');
  });
});

describe('payload frames', () => {
  it('have magic 0x0e01 and a CRC32-C over metadata size, metadata and payload', () => {
    const payload = Buffer.from('hello pulsar');
    const frame = encodePayloadCommand(send, metadata, payload);
    const commandSize = frame.readUInt32BE(4);
    const at = 8 + commandSize;
    expect(frame.readUInt16BE(at)).toBe(MAGIC_CRC32C);
    expect(frame.readUInt32BE(at + 2)).toBe(crc32c(frame.subarray(at + 6)));
    const metaSize = frame.readUInt32BE(at + 6);
    expect(Buffer.from(encodeMessageMetadata(metadata))).toEqual(frame.subarray(at + 10, at + 10 + metaSize));
    expect(frame.subarray(at + 10 + metaSize).toString()).toBe('hello pulsar');
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);

    const decoded = decodeFrame(frame.subarray(4));
    expect(decoded.command.send).toEqual({ producerId: 3, sequenceId: 42, numMessages: 1 });
    expect(decoded.payload?.checksumValid).toBe(true);
    expect(decoded.payload?.metadata).toMatchObject(metadata);
    expect(decoded.payload?.payload.toString()).toBe('hello pulsar');
  });

  it('are the same bytes whether written whole, in place, or as header + uncopied payload', () => {
    const payload = Buffer.alloc(70_001);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const whole = encodePayloadCommand(send, metadata, payload);
    const inPlace = encodePayloadFrame(send, metadata, payload.length, (frame, at) =>
      payload.copy(frame, at),
    );
    const parts = encodePayloadFrameParts(send, metadata, payload);
    expect(inPlace.equals(whole)).toBe(true);
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
    expect(parts[1].buffer).toBe(payload.buffer); // not copied
    expect(decodeFrame(Buffer.concat(parts).subarray(4)).payload?.checksumValid).toBe(true);
  });

  it('detect a corrupted payload', () => {
    const frame = encodePayloadCommand(send, metadata, Buffer.from('hello pulsar'));
    frame[frame.length - 1] ^= 1;
    expect(decodeFrame(frame.subarray(4)).payload?.checksumValid).toBe(false);
  });

  it('accept frames without checksum and with broker entry metadata', () => {
    const body = Buffer.from(encodeCommandBody(send));
    const meta = Buffer.from(encodeMessageMetadata(metadata));
    const entry = Buffer.from(
      proto.BrokerEntryMetadata.encode({ brokerTimestamp: 1_700_000_000_123, index: 5 }).finish(),
    );
    const u32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const u16 = (n: number): Buffer => {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(n);
      return b;
    };
    const rest = Buffer.concat([
      u32(body.length),
      body,
      u16(MAGIC_BROKER_ENTRY_METADATA),
      u32(entry.length),
      entry,
      u32(meta.length),
      meta,
      Buffer.from('x'),
    ]);
    const decoded = decodeFrame(rest);
    expect(decoded.payload?.checksumValid).toBeUndefined();
    expect(decoded.payload?.brokerTimestamp).toBe(1_700_000_000_123);
    expect(decoded.payload?.payload.toString()).toBe('x');
  });

  it('reject a truncated frame with a protocol error', () => {
    const frame = encodePayloadCommand(send, metadata, Buffer.alloc(0));
    const truncated = frame.subarray(4, frame.length - 3);
    expect(() => decodeFrame(truncated)).toThrow(PulsarError);
  });
});

describe('FrameDecoder', () => {
  const frames = [
    encodeCommand(ping),
    encodePayloadCommand(send, metadata, Buffer.from('a'.repeat(300))),
    encodeCommand({ type: CommandType.PONG, pong: {} }),
  ];
  const stream = Buffer.concat(frames);

  it('decodes several frames from one chunk', () => {
    const out = new FrameDecoder(1 << 20).push(stream);
    expect(out.map((f) => f.command.type)).toEqual([CommandType.PING, CommandType.SEND, CommandType.PONG]);
    expect(out[1].payload?.payload.length).toBe(300);
  });

  it('decodes frames split at every possible position and byte by byte', () => {
    for (let split = 1; split < stream.length; split += 7) {
      const decoder = new FrameDecoder(1 << 20);
      const out = [...decoder.push(stream.subarray(0, split)), ...decoder.push(stream.subarray(split))];
      expect(out.map((f) => f.command.type)).toEqual([CommandType.PING, CommandType.SEND, CommandType.PONG]);
      expect(decoder.pendingBytes).toBe(0);
    }
    const decoder = new FrameDecoder(1 << 20);
    const out = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(out.map((f) => f.command.type)).toEqual([CommandType.PING, CommandType.SEND, CommandType.PONG]);
    expect(out[1].payload?.checksumValid).toBe(true);
  });

  it('keeps a partial frame until the rest arrives', () => {
    const decoder = new FrameDecoder(1 << 20);
    expect(decoder.push(stream.subarray(0, 2))).toEqual([]);
    expect(decoder.pendingBytes).toBe(2);
  });

  it('rejects a frame larger than the maximum', () => {
    const decoder = new FrameDecoder(100);
    expect(() => decoder.push(frames[1])).toThrow(/exceeds the maximum of 100/);
  });
});
