/**
 * Payload codecs. Pulsar compresses the whole (possibly batched) payload and records the codec
 * and the uncompressed size in MessageMetadata.
 *
 * - ZLIB: zlib-wrapped deflate (java.util.zip.Deflater; Java leaves the stream unfinished), via node:zlib.
 * - LZ4: the raw LZ4 block format (lz4-block.ts).
 * - SNAPPY: raw Snappy block, read only (snappy-block.ts).
 * - ZSTD: read only; node:zlib's zstd where it exists (Node >= 22.15), else the pure-JS decoder
 *   in zstd-read.ts.
 * - Anything else: UNSUPPORTED_COMPRESSION (the consumer dead-letters or discards such a message).
 */
import * as zlib from 'node:zlib';
import { lz4Compress, lz4Decompress } from './lz4-block';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { snappyDecompress } from './snappy-block';
import { proto } from './wire';
import { zstdDecompress } from './zstd-read';

/** Codecs a producer can write. */
export type CompressionName = 'none' | 'zlib' | 'lz4';

export const CompressionType = proto.CompressionType;
export type CompressionType = (typeof proto.CompressionType)[keyof typeof proto.CompressionType];

export function compressionTypeOf(name: CompressionName): CompressionType {
  switch (name) {
    case 'none':
      return CompressionType.NONE;
    case 'zlib':
      return CompressionType.ZLIB;
    case 'lz4':
      return CompressionType.LZ4;
    default:
      throw new PulsarError(
        PulsarErrorCode.INVALID_ARGUMENT,
        `unknown compression "${String(name)}" (none, zlib, lz4)`,
      );
  }
}

/** "LZ4", "ZSTD", … or "codec <n>" for a number this client does not know. */
export function codecName(type: number): string {
  return (proto.CompressionType as unknown as Record<number, string | undefined>)[type] ?? `codec ${type}`;
}

export function compress(type: CompressionType, data: Uint8Array): Buffer {
  switch (type) {
    case CompressionType.NONE:
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    case CompressionType.ZLIB:
      return zlib.deflateSync(data);
    case CompressionType.LZ4:
      return lz4Compress(data);
    default:
      throw new PulsarError(
        PulsarErrorCode.UNSUPPORTED_COMPRESSION,
        `cannot compress with ${codecName(type)}`,
      );
  }
}

type ZstdZlib = { zstdDecompressSync?: (data: Uint8Array, options?: { maxOutputLength?: number }) => Buffer };

/** True when node:zlib has a native zstd decoder (Node >= 22.15); the pure-JS one is used otherwise. */
export function nativeZstdAvailable(): boolean {
  return typeof (zlib as unknown as ZstdZlib).zstdDecompressSync === 'function';
}

/**
 * Decompresses a payload to exactly `uncompressedSize` bytes. The size bounds the memory used, so
 * a corrupt or hostile payload cannot inflate without limit.
 */
export function decompress(type: number, data: Uint8Array, uncompressedSize: number): Buffer {
  let out: Buffer;
  try {
    switch (type) {
      case CompressionType.NONE:
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      case CompressionType.ZLIB:
        // The Java client deflates with SYNC_FLUSH and never finishes the stream (no final block,
        // no Adler-32 trailer): accept a stream that just stops at a flush point.
        out = zlib.inflateSync(data, {
          maxOutputLength: Math.max(1, uncompressedSize),
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
        });
        break;
      case CompressionType.LZ4:
        out = lz4Decompress(data, uncompressedSize);
        break;
      case CompressionType.SNAPPY:
        out = snappyDecompress(data);
        break;
      case CompressionType.ZSTD: {
        const native = (zlib as unknown as ZstdZlib).zstdDecompressSync;
        out = native
          ? native(data, { maxOutputLength: Math.max(1, uncompressedSize) })
          : zstdDecompress(data, uncompressedSize);
        break;
      }
      default:
        throw new PulsarError(
          PulsarErrorCode.UNSUPPORTED_COMPRESSION,
          `unknown compression ${codecName(type)}: this client reads NONE, LZ4, ZLIB, ZSTD and SNAPPY`,
          { details: { compression: type } },
        );
    }
  } catch (err) {
    if (err instanceof PulsarError) throw err;
    throw new PulsarError(
      PulsarErrorCode.COMPRESSION_ERROR,
      `cannot decompress ${codecName(type)} payload: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (out.length !== uncompressedSize) {
    throw new PulsarError(
      PulsarErrorCode.COMPRESSION_ERROR,
      `${codecName(type)} payload decompressed to ${out.length} bytes, metadata says ${uncompressedSize}`,
    );
  }
  return out;
}
