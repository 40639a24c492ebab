import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SurrogateError, usableCpus } from '@surrogate/core';
import type { ChunkSlice, ChunkTask, ThreadRequest, ThreadResponse } from './chunk-task';

export class PricingPoolError extends SurrogateError {}

interface Pending {
  resolve: (slice: ChunkSlice) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * A fixed pool of pricing threads. `compute` splits a chunk into one slice per thread and joins
 * the results, so one chunk uses every core while the event loop only routes messages.
 */
export class PricingPool {
  readonly size: number;
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private closed = false;
  private readonly pricerModules: string[];

  constructor(options: { threads?: number; pricerModules?: string[] } = {}) {
    this.size = Math.max(1, options.threads ?? usableCpus());
    this.pricerModules = options.pricerModules ?? [];
    for (let i = 0; i < this.size; i++) this.threads.push(this.spawn(i));
  }

  /** Starts thread i; a thread that dies (a plugin that exits, an out-of-memory) is replaced. */
  private spawn(i: number): Thread {
    const worker = new Worker(path.join(__dirname, 'pricing-thread.js'), {
      workerData: { pricerModules: this.pricerModules },
    });
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (msg: ThreadResponse) => this.settle(thread, msg));
    worker.on('error', (err) => this.failAll(thread, err));
    worker.on('exit', (code) => {
      if (this.closed) return;
      this.failAll(thread, new Error(`pricing thread exited with code ${code}`));
      this.threads[i] = this.spawn(i);
    });
    worker.unref();
    return thread;
  }

  /** Prices `task` (a whole chunk), slices spread over the threads; returns columns in order. */
  async compute(task: ChunkTask): Promise<ChunkSlice> {
    if (this.closed) throw new PricingPoolError('POOL_CLOSED', 'the pricing pool is closed');
    const slices = Math.min(this.size, Math.max(1, Math.ceil(task.count / 256)));
    const base = Math.floor(task.count / slices);
    const extra = task.count % slices;
    const parts: Promise<ChunkSlice>[] = [];
    let start = task.start;
    for (let s = 0; s < slices; s++) {
      const count = base + (s < extra ? 1 : 0);
      parts.push(this.run(this.threads[s] as Thread, { ...task, start, count }));
      start += count;
    }
    const done = await Promise.all(parts);
    return {
      inputs: task.box.map((_, j) =>
        concat(
          Float32Array,
          done.map((d) => d.inputs[j] as Float32Array),
          task.count,
        ),
      ),
      outputs: task.outputs.map((_, k) =>
        concat(
          Float64Array,
          done.map((d) => d.outputs[k] as Float64Array),
          task.count,
        ),
      ),
    };
  }

  /** Regenerates a chunk's inputs only, spread over the threads (for a pricer called over gRPC). */
  async sample(task: Omit<ChunkTask, 'outputs' | 'sampleOnly' | 'pricer'>): Promise<Float32Array[]> {
    return (await this.compute({ ...task, pricer: '', outputs: [], sampleOnly: true })).inputs;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private run(thread: Thread, task: ChunkTask): Promise<ChunkSlice> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      thread.pending.set(id, { resolve, reject });
      thread.worker.ref();
      thread.worker.postMessage({ id, task } satisfies ThreadRequest);
    });
  }

  private settle(thread: Thread, msg: ThreadResponse): void {
    const p = thread.pending.get(msg.id);
    if (!p) return;
    thread.pending.delete(msg.id);
    if (thread.pending.size === 0) thread.worker.unref();
    if (msg.ok) p.resolve(msg.slice);
    else
      p.reject(
        new PricingPoolError(msg.error.code ?? 'PRICING_FAILED', msg.error.message, {
          details: { details: msg.error.details },
        }),
      );
  }

  private failAll(thread: Thread, err: Error): void {
    for (const p of thread.pending.values())
      p.reject(new PricingPoolError('PRICING_THREAD_FAILED', err.message, { cause: err }));
    thread.pending.clear();
  }
}

function concat<T extends Float32Array | Float64Array>(
  Ctor: { new (n: number): T },
  parts: T[],
  total: number,
): T {
  if (parts.length === 1) return parts[0] as T;
  const out = new Ctor(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
