import { checkLabelNames, checkMetricName, formatLabels, formatValue, labelKey, type Labels } from './exposition';
import type { Metric } from './metric';
import { ObservabilityError } from './observability-error';

/** A monotonically increasing count, per label set. */
export class Counter implements Metric {
  readonly type = 'counter' as const;
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
    /** Called at every scrape to bring totals kept elsewhere up to date (see setTotal). */
    private readonly collect?: (counter: Counter) => void,
  ) {
    checkMetricName(name);
    checkLabelNames(name, labelNames);
    if (labelNames.length === 0) this.series.set(labelKey([], {}, name), { labels: {}, value: 0 });
  }

  /** Adds `by` (default 1; must be finite and ≥ 0: a counter never goes down). */
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by))
      throw new ObservabilityError('METRIC_INVALID', `${this.name}: inc(${by}): a counter increases by a finite amount ≥ 0`, {
        details: { field: 'by', value: by },
      });
    const key = labelKey(this.labelNames, labels, this.name);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: { ...(labels ?? {}) }, value: by });
  }

  /**
   * Sets the total of a count kept elsewhere (e.g. the process's CPU seconds). A total below the
   * current one is refused: a counter only goes down when its process restarts.
   */
  setTotal(total: number, labels?: Labels): void {
    const current = this.get(labels);
    if (!(total >= current) || !Number.isFinite(total))
      throw new ObservabilityError('METRIC_INVALID', `${this.name}: setTotal(${total}) below the current ${current}: a counter never goes down`, {
        details: { field: 'total', value: total },
      });
    this.inc(labels, total - current);
  }

  /** The current value of one label set (0 if never increased). */
  get(labels?: Labels): number {
    return this.series.get(labelKey(this.labelNames, labels, this.name))?.value ?? 0;
  }

  samples(): string[] {
    this.collect?.(this);
    return [...this.series.values()].map((s) => `${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
}
