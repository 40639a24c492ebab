import { ObservabilityError } from './observability-error';

/** Label names and values of one series, in a fixed order. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws METRIC_INVALID unless `name` is a valid Prometheus metric name. */
export function checkMetricName(name: string): void {
  if (!METRIC_NAME.test(name))
    throw new ObservabilityError('METRIC_INVALID', `metric name ${JSON.stringify(name)}: must match ${METRIC_NAME.source}`, {
      details: { field: 'name', value: name },
    });
}

/** Throws METRIC_INVALID unless every label name is valid and not reserved (`__…`, `le` on histograms). */
export function checkLabelNames(metric: string, names: readonly string[], reserved: readonly string[] = []): void {
  for (const n of names) {
    if (!LABEL_NAME.test(n) || n.startsWith('__') || reserved.includes(n))
      throw new ObservabilityError('METRIC_INVALID', `${metric}: label name ${JSON.stringify(n)} is not allowed (must match ${LABEL_NAME.source}, not start with __${reserved.length ? `, not be ${reserved.join('/')}` : ''})`, {
        details: { field: 'label', value: n },
      });
  }
}

/** A label value as the text format writes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escaping: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}` (empty string without labels). */
export function formatLabels(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A sample value: Go-style `+Inf`, `-Inf`, `NaN`, else the shortest round-trip decimal. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** The key of a label set, independent of the order the caller wrote the labels in. */
export function labelKey(names: readonly string[], labels: Labels | undefined, metric: string): string {
  const given = Object.keys(labels ?? {});
  const missing = names.filter((n) => !(n in (labels ?? {})));
  const unknown = given.filter((n) => !names.includes(n));
  if (missing.length > 0 || unknown.length > 0)
    throw new ObservabilityError(
      'METRIC_INVALID',
      `${metric}: labels ${JSON.stringify(labels ?? {})} must be exactly {${names.join(', ')}}` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (unknown.length ? `; unknown ${unknown.join(', ')}` : ''),
      { details: { field: 'labels', value: labels ?? {} } },
    );
  return JSON.stringify(names.map((n) => String((labels as Labels)[n])));
}
