import { open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';

/** Makes a directory's entries (a new file, a rename) durable: fsync on the directory itself. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `data` so that a crash or a power cut at any moment leaves either the old
 * file or the whole new one: written to a temporary file beside it, synced, renamed over it, and
 * the directory synced. A write that fails (a full disk) removes what it wrote of the temporary
 * file, so that the room it took is given back, and leaves the old file as it was.
 */
export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data); // writes every byte, or fails
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined); // not there, or already renamed
    throw err;
  }
  await syncDirectory(path.dirname(file));
}
