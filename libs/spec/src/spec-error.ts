import { SurrogateError } from '@surrogate/core';

/** One problem found in a spec: where it is, what was there, and the rule it breaks. */
export interface SpecIssue {
  /** Dotted path of the field, e.g. `inputs.spot.min`; `(document)` for the whole file. */
  field: string;
  /** The offending value, when there is one. */
  value?: unknown;
  rule: string;
  /** 1-based line/column in the source text, when known (syntax errors). */
  line?: number;
  column?: number;
}

export type SpecErrorCode = 'SPEC_INVALID' | 'SPEC_SYNTAX' | 'SPEC_NOT_FOUND';

/** A spec that cannot be run. The message lists every issue found, not only the first. */
export class SpecError extends SurrogateError {
  readonly issues: readonly SpecIssue[];

  constructor(
    code: SpecErrorCode,
    issues: readonly SpecIssue[],
    options: { source?: string; cause?: unknown } = {},
  ) {
    const where = options.source ? `${options.source}: ` : '';
    const lines = issues.map((i) => `  - ${formatIssue(i)}`);
    const head =
      code === 'SPEC_NOT_FOUND'
        ? 'spec file not found'
        : code === 'SPEC_SYNTAX'
          ? 'spec syntax error'
          : 'invalid spec';
    super(code, `${where}${head}:\n${lines.join('\n')}`, {
      cause: options.cause,
      details: { source: options.source, issues },
    });
    this.issues = issues;
  }
}

export function formatIssue(issue: SpecIssue): string {
  const at =
    issue.line !== undefined
      ? ` (line ${issue.line}${issue.column !== undefined ? `, column ${issue.column}` : ''})`
      : '';
  const value = issue.value === undefined ? '' : ` = ${formatValue(issue.value)}`;
  return `${issue.field}${value}${at}: ${issue.rule}`;
}

const MARK = '\u0000';

/**
 * A value as JSON, except that NaN and ±Infinity (which JSON.stringify turns into null) read as
 * themselves: `inputs.spot.min = NaN`, not `= null`, which would name the wrong value.
 */
export function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const json = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? `${MARK}${String(v)}${MARK}` : v,
  );
  if (json === undefined) return String(value);
  return json.replace(/"\\u0000(-?Infinity|NaN)\\u0000"/g, '$1');
}
