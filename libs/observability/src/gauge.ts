import { checkLabelNames, checkMetricName, formatLabels, formatValue, labelKey, type Labels } from './exposition';
import type { Metric } from './metric';

/**
 * A value that goes up and down, per label set. `collect`, when given, is called at every scrape
 * to set the values (e.g. memory in use), so nothing has to update it in between.
 */
export class Gauge implements Metric {
  readonly type = 'gauge' as const;
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
    private readonly collect?: (gauge: Gauge) => void,
  ) {
    checkMetricName(name);
    checkLabelNames(name, labelNames);
    if (labelNames.length === 0) this.series.set(labelKey([], {}, name), { labels: {}, value: 0 });
  }

  set(value: number, labels?: Labels): void {
    const key = labelKey(this.labelNames, labels, this.name);
    const s = this.series.get(key);
    if (s) s.value = value;
    else this.series.set(key, { labels: { ...(labels ?? {}) }, value });
  }

  inc(by = 1, labels?: Labels): void {
    this.set(this.get(labels) + by, labels);
  }

  dec(by = 1, labels?: Labels): void {
    this.set(this.get(labels) - by, labels);
  }

  get(labels?: Labels): number {
    return this.series.get(labelKey(this.labelNames, labels, this.name))?.value ?? 0;
  }

  samples(): string[] {
    this.collect?.(this);
    return [...this.series.values()].map((s) => `${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
}
