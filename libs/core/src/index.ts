export { SurrogateError, errorMessage } from './surrogate-error';
export { createLogger, safeUrl, REDACTED_PATHS, type Logger, type LoggerConfig } from './logger';
export { bearerTokenCheck } from './bearer-token';
export { parseListenAddress } from './listen-address';
export { syncDirectory, syncDirectorySync, writeFileDurably, writeFileDurablySync } from './durable-file';
export { cgroupCpuQuota, usableCpus, usableMemoryBytes } from './container-limits';
