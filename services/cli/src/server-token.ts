import { badInput } from './cli-error';

/**
 * The bearer token a server requires, from the variable `name`: undefined when it is not set (no
 * token required). Set but empty or blank, it is bad input: read as "no token", it would turn
 * authentication off without a word (a Secret mounted empty, a typo in a template).
 */
export function serverToken(name: string): string | undefined {
  const value = process.env[name];
  if (value === undefined) return undefined;
  if (value.trim() === '')
    throw badInput('BAD_OPTION', `${name} is set but empty: set the token clients must present, or unset it to require none`, { variable: name });
  return value;
}
