import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter } from './counter';
import type { MetricsRegistry } from './metrics-registry';

/**
 * The process's own figures, read at each scrape: CPU seconds, resident memory, V8 heap, start
 * time, and the event loop's delay (p99 and max since the previous scrape: a service whose loop
 * stalls answers late even when it is otherwise healthy). Returns a function that stops the
 * event-loop monitor.
 */
export function registerProcessMetrics(registry: MetricsRegistry): () => void {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  registry.register(
    new Counter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', [], (c) => {
      const u = process.cpuUsage();
      c.setTotal(Math.max(c.get(), (u.user + u.system) / 1e6));
    }),
  );
  registry.gauge('process_resident_memory_bytes', 'Resident memory size, in bytes.', [], (g) => g.set(process.memoryUsage.rss()));
  registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', [], (g) => g.set(process.memoryUsage().heapUsed));
  const started = Date.now() / 1000 - process.uptime();
  registry.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', [], (g) => g.set(started));
  // both read the same interval: the p99 gauge is collected first, and the max gauge resets it
  registry.gauge('nodejs_eventloop_delay_p99_seconds', 'Event-loop delay, 99th percentile since the previous scrape, in seconds.', [], (g) =>
    g.set(loop.count > 0 ? loop.percentile(99) / 1e9 : 0),
  );
  registry.gauge('nodejs_eventloop_delay_max_seconds', 'Event-loop delay, largest since the previous scrape, in seconds.', [], (g) => {
    g.set(loop.count > 0 ? loop.max / 1e9 : 0);
    loop.reset();
  });
  return () => loop.disable();
}
