import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** The `surrogate` command as built in this repository. */
export const SURROGATE = path.resolve(__dirname, '../../services/cli/dist/main.js');

/** A `surrogate …` child process whose output is kept for assertions and diagnostics. */
export class ServiceProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string> = {},
    /** Run under this largest file size (RLIMIT_FSIZE, in KiB): a write past it fails with EFBIG, as on a full disk. */
    fileSizeLimitKiB?: number,
  ) {
    const command = [process.execPath, SURROGATE, ...args];
    const [file, argv] =
      fileSizeLimitKiB === undefined ? [process.execPath, command.slice(1)] : ['bash', ['-c', `ulimit -f ${fileSizeLimitKiB} && exec "$0" "$@"`, ...command]];
    this.child = spawn(file, argv, {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves once stderr matches `pattern` (e.g. the service's "running" log line). */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited (${this.child.exitCode}) before ${pattern}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: no ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  tail(lines = 20): string {
    return this.stderr.trim().split('\n').slice(-lines).join('\n');
  }
}

/** The child processes of one test file: started by name, all killed (SIGKILL) when it is done. */
export class ServiceProcesses {
  private readonly all: ServiceProcess[] = [];

  start(name: string, args: string[], env: Record<string, string> = {}, fileSizeLimitKiB?: number): ServiceProcess {
    const p = new ServiceProcess(name, args, env, fileSizeLimitKiB);
    this.all.push(p);
    return p;
  }

  /** Kills every process still running (for afterAll: a failed test must not leave services behind). */
  killAll(): void {
    for (const p of this.all) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
}
