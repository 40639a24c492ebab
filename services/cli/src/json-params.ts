import { badInput } from './cli-error';

/** Parses a --params value: a JSON object (or, where `allowArray`, an array of objects). */
export function parseJsonParams(
  raw: string | undefined,
  flag: string,
  allowArray = false,
): Record<string, unknown>[] {
  if (raw === undefined)
    throw badInput('MISSING_OPTION', `${flag} is required: a JSON object such as '{"spot": 100}'`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw badInput('BAD_JSON', `${flag} is not valid JSON (${(err as Error).message}): ${raw}`);
  }
  const list = Array.isArray(value) && allowArray ? value : [value];
  list.forEach((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      const where = list.length > 1 ? `${flag}[${i}]` : flag;
      throw badInput(
        'BAD_JSON',
        `${where} must be a JSON object of name: value pairs${allowArray ? ' (or an array of them)' : ''}`,
      );
    }
  });
  return list as Record<string, unknown>[];
}
