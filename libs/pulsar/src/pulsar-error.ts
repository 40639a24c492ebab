import { SurrogateError } from '@surrogate/core';

/** Codes of the errors the client raises itself (broker errors use the broker's names, see BrokerError). */
export const PulsarErrorCode = {
  /** The service URL is malformed or uses an unknown scheme. */
  INVALID_URL: 'PULSAR_INVALID_URL',
  /** An argument or option is invalid. */
  INVALID_ARGUMENT: 'PULSAR_INVALID_ARGUMENT',
  /** TCP/TLS connection or the CONNECT handshake did not complete within connectTimeoutMs. */
  CONNECT_TIMEOUT: 'PULSAR_CONNECT_TIMEOUT',
  /** The TCP/TLS connection could not be opened (refused, unreachable, DNS…). */
  CONNECTION_FAILED: 'PULSAR_CONNECTION_FAILED',
  /** The connection closed (or was closed for missing keep-alive) while a request was pending. */
  CONNECTION_CLOSED: 'PULSAR_CONNECTION_CLOSED',
  /** A request got no response within operationTimeoutMs. */
  OPERATION_TIMEOUT: 'PULSAR_OPERATION_TIMEOUT',
  /** The peer sent bytes that are not valid Pulsar protocol. */
  PROTOCOL_ERROR: 'PULSAR_PROTOCOL_ERROR',
  /** A message is larger than the broker accepts. */
  MESSAGE_TOO_LARGE: 'PULSAR_MESSAGE_TOO_LARGE',
  /** A message got no send receipt within sendTimeoutMs. */
  SEND_TIMEOUT: 'PULSAR_SEND_TIMEOUT',
  /** The client, producer or consumer is closed. */
  ALREADY_CLOSED: 'PULSAR_ALREADY_CLOSED',
  /** A lookup did not resolve (too many redirects, no URL). */
  LOOKUP_FAILED: 'PULSAR_LOOKUP_FAILED',
  /** A payload could not be compressed or decompressed. */
  COMPRESSION_ERROR: 'PULSAR_COMPRESSION_ERROR',
  /** The compression codec is not supported by this client. */
  UNSUPPORTED_COMPRESSION: 'PULSAR_UNSUPPORTED_COMPRESSION',
} as const;
export type PulsarErrorCode = (typeof PulsarErrorCode)[keyof typeof PulsarErrorCode];

/** Every error this client raises on purpose. `code` is a PulsarErrorCode or a broker ServerError name. */
export class PulsarError extends SurrogateError {
  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}

/** ServerError names after which a retry (with a fresh lookup) can succeed. */
const RETRIABLE_SERVER_ERRORS = new Set([
  'ServiceNotReady',
  'TooManyRequests',
  'MetadataError',
  'PersistenceError',
  'UnknownError',
]);

/**
 * An error the broker reported (CommandError, CommandSendError, a failed lookup). `code` is the
 * broker's ServerError name, e.g. "AuthenticationError", "ConsumerBusy", "TopicNotFound".
 */
export class BrokerError extends PulsarError {
  constructor(serverError: string, brokerMessage: string, details: Record<string, unknown> = {}) {
    super(serverError, `broker error ${serverError}: ${brokerMessage}`, {
      details: { ...details, brokerMessage },
    });
  }

  get retriable(): boolean {
    return RETRIABLE_SERVER_ERRORS.has(this.code);
  }
}

/** True if a reconnect loop should keep trying after `err` (connection trouble, retriable broker errors). */
export function isRetriable(err: unknown): boolean {
  if (err instanceof BrokerError) return err.retriable;
  if (err instanceof PulsarError) {
    return (
      err.code === PulsarErrorCode.CONNECT_TIMEOUT ||
      err.code === PulsarErrorCode.CONNECTION_FAILED ||
      err.code === PulsarErrorCode.CONNECTION_CLOSED ||
      err.code === PulsarErrorCode.OPERATION_TIMEOUT ||
      err.code === PulsarErrorCode.LOOKUP_FAILED ||
      err.code === PulsarErrorCode.PROTOCOL_ERROR
    );
  }
  return true;
}

/** True for errors that mean the credentials are wrong: never retried (no reconnect storm). */
export function isAuthError(err: unknown): boolean {
  return (
    err instanceof BrokerError && (err.code === 'AuthenticationError' || err.code === 'AuthorizationError')
  );
}
