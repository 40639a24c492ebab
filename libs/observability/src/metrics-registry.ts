import { Counter } from './counter';
import { checkLabelNames, escapeHelp, escapeLabelValue, type Labels } from './exposition';
import { Gauge } from './gauge';
import { Histogram } from './histogram';
import type { Metric } from './metric';
import { ObservabilityError } from './observability-error';

/** The media type of the text exposition format this registry writes. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The metric families of one process, written out in Prometheus' text format on each scrape. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  /**
   * @param constLabels labels added to every sample (e.g. `{service: 'producer'}`), so that one
   * scrape config can tell the services apart.
   */
  constructor(readonly constLabels: Labels = {}) {
    checkLabelNames('constant labels', Object.keys(constLabels));
  }

  register<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name))
      throw new ObservabilityError('METRIC_INVALID', `metric ${metric.name} is registered already`, { details: { field: 'name', value: metric.name } });
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: (g: Gauge) => void): Gauge {
    return this.register(new Gauge(name, help, labelNames, collect));
  }

  histogram(name: string, help: string, buckets?: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.register(new Histogram(name, help, buckets, labelNames));
  }

  /** Every family: `# HELP`, `# TYPE`, then its samples; the constant labels added to each sample. */
  exposition(): string {
    const out: string[] = [];
    const constPart = Object.entries(this.constLabels)
      .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
      .join(',');
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
      for (const line of m.samples()) out.push(constPart ? withConstLabels(line, constPart) : line);
    }
    return out.join('\n') + '\n';
  }
}

/** Inserts `a="x",…` into a sample line's label set (or gives it one). */
function withConstLabels(line: string, constPart: string): string {
  const space = line.lastIndexOf(' ');
  const series = line.slice(0, space);
  const brace = series.indexOf('{');
  if (brace < 0) return `${series}{${constPart}}${line.slice(space)}`;
  return `${series.slice(0, brace + 1)}${constPart},${series.slice(brace + 1)}${line.slice(space)}`;
}
