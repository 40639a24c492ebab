import { type Frame, decodeFrame } from './frame';
import { PulsarError, PulsarErrorCode } from './pulsar-error';

/**
 * Splits a TCP byte stream into frames: accepts chunks of any size (a frame split over many
 * chunks, many frames in one chunk) and returns every frame completed so far. Bytes are copied
 * only when a frame spans chunks.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxFrameSize largest totalSize accepted; a larger one is a protocol error. */
  constructor(private maxFrameSize: number) {}

  setMaxFrameSize(size: number): void {
    this.maxFrameSize = size;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const totalSize = this.peekUInt32();
      if (totalSize > this.maxFrameSize) {
        throw new PulsarError(
          PulsarErrorCode.PROTOCOL_ERROR,
          `frame of ${totalSize} bytes exceeds the maximum of ${this.maxFrameSize}`,
          {
            details: { totalSize, maxFrameSize: this.maxFrameSize },
          },
        );
      }
      if (this.buffered < 4 + totalSize) break;
      const bytes = this.take(4 + totalSize);
      frames.push(decodeFrame(bytes.subarray(4)));
    }
    return frames;
  }

  private peekUInt32(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.alloc(4);
    let filled = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(4 - filled, chunk.length);
      chunk.copy(head, filled, 0, n);
      filled += n;
      if (filled === 4) break;
    }
    return head.readUInt32BE(0);
  }

  /** Removes and returns the first `n` buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const count = Math.min(n - filled, chunk.length);
      chunk.copy(out, filled, 0, count);
      filled += count;
      if (count === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(count);
    }
    return out;
  }
}
