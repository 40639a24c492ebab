import { mkdir, open, readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** The file under a trainer's data directory that keeps its EarlyCancels. */
export const EARLY_CANCELS_FILE = 'cancelled-before-data.jsonl';

interface Line {
  id: string;
  cancelled: boolean;
}

/**
 * The experiments a trainer saw cancelled and not submitted again since. Each is noted in memory
 * at once (a chunk handled while the cancel is being recorded is then stored as cancelled too);
 * those cancelled before the trainer stored any chunk of them are also kept on disk (`keep`).
 * Such a cancel has no dataset to be recorded in, and its event is acknowledged at once: without
 * the file a restarted trainer would take the experiment's late chunks (priced before the cancel)
 * for a live experiment's and train them. An append-only file of `{"id":…,"cancelled":true|false}`
 * lines, each synced before the event that caused it is acknowledged; the last line of an id wins.
 */
export class EarlyCancels {
  private readonly ids = new Set<string>();
  /** Of `ids`, those the file holds. */
  private readonly kept = new Set<string>();

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
    this.kept.clear();
    for (const raw of text.split('\n')) {
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // empty, or torn
      }
      if (typeof line.id !== 'string') continue;
      if (line.cancelled) this.kept.add(line.id);
      else this.kept.delete(line.id);
    }
    for (const id of this.kept) this.ids.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Notes a cancel in memory. */
  add(id: string): void {
    this.ids.add(id);
  }

  /** Also keeps a noted cancel on disk (no dataset records it). */
  async keep(id: string): Promise<void> {
    this.ids.add(id);
    if (this.kept.has(id)) return;
    await this.append({ id, cancelled: true });
    this.kept.add(id);
  }

  /** The experiment was submitted again: no longer cancelled. */
  async delete(id: string): Promise<void> {
    this.ids.delete(id);
    if (!this.kept.has(id)) return;
    await this.append({ id, cancelled: false });
    this.kept.delete(id);
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
