import { cgroupCpuQuota } from '@surrogate/core';
import * as ort from 'onnxruntime-node';
import { NnError } from './nn-error';
import { GraphBuilder } from './onnx-builder';

/** Where sessions run: onnxruntime's CPU provider (bundled) or its CUDA provider (installed separately). */
export const DEVICES = ['cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

function quotaThreads(): number {
  const quota = cgroupCpuQuota();
  return quota === undefined ? 0 : Math.max(1, Math.ceil(quota));
}

/**
 * Session options for this package's graphs: nodes run one after another (sequential), each
 * node may use `threads` intra-op threads (0 = onnxruntime's default, all physical cores), full
 * graph optimization. `spin` lets idle pool threads busy-wait for the next node: worth it while
 * training (runs follow each other back to back; with 2 threads it is ~20% faster at batch 1024,
 * ~60% at 4096), wasteful for occasional inference on a shared machine.
 */
export function sessionOptions(threads: number, spin: boolean, device: Device = 'cpu'): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    // 0 leaves it to onnxruntime (every core it may run on), except that a container's CPU quota
    // caps it: onnxruntime does not read the quota, and threads beyond it are only throttled
    intraOpNumThreads: threads === 0 ? quotaThreads() : threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
  };
}

/**
 * An onnxruntime session on `device`. Asking for CUDA where its provider is not installed fails with
 * NN_DEVICE_UNAVAILABLE saying what to install, instead of onnxruntime's shared-library message.
 */
export async function createSession(model: Uint8Array | string, threads: number, spin = false, device: Device = 'cpu'): Promise<ort.InferenceSession> {
  try {
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions(threads, spin, device))
      : await ort.InferenceSession.create(model, sessionOptions(threads, spin, device));
  } catch (err) {
    if (device === 'cuda' && /cuda|providers_shared|shared library/i.test(err instanceof Error ? err.message : String(err))) {
      throw new NnError(
        'NN_DEVICE_UNAVAILABLE',
        "device cuda: onnxruntime's CUDA execution provider is not installed here. Install it on a machine with an NVIDIA GPU, " +
          'CUDA 12 and cuDNN 9 (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install: the ' +
          "package's own install script is off in package.json allowScripts) or train with device: cpu",
        { cause: err, details: { device } },
      );
    }
    throw err;
  }
}

/**
 * Checks that sessions can run on `device` (CPU always can): creates a one-node session there and
 * fails with NN_DEVICE_UNAVAILABLE, as training would, when it cannot. For a run to refuse a spec
 * asking for CUDA before it generates any data, not after.
 */
export async function checkDevice(device: Device): Promise<void> {
  if (device === 'cpu') return;
  const g = new GraphBuilder('float32');
  g.output('y', g.op1('Identity', [g.input('x', [1])]), [1]);
  const session = await createSession(g.encode({ name: 'device_check' }), 1, false, device);
  await session.release();
}
