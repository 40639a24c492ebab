export { PricingError, type PricingErrorCode } from './pricing-error';
export type { NumberParameter, ChoiceParameter, ParameterSpec, ParamValues, ParameterScaling } from './parameter-spec';
export type { Pricer } from './pricer';
export type { ColumnBatch } from './pricer';
export { registerPricer, getPricer, pricerNames, loadPricerModules } from './pricer-registry';
export {
  validateParams,
  checkRange,
  checkInteger,
  checkValue,
  describeRange,
  invalidParameter,
} from './validate-params';
export { priceOne } from './price-one';
export { normCdf, normPdf, expTimesNormCdf } from './normal-distribution';
export { normQuantile } from './normal-quantile';
export { AdaptiveGaussKronrod, type Integrand, type QuadratureResult } from './gauss-kronrod';
export { BrownianBridge } from './brownian-bridge';
export {
  SPOT,
  STRIKE,
  RATE,
  DIVIDEND,
  VOLATILITY,
  MATURITY,
  OPTION_TYPE,
  numberParameter,
} from './common-parameters';
export {
  blackScholes,
  blackScholesPricer,
  type BlackScholesInputs,
  type BlackScholesResult,
  type OptionType,
} from './black-scholes';
export {
  heston,
  hestonInto,
  hestonPricer,
  hestonIntegratedVariance,
  type HestonInputs,
  type HestonResult,
} from './heston';
export {
  american,
  americanInto,
  americanPricer,
  AMERICAN_DEFAULT_STEPS,
  AMERICAN_MAX_STEPS,
  type AmericanInputs,
  type AmericanResult,
} from './american';
export {
  barrier,
  barrierPrice,
  barrierPricer,
  BARRIER_TYPES,
  type BarrierType,
  type BarrierInputs,
} from './barrier';
export {
  asianGeometric,
  asianGeometricInto,
  asianGeometricPricer,
  geometricMoments,
  GEOMETRIC_MAX_FIXINGS,
  type AsianGeometricInputs,
  type AsianGeometricResult,
} from './asian-geometric';
export {
  asianArithmetic,
  asianArithmeticInto,
  asianArithmeticPricer,
  ASIAN_REPLICATIONS,
  ASIAN_DEFAULT_PATHS,
  ASIAN_MAX_PATHS,
  ASIAN_MAX_SEED,
  type AsianArithmeticInputs,
  type AsianArithmeticResult,
} from './asian-arithmetic';
export { SobolSequence, SOBOL_MAX_DIMENSIONS, SOBOL_MAX_INDEX, type SobolOptions } from './sobol-sequence';
export { UniformSampler, uniformPoint, UNIFORM_MAX_INDEX } from './uniform-sampler';
export { LatinHypercube, permuteIndex, LHS_MAX_TOTAL } from './latin-hypercube';
export {
  chunkInputs,
  SAMPLER_KINDS,
  type ChunkInputsOptions,
  type BoxDimension,
  type SamplerKind,
} from './chunk-inputs';
export { priceColumns } from './price-columns';
export { findNonFinite, type NonFiniteValue } from './find-non-finite';
export { GrpcPricerError, isPermanentGrpcPricerError, type GrpcPricerErrorCode } from './grpc-pricer-error';
export { parseRemotePricerUrl, isRemotePricer, type RemotePricerUrl } from './remote-pricer-url';
export { describeToWire, describeFromWire, type PricerDescription } from './pricer-description';
export { PRICER_SERVICE, PRICER_SERVICE_NAME, VIOLATION_TRAILER } from './pricer-service-definition';
export {
  grpcPricerOptions,
  grpcPricerSettingsFromEnv,
  pricerAllowed,
  GRPC_PRICER_ENV,
  type GrpcPricerOptions,
  type GrpcPricerSettings,
} from './grpc-pricer-options';
export { GrpcPricerClient, type RemoteRows, type RemotePriceRequest } from './grpc-pricer-client';
export {
  PricerServer,
  pricerServiceHandlers,
  priceBatchLocally,
  type PricerServerOptions,
  type PricerServerTls,
} from './grpc-pricer-server';
export { RemotePricers } from './remote-pricers';
