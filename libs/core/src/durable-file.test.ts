import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { writeFileDurably, writeFileDurablySync } from './durable-file';

describe('writeFileDurably', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'durable-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates and replaces a file whole, leaving nothing else beside it', async () => {
    const file = path.join(dir, 'model.onnx');
    await writeFileDurably(file, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(file))]).toEqual([1, 2, 3]);
    await writeFileDurably(file, 'replaced\n');
    expect(await readFile(file, 'utf8')).toBe('replaced\n');
    writeFileDurablySync(file, 'replaced again\n'); // the same, without yielding
    expect(await readFile(file, 'utf8')).toBe('replaced again\n');
    expect(await readdir(dir)).toEqual(['model.onnx']);
  });

  it('on a disk without room keeps the old file as it was and gives back what it wrote', async () => {
    const file = path.join(dir, 'report.html');
    await writeFile(file, 'old report\n');
    // A real write that finds no room: a child process under a 4 KiB file-size limit (EFBIG, as
    // ENOSPC on a full disk) writes 64 KiB. Its first write takes 4 KiB without failing.
    const script = path.join(dir, '..', `${path.basename(dir)}-child.js`);
    await writeFile(
      script,
      `const { writeFileDurably, writeFileDurablySync } = require(${JSON.stringify(path.join(__dirname, 'durable-file.js'))});
      process.on('SIGXFSZ', () => {});
      let sync;
      try {
        writeFileDurablySync(${JSON.stringify(file)}, 'x'.repeat(65536));
        sync = 'written';
      } catch (err) {
        sync = err.code;
      }
      writeFileDurably(${JSON.stringify(file)}, 'x'.repeat(65536)).then(
        () => console.log(sync, 'written'),
        (err) => console.log(sync, err.code),
      );`,
    );
    try {
      const { stdout } = await promisify(execFile)('bash', ['-c', 'ulimit -f 4 && exec node "$0"', script]);
      expect(stdout.trim()).toBe('EFBIG EFBIG'); // both forms
    } finally {
      await rm(script, { force: true });
    }
    expect(await readFile(file, 'utf8')).toBe('old report\n');
    expect(await readdir(dir)).toEqual(['report.html']); // the temporary file's 4 KiB are gone
  });
});
