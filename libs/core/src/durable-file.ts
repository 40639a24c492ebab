import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';

/** What fsync on a directory fails with where the platform or filesystem cannot sync directories. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EISDIR']);

function unsupported(err: unknown): boolean {
  return DIRECTORY_SYNC_UNSUPPORTED.has(String((err as NodeJS.ErrnoException).code));
}

/**
 * Makes a directory's entries (a new file, a rename) durable: fsync on the directory itself. Where
 * directories cannot be synced (some platforms and filesystems) it does nothing: the rename is
 * atomic all the same. Any other failure is thrown.
 */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (!unsupported(err)) throw err;
  }
}

/** syncDirectory, for code that must not yield (a worker thread between two steps). */
export function syncDirectorySync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (!unsupported(err)) throw err;
  }
}

function temporaryOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
}

/**
 * Replaces `file` with `data` so that a crash or a power cut at any moment leaves either the old
 * file or the whole new one: written to a temporary file beside it, synced, renamed over it, and
 * the directory synced. A write that fails (a full disk) removes what it wrote of the temporary
 * file, so that the room it took is given back, and leaves the old file as it was.
 */
export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = temporaryOf(file);
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

/** writeFileDurably, for code that must not yield (a worker thread between two steps). */
export function writeFileDurablySync(file: string, data: string | Uint8Array): void {
  const tmp = temporaryOf(file);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data); // writes every byte, or fails
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not there, or already renamed
    }
    throw err;
  }
  syncDirectorySync(path.dirname(file));
}
