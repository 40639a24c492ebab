import { checkLabelNames, checkMetricName, formatLabels, formatValue, labelKey, type Labels } from './exposition';
import type { Metric } from './metric';
import { ObservabilityError } from './observability-error';

/** Latency buckets in seconds, from 50 µs to 10 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

interface Series {
  labels: Labels;
  /** Per bucket (not cumulative), the last one being +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets (`_bucket{le=…}`, `_sum`, `_count`), per label set. */
export class Histogram implements Metric {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[] = LATENCY_BUCKETS_SECONDS,
    readonly labelNames: readonly string[] = [],
  ) {
    checkMetricName(name);
    checkLabelNames(name, labelNames, ['le']);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1])))
      throw new ObservabilityError('METRIC_INVALID', `${name}: buckets ${JSON.stringify(buckets)} must be finite and strictly increasing`, {
        details: { field: 'buckets', value: buckets },
      });
    this.buckets = [...buckets];
    if (labelNames.length === 0) this.seriesOf(undefined);
  }

  /** Records one observation (NaN is ignored: it belongs in no bucket). */
  observe(value: number, labels?: Labels): void {
    const s = this.seriesOf(labels);
    if (Number.isNaN(value)) return;
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** Observations and their sum so far, for one label set. */
  get(labels?: Labels): { count: number; sum: number } {
    const s = this.series.get(labelKey(this.labelNames, labels, this.name));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i];
        lines.push(`${this.name}_bucket${formatLabels(s.labels, ['le', formatValue(b)])} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${formatLabels(s.labels, ['le', '+Inf'])} ${s.count}`);
      lines.push(`${this.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}`);
      lines.push(`${this.name}_count${formatLabels(s.labels)} ${s.count}`);
    }
    return lines;
  }

  private seriesOf(labels: Labels | undefined): Series {
    const key = labelKey(this.labelNames, labels, this.name);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...(labels ?? {}) }, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    return s;
  }
}
