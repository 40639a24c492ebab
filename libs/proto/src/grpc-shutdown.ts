/** What a @grpc/grpc-js Server offers for shutting down (structural, so this package needs no grpc import). */
export interface ShutdownableServer {
  tryShutdown(callback: (error?: Error) => void): void;
  forceShutdown(): void;
}

/** Stops taking calls and lets calls in progress finish, cutting them after `graceMs`. */
export function shutdownGracefully(server: ShutdownableServer, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
