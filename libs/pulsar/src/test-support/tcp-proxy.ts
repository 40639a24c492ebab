import * as net from 'node:net';
import * as tls from 'node:tls';

/**
 * A TCP forwarder in front of the real broker, for network faults: `freeze` stops forwarding
 * (a silent, half-dead network path), `dropAll` cuts every connection. With `tls` it terminates
 * TLS (pulsar+ssl:// clients) and forwards plain TCP to the broker.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  private server!: net.Server;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(
    target: string,
    options: { tls?: { key: string; cert: string } } = {},
  ): Promise<TcpProxy> {
    const url = new URL(target.replace(/^pulsar(\+ssl)?:/, 'http:'));
    const proxy = new TcpProxy(url.hostname, Number(url.port));
    const onClient = (client: net.Socket): void => proxy.accept(client);
    proxy.server = options.tls ? tls.createServer(options.tls, onClient) : net.createServer(onClient);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `pulsar://127.0.0.1:${this.port}`;
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => {
      if (!this.frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!this.frozen) client.write(d);
    });
  }

  /** Silently drop all traffic from now on (connections stay open). */
  freeze(): void {
    this.frozen = true;
  }

  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A server that accepts TCP connections and never answers (for connect timeouts). */
export async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on which nothing listens (connecting to it is refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
