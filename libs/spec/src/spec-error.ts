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

/**
 * A value as the user wrote it: JSON, except that the numbers JSON cannot hold (YAML's .nan, .inf,
 * -.inf) read NaN, Infinity and -Infinity instead of JSON.stringify's `null`, which named the
 * wrong value.
 */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const marks: string[] = [];
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'number' || Number.isFinite(v)) return v;
    marks.push(String(v));
    return `\u0000${marks.length - 1}\u0000`;
  });
  if (json === undefined) return String(value);
  return json.replace(/"\\u0000(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)] as string);
}
