import { loadSpecFile } from '@surrogate/spec';
import { badInput } from '../cli-error';

/** `surrogate validate <spec>`: checks a spec and prints it resolved (every default filled in). */
export async function validateCommand(file: string | undefined): Promise<string> {
  if (!file) throw badInput('MISSING_ARGUMENT', 'usage: surrogate validate <spec.yaml|spec.json>');
  const spec = await loadSpecFile(file);
  return JSON.stringify({ valid: true, spec });
}
