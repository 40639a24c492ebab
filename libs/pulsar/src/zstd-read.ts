/**
 * Reading ZSTD payloads (RFC 8878 frames) on any Node version: the pure-JS `fzstd` decoder, run in
 * streaming mode so that every decoded block is counted, inside bounds taken from the message
 * metadata.
 *
 * Before decoding, the frames are walked (headers and block headers only) to reject what a
 * Pulsar producer never writes and what would make the decoder allocate without limit:
 * dictionaries, reserved bits, a declared content size larger than the metadata's uncompressed
 * size, a window larger than max(uncompressedSize, 8 MiB), truncated frames. The output must then
 * be exactly `uncompressedSize` bytes: a frame that decodes to more fails as soon as it does,
 * without writing past the output buffer. The frames' optional XXH64 checksum is not verified (the
 * CRC32-C of the Pulsar frame already covers the compressed bytes end to end).
 */
import { Decompress } from 'fzstd';
import { PulsarError, PulsarErrorCode } from './pulsar-error';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MASK = 0xfffffff0;
/** Largest window accepted even for tiny payloads: zstd's default windows for streaming reach 8 MiB. */
export const ZSTD_WINDOW_FLOOR = 8 * 1024 * 1024;
/** A compressed block never decodes to more than this (RFC 8878 Block_Maximum_Size). */
const MAX_BLOCK_SIZE = 128 * 1024;

export interface ZstdFrameInfo {
  /** Bytes of the frame in the input. */
  compressedSize: number;
  /** Window the decoder needs (the content size for single-segment frames). */
  windowSize: number;
  /** Frame_Content_Size, when the frame declares it. */
  contentSize?: number;
  hasChecksum: boolean;
}

function corrupt(why: string, details: Record<string, unknown> = {}, cause?: unknown): PulsarError {
  return new PulsarError(PulsarErrorCode.COMPRESSION_ERROR, `malformed ZSTD payload: ${why}`, {
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

function readLE(data: Uint8Array, at: number, bytes: number): number {
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + data[at + i];
  return value;
}

/**
 * The frames of a ZSTD payload, from their headers and block headers (skippable frames are
 * skipped). Throws COMPRESSION_ERROR on anything malformed or truncated.
 */
export function scanZstdFrames(data: Uint8Array): ZstdFrameInfo[] {
  const frames: ZstdFrameInfo[] = [];
  let offset = 0;
  const need = (at: number, n: number, what: string): void => {
    if (at + n > data.length)
      throw corrupt(`truncated ${what} at byte ${at} (payload is ${data.length} bytes)`, { offset: at });
  };
  while (offset < data.length) {
    need(offset, 4, 'frame magic');
    const magic = readLE(data, offset, 4);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(offset + 4, 4, 'skippable frame size');
      const size = readLE(data, offset + 4, 4);
      need(offset + 8, size, 'skippable frame');
      offset += 8 + size;
      continue;
    }
    if (magic !== ZSTD_MAGIC)
      throw corrupt(`no ZSTD frame magic at byte ${offset} (found 0x${magic.toString(16)})`, { offset });
    const start = offset;
    let p = offset + 4;
    need(p, 1, 'frame header');
    const descriptor = data[p++];
    const fcsFlag = descriptor >> 6;
    const singleSegment = ((descriptor >> 5) & 1) === 1;
    const hasChecksum = ((descriptor >> 2) & 1) === 1;
    const dictFlag = descriptor & 3;
    if ((descriptor >> 3) & 1) throw corrupt('reserved bit set in the frame header descriptor', { offset });
    let windowSize = 0;
    if (!singleSegment) {
      need(p, 1, 'window descriptor');
      const wd = data[p++];
      const base = 2 ** (10 + (wd >> 3));
      windowSize = base + (base / 8) * (wd & 7);
    }
    const dictIdSize = [0, 1, 2, 4][dictFlag];
    need(p, dictIdSize, 'dictionary id');
    if (dictIdSize > 0 && readLE(data, p, dictIdSize) !== 0)
      throw corrupt('frame needs a dictionary (Pulsar never writes dictionary-compressed payloads)', {
        offset,
      });
    p += dictIdSize;
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
    let contentSize: number | undefined;
    if (fcsSize > 0) {
      need(p, fcsSize, 'frame content size');
      contentSize = readLE(data, p, fcsSize) + (fcsSize === 2 ? 256 : 0);
      p += fcsSize;
    }
    if (singleSegment) windowSize = contentSize ?? 0;
    for (;;) {
      need(p, 3, 'block header');
      const header = readLE(data, p, 3);
      p += 3;
      const last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt(`reserved block type at byte ${p - 3}`, { offset: p - 3 });
      if (size > MAX_BLOCK_SIZE)
        throw corrupt(`block of ${size} bytes exceeds the 128 KiB maximum`, { offset: p - 3 });
      const stored = type === 1 ? 1 : size; // RLE blocks store one byte
      need(p, stored, 'block');
      p += stored;
      if (last) break;
    }
    if (hasChecksum) {
      need(p, 4, 'content checksum');
      p += 4;
    }
    frames.push({
      compressedSize: p - start,
      windowSize,
      hasChecksum,
      ...(contentSize === undefined ? {} : { contentSize }),
    });
    offset = p;
  }
  return frames;
}

/**
 * Decodes a ZSTD payload that must decompress to exactly `uncompressedSize` bytes (one frame or
 * several, as RFC 8878 allows). Throws COMPRESSION_ERROR otherwise.
 */
export function zstdDecompress(data: Uint8Array, uncompressedSize: number): Buffer {
  const frames = scanZstdFrames(data);
  if (frames.length === 0) {
    if (uncompressedSize === 0) return Buffer.alloc(0);
    throw corrupt(`no ZSTD frame in a ${data.length}-byte payload`);
  }
  const maxWindow = Math.max(uncompressedSize, ZSTD_WINDOW_FLOOR);
  let declared = 0;
  for (const frame of frames) {
    declared += frame.contentSize ?? 0;
    if (frame.windowSize > maxWindow)
      throw corrupt(
        `window of ${frame.windowSize} bytes exceeds the ${maxWindow}-byte limit for this message`,
        {
          windowSize: frame.windowSize,
          uncompressedSize,
        },
      );
  }
  if (declared > uncompressedSize)
    throw corrupt(`frames declare ${declared} bytes of content, the metadata says ${uncompressedSize}`, {
      declared,
      uncompressedSize,
    });
  const out = Buffer.allocUnsafe(uncompressedSize);
  let written = 0;
  const decoder = new Decompress((chunk: Uint8Array) => {
    if (written + chunk.length > uncompressedSize)
      throw corrupt(`decompresses to more than the ${uncompressedSize} bytes the metadata says`, {
        uncompressedSize,
      });
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    decoder.push(data, true);
  } catch (err) {
    if (err instanceof PulsarError) throw err;
    throw corrupt((err as Error).message, { uncompressedSize }, err);
  }
  if (written !== uncompressedSize)
    throw corrupt(`decompressed to ${written} bytes, the metadata says ${uncompressedSize}`, {
      written,
      uncompressedSize,
    });
  return out;
}
