/**
 * Entry of a pricing worker thread: regenerates a slice of a chunk's inputs and prices it.
 * Runs off the service's event loop; pricer plugin modules are loaded here as in the main thread,
 * so both registries agree.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chunkInputs, getPricer, loadPricerModules, priceColumns } from '@surrogate/pricing';
import type { ThreadRequest, ThreadResponse } from './chunk-task';

const modules = (workerData as { pricerModules?: string[] } | undefined)?.pricerModules ?? [];
if (modules.length > 0) loadPricerModules(modules);

parentPort?.on('message', (request: ThreadRequest) => {
  let response: ThreadResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    const { task } = request;
    const inputs = chunkInputs({
      sampler: task.sampler,
      seed: task.seed,
      box: task.box,
      start: task.start,
      count: task.count,
      total: task.total,
    });
    const outputs = task.sampleOnly
      ? []
      : priceColumns(
          getPricer(task.pricer),
          task.fixed,
          task.box.map((b) => b.name),
          inputs,
          task.outputs,
        );
    for (const c of [...inputs, ...outputs]) transfer.push(c.buffer as ArrayBuffer);
    response = { id: request.id, ok: true, slice: { inputs, outputs } };
  } catch (err) {
    const e = err as { message?: string; code?: string; details?: unknown };
    response = {
      id: request.id,
      ok: false,
      error: { message: e.message ?? String(err), code: e.code, details: e.details },
    };
  }
  parentPort?.postMessage(response, transfer);
});
