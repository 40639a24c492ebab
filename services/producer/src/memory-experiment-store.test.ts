import { describeExperimentStoreConformance } from './conformance/experiment-store-conformance';
import { MemoryExperimentStore } from './memory-experiment-store';

describeExperimentStoreConformance('memory', async (options = {}) => {
  const store = new MemoryExperimentStore({ endedTtlMs: options.endedTtlMs });
  return { store, dispose: () => store.close() };
});
