export { PricingError, type PricingErrorCode } from './pricing-error';
export type { NumberParameter, ChoiceParameter, ParameterSpec, ParamValues } from './parameter-spec';
export type { Pricer } from './pricer';
export { registerPricer, getPricer, pricerNames, loadPricerModules } from './pricer-registry';
export { validateParams, checkRange } from './validate-params';
export { priceOne } from './price-one';
export { normCdf, normPdf } from './normal-distribution';
export {
  blackScholes,
  blackScholesPricer,
  type BlackScholesInputs,
  type BlackScholesResult,
  type OptionType,
} from './black-scholes';
export { SobolSequence, SOBOL_MAX_DIMENSIONS, SOBOL_MAX_INDEX, type SobolOptions } from './sobol-sequence';
export { UniformSampler, uniformPoint, UNIFORM_MAX_INDEX } from './uniform-sampler';
export { chunkInputs, type ChunkInputsOptions, type BoxDimension, type SamplerKind } from './chunk-inputs';
export { priceColumns } from './price-columns';
export { findNonFinite, type NonFiniteValue } from './find-non-finite';
