import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@surrogate/core';
import { decodeMessage, v1 } from '@surrogate/proto';
import { GrpcPricerError, type GrpcPricerErrorCode } from './grpc-pricer-error';
import type { GrpcPricerOptions } from './grpc-pricer-options';
import type { ParamValues } from './parameter-spec';
import { describeFromWire, type PricerDescription } from './pricer-description';
import { PRICER_SERVICE, VIOLATION_TRAILER, type PricerMethod } from './pricer-service-definition';
import { parseRemotePricerUrl, type RemotePricerUrl } from './remote-pricer-url';

/** Rows of points for a gRPC pricer: parameters held constant plus one column per varying one. */
export interface RemoteRows {
  fixed: ParamValues;
  inputNames: readonly string[];
  /** One column per input name, all of the same length (the number of rows). */
  inputs: readonly ArrayLike<number>[];
  /** Gives up (REMOTE_CANCELLED) when aborted: calls in flight are cancelled. */
  signal?: AbortSignal;
}

/** Rows to price, and the outputs wanted. */
export interface RemotePriceRequest extends RemoteRows {
  outputs: readonly string[];
}

const RETRYABLE = new Set<number>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.RESOURCE_EXHAUSTED,
]);

const DEFAULTS = {
  deadlineMs: 30_000,
  retries: 3,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  batchRows: 8192,
  concurrency: 4,
};

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const finite = Number.isFinite;

function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? `status ${code}`;
}

function fixedToWire(fixed: ParamValues): Record<string, v1.IFixedValue> {
  const out: Record<string, v1.IFixedValue> = {};
  for (const [k, v] of Object.entries(fixed)) out[k] = typeof v === 'number' ? { number: v } : { text: v };
  return out;
}

/** The ParameterViolation an INVALID_ARGUMENT status carries in its trailer, if any. */
function violationOf(err: grpc.ServiceError): v1.ParameterViolation | undefined {
  const raw = err.metadata?.get(VIOLATION_TRAILER)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    return decodeMessage(v1.ParameterViolation, 'surrogate.v1.ParameterViolation', raw);
  } catch {
    return undefined;
  }
}

/**
 * A client of one gRPC pricer (`grpc://host:port/name` or `grpcs://…`): `describe` asks what it
 * takes, `price` sends rows in sub-batches of `batchRows` (column-major packed doubles, up to
 * `concurrency` calls in flight) and returns one column per output, `check` has the server
 * validate rows without pricing them. Every call has a deadline and is retried with exponential
 * backoff on UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED; answers are checked (the
 * number of values, finiteness, the pricer's name). Failures are GrpcPricerErrors.
 */
export class GrpcPricerClient {
  readonly url: string;
  readonly address: RemotePricerUrl;
  private readonly client: grpc.Client;
  private readonly options: Required<
    Pick<
      GrpcPricerOptions,
      'deadlineMs' | 'retries' | 'initialBackoffMs' | 'maxBackoffMs' | 'batchRows' | 'concurrency'
    >
  >;
  private readonly token: string | undefined;
  private readonly log: Logger | undefined;
  private maxBatchRows = 0;
  private closed = false;

  constructor(url: string | RemotePricerUrl, options: GrpcPricerOptions = {}) {
    this.address = typeof url === 'string' ? parseRemotePricerUrl(url) : url;
    this.url = this.address.url;
    this.log = options.logger;
    this.options = {
      deadlineMs: options.deadlineMs ?? DEFAULTS.deadlineMs,
      retries: options.retries ?? DEFAULTS.retries,
      initialBackoffMs: options.initialBackoffMs ?? DEFAULTS.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      batchRows: options.batchRows ?? DEFAULTS.batchRows,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
    };
    if (options.token !== undefined && !this.address.tls) {
      this.log?.warn(
        { pricer: this.url },
        'a bearer token is configured but the pricer URL is grpc:// (plaintext): the token is not sent',
      );
    }
    this.token = this.address.tls ? options.token : undefined;
    const credentials = this.address.tls
      ? grpc.credentials.createSsl(options.ca ?? null, options.key ?? null, options.cert ?? null)
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(this.address.target, credentials, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // A restarted pricer is found again within seconds, not after grpc's default 2-minute backoff.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5000,
    });
  }

  /** The pricer's parameters and outputs (checked; REMOTE_BAD_RESPONSE when malformed). */
  async describe(signal?: AbortSignal): Promise<PricerDescription> {
    const wire = await this.withRetries('Describe', signal, (s) =>
      this.unary(PRICER_SERVICE.describe, { pricer: this.address.name }, s),
    );
    const description = describeFromWire(wire, this.address.name, this.url);
    this.maxBatchRows = description.maxBatchRows;
    return description;
  }

  /**
   * Prices every row; returns one Float64Array per requested output. The answer of each call must
   * hold exactly rows × outputs finite values (REMOTE_BAD_RESPONSE, REMOTE_NON_FINITE otherwise,
   * with the row counted from the first row of this request).
   */
  async price(request: RemotePriceRequest): Promise<Float64Array[]> {
    const rows = this.rowCount(request);
    const columns = request.outputs.map(() => new Float64Array(rows));
    await this.batches(rows, request.signal, async (start, count, signal) => {
      const response = await this.withRetries(
        'PriceBatch',
        signal,
        (s) => this.unary(PRICER_SERVICE.priceBatch, this.batchRequest(request, start, count, false), s),
        start,
      );
      this.takeValues(response, request.outputs, start, count, columns);
    });
    return columns;
  }

  /**
   * Has the server check every row (each parameter's range, and the pricer's own rules) without
   * pricing: resolves when all are valid, REMOTE_INVALID_ARGUMENT naming the first violation otherwise.
   */
  async check(rows: RemoteRows): Promise<void> {
    const count = this.rowCount(rows);
    await this.batches(count, rows.signal, async (start, n, signal) => {
      const response = await this.withRetries(
        'PriceBatch',
        signal,
        (s) =>
          this.unary(
            PRICER_SERVICE.priceBatch,
            this.batchRequest({ ...rows, outputs: [] }, start, n, true),
            s,
          ),
        start,
      );
      if ((response.values ?? []).length !== 0)
        throw this.badResponse(
          `returned ${response.values.length} values for a validate-only request (expected none)`,
          { rows: [start, start + n] },
        );
    });
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  private rowCount(rows: RemoteRows): number {
    const { inputNames, inputs } = rows;
    if (inputNames.length !== inputs.length)
      throw new GrpcPricerError(
        'REMOTE_FAILED',
        `${inputNames.length} input names but ${inputs.length} input columns`,
      );
    const count = inputs[0]?.length ?? 0;
    inputs.forEach((column, j) => {
      if (column.length !== count)
        throw new GrpcPricerError(
          'REMOTE_FAILED',
          `input column ${inputNames[j]} has ${column.length} rows, expected ${count}`,
        );
    });
    return count;
  }

  private batchRequest(
    request: RemotePriceRequest,
    start: number,
    count: number,
    validateOnly: boolean,
  ): v1.IPriceBatchRequest {
    const d = request.inputNames.length;
    const inputs = new Float64Array(d * count);
    for (let j = 0; j < d; j++) {
      const column = request.inputs[j] as ArrayLike<number>;
      const offset = j * count;
      for (let i = 0; i < count; i++) inputs[offset + i] = column[start + i] as number;
    }
    return {
      pricer: this.address.name,
      fixed: fixedToWire(request.fixed),
      inputNames: [...request.inputNames],
      rows: count,
      // protobufjs writes any array-like as packed doubles.
      inputs: inputs as unknown as number[],
      outputs: [...request.outputs],
      validateOnly,
    };
  }

  private takeValues(
    response: v1.PriceBatchResponse,
    outputs: readonly string[],
    start: number,
    count: number,
    columns: Float64Array[],
  ): void {
    const values = response.values ?? [];
    const expected = outputs.length * count;
    if (values.length !== expected || (response.rows !== 0 && response.rows !== count)) {
      throw this.badResponse(
        `returned ${values.length} values for ${response.rows || 'unstated'} rows; expected ${expected} (${count} rows × ${outputs.length} outputs: ${outputs.join(', ')})`,
        { expected, received: values.length, rows: [start, start + count] },
      );
    }
    for (let k = 0; k < outputs.length; k++) {
      const column = columns[k] as Float64Array;
      const offset = k * count;
      for (let i = 0; i < count; i++) {
        const value = values[offset + i] as number;
        if (!finite(value)) {
          const output = outputs[k] as string;
          throw new GrpcPricerError(
            'REMOTE_NON_FINITE',
            `pricer ${this.url} returned ${value} for ${output} at row ${start + i}`,
            { details: { pricer: this.url, row: start + i, output, value } },
          );
        }
        column[start + i] = value;
      }
    }
  }

  private badResponse(reason: string, details: Record<string, unknown>): GrpcPricerError {
    return new GrpcPricerError('REMOTE_BAD_RESPONSE', `pricer ${this.url} ${reason}`, {
      details: { pricer: this.url, reason, ...details },
    });
  }

  /**
   * Splits [0, rows) into sub-batches and runs `work` on them, `concurrency` at a time. The first
   * failure cancels the calls still in flight and is thrown.
   */
  private async batches(
    rows: number,
    outer: AbortSignal | undefined,
    work: (start: number, count: number, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    if (rows === 0) return;
    const size = Math.max(
      1,
      this.maxBatchRows > 0 ? Math.min(this.options.batchRows, this.maxBatchRows) : this.options.batchRows,
    );
    const inner = new AbortController();
    const onAbort = (): void => inner.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    if (outer?.aborted) inner.abort();
    let next = 0;
    let failure: unknown;
    const lane = async (): Promise<void> => {
      while (next < rows && failure === undefined) {
        const start = next;
        const count = Math.min(size, rows - start);
        next += count;
        try {
          await work(start, count, inner.signal);
        } catch (err) {
          if (failure === undefined) failure = err;
          inner.abort();
        }
      }
    };
    const lanes = Math.min(this.options.concurrency, Math.ceil(rows / size));
    try {
      await Promise.all(Array.from({ length: lanes }, lane));
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined) throw failure;
  }

  private metadata(): grpc.Metadata {
    const m = new grpc.Metadata();
    if (this.token !== undefined) m.set('authorization', `Bearer ${this.token}`);
    return m;
  }

  /** One call with its deadline; aborting the signal cancels it. */
  private unary<I, T, J, U>(method: PricerMethod<I, T, J, U>, request: I, signal: AbortSignal): Promise<U> {
    return new Promise<U>((resolve, reject) => {
      if (this.closed) {
        reject(new GrpcPricerError('REMOTE_CANCELLED', `${this.url}: the client is closed`));
        return;
      }
      const deadline = Date.now() + this.options.deadlineMs;
      const call = this.client.makeUnaryRequest<I, U>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.metadata(),
        { deadline },
        (err, value) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(value as U);
        },
      );
      const onAbort = (): void => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `attempt` until it succeeds, a non-retryable status comes back, or retries run out. */
  private async withRetries<U>(
    what: string,
    signal: AbortSignal | undefined,
    attempt: (signal: AbortSignal) => Promise<U>,
    rowOffset = 0,
  ): Promise<U> {
    const never = new AbortController().signal;
    const s = signal ?? never;
    let backoff = this.options.initialBackoffMs;
    for (let n = 1; ; n++) {
      if (s.aborted || this.closed)
        throw new GrpcPricerError('REMOTE_CANCELLED', `${this.url}: ${what} was cancelled`);
      try {
        return await attempt(s);
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (typeof e?.code !== 'number' || e.metadata === undefined) throw err; // not a gRPC status
        const cancelled = s.aborted || this.closed;
        if (!cancelled && RETRYABLE.has(e.code) && n <= this.options.retries) {
          const delay = Math.min(backoff, this.options.maxBackoffMs);
          const wait = delay / 2 + Math.random() * (delay / 2);
          this.log?.debug(
            {
              pricer: this.url,
              method: what,
              status: statusName(e.code),
              attempt: n,
              retryInMs: Math.round(wait),
            },
            'gRPC pricer call failed; retrying',
          );
          backoff *= 2;
          await sleep(wait, s);
          continue;
        }
        throw this.toError(what, e, n, cancelled, rowOffset);
      }
    }
  }

  private toError(
    what: string,
    e: grpc.ServiceError,
    attempts: number,
    cancelled: boolean,
    rowOffset: number,
  ): GrpcPricerError {
    const status = statusName(e.code);
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    const details = { pricer: this.url, method: what, status, attempts };
    const make = (code: GrpcPricerErrorCode, message: string, extra: Record<string, unknown> = {}) =>
      new GrpcPricerError(code, message, { cause: e, details: { ...details, ...extra } });
    if (cancelled) return make('REMOTE_CANCELLED', `${this.url}: ${what} was cancelled`);
    switch (e.code) {
      case grpc.status.UNAVAILABLE:
        return make(
          'REMOTE_UNAVAILABLE',
          `pricer ${this.url} is unavailable (${what}: ${status} after ${tries}): ${e.details}`,
        );
      case grpc.status.DEADLINE_EXCEEDED:
        return make(
          'REMOTE_DEADLINE_EXCEEDED',
          `pricer ${this.url} did not answer ${what} within its ${this.options.deadlineMs} ms deadline (${status} after ${tries})`,
        );
      case grpc.status.RESOURCE_EXHAUSTED:
        return make(
          'REMOTE_RESOURCE_EXHAUSTED',
          `pricer ${this.url} is overloaded (${what}: ${status} after ${tries}): ${e.details}`,
        );
      case grpc.status.NOT_FOUND:
        return make('REMOTE_UNKNOWN_PRICER', `${this.url}: ${e.details}`);
      case grpc.status.UNAUTHENTICATED:
      case grpc.status.PERMISSION_DENIED:
        return make(
          'REMOTE_UNAUTHENTICATED',
          `pricer ${this.url} refused the credentials (${status}): ${e.details}`,
        );
      case grpc.status.INVALID_ARGUMENT: {
        const v = violationOf(e);
        if (v === undefined)
          return make('REMOTE_INVALID_ARGUMENT', `pricer ${this.url} refused the request: ${e.details}`);
        const row = Number(v.row) >= 0 ? Number(v.row) + rowOffset : -1;
        return make(
          'REMOTE_INVALID_ARGUMENT',
          `pricer ${this.url} refused ${row >= 0 ? `row ${row}` : 'the request'}: ${v.message || e.details}`,
          {
            parameter: v.parameter,
            value: v.value,
            rule: v.rule,
            row: row >= 0 ? row : undefined,
            reason: v.message || e.details,
          },
        );
      }
      default:
        return make('REMOTE_FAILED', `pricer ${this.url} failed (${what}: ${status}): ${e.details}`);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
