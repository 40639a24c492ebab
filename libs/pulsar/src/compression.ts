/**
 * Payload codecs. Pulsar compresses the whole (possibly batched) payload and records the codec
 * and the uncompressed size in MessageMetadata.
 *
 * - ZLIB: zlib-wrapped deflate (java.util.zip.Deflater; Java leaves the stream unfinished), via node:zlib.
 * - LZ4: the raw LZ4 block format (lz4-block.ts).
 * - SNAPPY: raw Snappy block, read only (snappy-block.ts).
 * - ZSTD: read only, and only where node:zlib has zstd (Node >= 22.15); on Node 20 a pure-JS
 *   decoder package would be needed.
 */
import * as zlib from 'node:zlib';
import { lz4Compress, lz4Decompress } from './lz4-block';
import { PulsarError, PulsarErrorCode } from './pulsar-error';
import { snappyDecompress } from './snappy-block';
import { proto } from './wire';

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

function codecName(type: number): string {
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

/** True when this Node can read ZSTD payloads. */
export function zstdAvailable(): boolean {
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
        const fn = (zlib as unknown as ZstdZlib).zstdDecompressSync;
        if (!fn)
          throw new PulsarError(
            PulsarErrorCode.UNSUPPORTED_COMPRESSION,
            'ZSTD payloads need Node >= 22.15 (node:zlib zstd) or a pure-JS decoder',
          );
        out = fn(data, { maxOutputLength: Math.max(1, uncompressedSize) });
        break;
      }
      default:
        throw new PulsarError(
          PulsarErrorCode.UNSUPPORTED_COMPRESSION,
          `unknown compression ${codecName(type)}`,
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
