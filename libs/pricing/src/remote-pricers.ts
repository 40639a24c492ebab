import { GrpcPricerClient } from './grpc-pricer-client';
import { GrpcPricerError } from './grpc-pricer-error';
import { pricerAllowed, type GrpcPricerOptions } from './grpc-pricer-options';
import type { PricerDescription } from './pricer-description';
import { parseRemotePricerUrl } from './remote-pricer-url';

/**
 * The gRPC pricers a process talks to: one client (one channel) per pricer URL, all with the same
 * options, and each pricer's description kept for `describeTtlMs` so that a worker does not ask
 * for it on every job, yet sees a redeployed pricer within that time.
 */
export class RemotePricers {
  private readonly clients = new Map<string, GrpcPricerClient>();
  private readonly descriptions = new Map<string, { at: number; description: PricerDescription }>();

  constructor(
    readonly options: GrpcPricerOptions = {},
    private readonly describeTtlMs = 60_000,
  ) {}

  /** The client of `url` (INVALID_PRICER_URL when it is not a gRPC pricer URL). */
  client(url: string): GrpcPricerClient {
    const address = parseRemotePricerUrl(url);
    if (!pricerAllowed(this.options.allow, address.host, address.port))
      throw new GrpcPricerError(
        'PRICER_NOT_ALLOWED',
        `pricer ${address.url}: ${address.host}:${address.port} is not among the pricers this process may call (${(this.options.allow ?? []).join(', ')}; --grpc-allow or SURROGATE_GRPC_ALLOW)`,
        { details: { url: address.url, allow: this.options.allow } },
      );
    let client = this.clients.get(address.url);
    if (client === undefined) {
      client = new GrpcPricerClient(address, this.options);
      this.clients.set(address.url, client);
    }
    return client;
  }

  /** The pricer's description, asked for again once it is older than the TTL. Failures are not kept. */
  async describe(url: string, signal?: AbortSignal): Promise<PricerDescription> {
    const client = this.client(url);
    const kept = this.descriptions.get(client.url);
    if (kept !== undefined && Date.now() - kept.at < this.describeTtlMs) return kept.description;
    const description = await client.describe(signal);
    this.descriptions.set(client.url, { at: Date.now(), description });
    return description;
  }

  /** Closes every channel. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.descriptions.clear();
  }
}
