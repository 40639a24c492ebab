import type { Logger } from '@surrogate/core';
import { PricerServer, type PricerServerTls } from '@surrogate/pricing';
import { bachelierPricer } from './bachelier';

export interface ExampleServerOptions {
  /** `host:port`; port 0 picks a free one. Default `127.0.0.1:50051`. */
  listen?: string;
  /** Serve TLS (specs then use grpcs://…); with `clientCa`, clients must present a certificate. */
  tls?: PricerServerTls;
  /** Require `authorization: Bearer <token>` on every call. */
  token?: string;
  logger?: Logger;
}

/**
 * Serves the client's own pricer over PricerService. This is all a client needs: a `Pricer`
 * (parameters with units and ranges, outputs, an evaluate function) and the server helper of
 * @surrogate/pricing, which answers Describe and PriceBatch and checks every request's values.
 */
export function startExampleServer(options: ExampleServerOptions = {}): Promise<PricerServer> {
  return PricerServer.start({
    pricers: [bachelierPricer],
    address: options.listen ?? '127.0.0.1:50051',
    tls: options.tls,
    token: options.token,
    logger: options.logger,
  });
}
