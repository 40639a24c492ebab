export { BenchError, type BenchErrorCode } from './bench-error';
export {
  benchPulsar,
  formatPulsarBench,
  type PulsarBenchOptions,
  type PulsarBenchReport,
  type PulsarBenchResult,
  type ThroughputFigures,
} from './pulsar-bench';
export {
  benchPricing,
  formatPricingBench,
  type PricingBenchOptions,
  type PricingBenchReport,
  type PricingBenchResult,
} from './pricing-bench';
export { benchTrain, formatTrainBench, type TrainBenchOptions, type TrainBenchReport } from './train-bench';
export { benchInfer, formatInferBench, type InferBenchOptions, type InferBenchReport } from './infer-bench';
