import * as grpc from '@grpc/grpc-js';
import type { v1 } from '@surrogate/proto';
import { priceBatchLocally } from '../grpc-pricer-server';
import type { Pricer } from '../pricer';
import { describeToWire } from '../pricer-description';
import { PRICER_SERVICE } from '../pricer-service-definition';

/**
 * How a test pricer server misbehaves in PriceBatch (Describe always answers correctly):
 * `short` drops the last value, `slow` answers after `delayMs`, `unavailable` answers UNAVAILABLE,
 * `nan` puts a NaN at `row` of the first output, `none` prices correctly.
 */
export type PricerFault = 'none' | 'short' | 'slow' | 'unavailable' | 'nan';

export interface FaultyPricerServer {
  port: number;
  url: string;
  /** PriceBatch calls received so far. */
  calls(): number;
  setFault(fault: PricerFault): void;
  close(): void;
}

/** A real gRPC PricerService on loopback that prices with `pricer` and misbehaves on demand. */
export async function startFaultyPricerServer(
  pricer: Pricer,
  fault: PricerFault,
  options: { delayMs?: number; row?: number } = {},
): Promise<FaultyPricerServer> {
  let current = fault;
  let calls = 0;
  const server = new grpc.Server();
  server.addService(PRICER_SERVICE, {
    describe: (_call: unknown, callback: grpc.sendUnaryData<v1.IPricerDescription>) =>
      callback(null, describeToWire(pricer)),
    priceBatch: (
      call: grpc.ServerUnaryCall<v1.PriceBatchRequest, v1.IPriceBatchResponse>,
      callback: grpc.sendUnaryData<v1.IPriceBatchResponse>,
    ) => {
      calls++;
      if (current === 'unavailable')
        return callback({ code: grpc.status.UNAVAILABLE, details: 'the pricing grid is restarting' });
      let response: v1.IPriceBatchResponse;
      try {
        response = priceBatchLocally(pricer, call.request);
      } catch (err) {
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
      }
      const values = Array.from(response.values ?? []);
      if (current === 'short') values.pop();
      if (current === 'nan' && values.length > 0) values[Math.min(options.row ?? 0, values.length - 1)] = NaN;
      const answer = { ...response, values };
      if (current === 'slow') setTimeout(() => callback(null, answer), options.delayMs ?? 1000);
      else callback(null, answer);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    port,
    url: `grpc://127.0.0.1:${port}/${pricer.name}`,
    calls: () => calls,
    setFault: (f) => (current = f),
    close: () => server.forceShutdown(),
  };
}
