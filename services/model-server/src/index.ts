export { ModelServer, MODEL_METADATA, MAX_PREDICT_ROWS, maxPredictRequestBytes, type ModelServerOptions } from './model-server';
export { ModelServerError, type ModelServerErrorCode } from './model-server-error';
export { INFERENCE_SERVICE } from './inference-service-definition';
