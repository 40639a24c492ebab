import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { ExperimentSpec } from './experiment-spec';
import { resolveSpec, type ResolveSpecOptions } from './resolve-spec';
import { SpecError, type SpecIssue } from './spec-error';

/** Parses spec text (YAML, or JSON — which YAML reads too) into a plain document, without checking it. */
export function parseSpecDocument(text: string, source?: string): unknown {
  const isJson = source?.toLowerCase().endsWith('.json') ?? false;
  if (isJson) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new SpecError(
        'SPEC_SYNTAX',
        [{ field: '(document)', rule: `not valid JSON: ${(err as Error).message}` }],
        {
          source,
          cause: err,
        },
      );
    }
  }
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    throw unreadable(err, source); // e.g. nesting so deep that the parser runs out of stack
  }
  if (doc.errors.length > 0) {
    const issues: SpecIssue[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const rule = `YAML syntax error: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
      return pos
        ? { field: '(document)', rule, line: pos.line, column: pos.col }
        : { field: '(document)', rule };
    });
    throw new SpecError('SPEC_SYNTAX', issues, { source });
  }
  try {
    // maxAliasCount: a document of aliases of aliases (a "billion laughs") is refused, not expanded
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw unreadable(err, source);
  }
}

function unreadable(err: unknown, source: string | undefined): SpecError {
  return new SpecError('SPEC_SYNTAX', [{ field: '(document)', rule: `cannot be read: ${(err as Error).message}` }], { source, cause: err });
}

/** Parses and checks spec text; returns the resolved spec with every default filled in. */
export function parseSpec(text: string, source?: string, options: ResolveSpecOptions = {}): ExperimentSpec {
  return resolveSpec(parseSpecDocument(text, source), source, options);
}

/** Reads a spec file and parses it into a plain document, unchecked (SPEC_NOT_FOUND, SPEC_SYNTAX). */
export async function loadSpecDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const rule =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot be read (${code ?? String(err)})`;
    throw new SpecError('SPEC_NOT_FOUND', [{ field: '(file)', value: file, rule }], {
      source: path.basename(file),
      cause: err,
    });
  }
  return parseSpecDocument(text, file);
}

/** Reads, parses and checks a spec file (.yaml, .yml or .json). */
export async function loadSpecFile(file: string, options: ResolveSpecOptions = {}): Promise<ExperimentSpec> {
  return resolveSpec(await loadSpecDocument(file), file, options);
}
