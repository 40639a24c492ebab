import * as ort from 'onnxruntime-node';

/**
 * Session options for this package's CPU graphs: nodes run one after another (sequential), each
 * node may use `threads` intra-op threads (0 = onnxruntime's default, all physical cores), full
 * graph optimization. `spin` lets idle pool threads busy-wait for the next node: worth it while
 * training (runs follow each other back to back; with 2 threads it is ~20% faster at batch 1024,
 * ~60% at 4096), wasteful for occasional inference on a shared machine.
 */
export function sessionOptions(threads: number, spin: boolean): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
  };
}

export async function createSession(model: Uint8Array | string, threads: number, spin = false): Promise<ort.InferenceSession> {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, sessionOptions(threads, spin))
    : ort.InferenceSession.create(model, sessionOptions(threads, spin));
}
