import * as ort from 'onnxruntime-node';

/**
 * Session options for this package's CPU graphs: one graph runs node after node (sequential), each
 * node may use `threads` intra-op threads (0 = onnxruntime's default, all physical cores), full
 * graph optimization, and idle pool threads sleep instead of spinning so that a shared machine is
 * not kept busy between runs.
 */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: threads === 1 ? '1' : '0' } } },
  };
}

export async function createSession(model: Uint8Array | string, threads: number): Promise<ort.InferenceSession> {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, sessionOptions(threads))
    : ort.InferenceSession.create(model, sessionOptions(threads));
}
