import { mkdir, open, readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** The file under a trainer's data directory that keeps its EarlyCancels. */
export const EARLY_CANCELS_FILE = 'cancelled-before-data.jsonl';

interface Line {
  id: string;
  cancelled: boolean;
}

/**
 * The experiments a trainer saw cancelled and not submitted again since, kept on disk. A cancel
 * that comes before the trainer stored any chunk of an experiment has no dataset to be recorded
 * in, and its event is acknowledged at once: without this file a restarted trainer would take the
 * experiment's late chunks (priced before the cancel) for a live experiment's and train them.
 * An append-only file of `{"id":…,"cancelled":true|false}` lines, each synced before the event
 * that caused it is acknowledged; the last line of an id wins.
 */
export class EarlyCancels {
  private readonly ids = new Set<string>();

  constructor(private readonly dataDir: string) {}

  private get file(): string {
    return path.join(this.dataDir, EARLY_CANCELS_FILE);
  }

  /** Reads the file (none: nothing is cancelled). A line torn by a crash is ignored. */
  async load(): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.ids.clear();
    for (const raw of text.split('\n')) {
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // empty, or torn
      }
      if (typeof line.id !== 'string') continue;
      if (line.cancelled) this.ids.add(line.id);
      else this.ids.delete(line.id);
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  async add(id: string): Promise<void> {
    if (this.ids.has(id)) return;
    await this.append({ id, cancelled: true });
    this.ids.add(id);
  }

  async delete(id: string): Promise<void> {
    if (!this.ids.has(id)) return;
    await this.append({ id, cancelled: false });
    this.ids.delete(id);
  }

  private async append(line: Line): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const handle = await open(this.file, 'a');
    try {
      // a leading newline ends a line a crash may have torn, so that this one parses on its own
      await handle.appendFile(`\n${JSON.stringify(line)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}
