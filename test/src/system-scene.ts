import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Topics } from '@surrogate/messaging';
import { BROKER_START_TIMEOUT_MS, brokerUrl, freshNamespace } from '@surrogate/testing';
import { ServiceProcess, ServiceProcesses } from './service-process';

/**
 * The setting of one system-test file: the broker, a namespace of its own (fresh, so no other test's
 * subscriptions or messages are there), a temporary directory holding the files it is given (specs),
 * and the `surrogate` processes it starts, all SIGKILLed after the file (a failed test must not leave
 * services behind). Create it once at describe level: it registers its own beforeAll and afterAll;
 * its fields are set once beforeAll has run.
 */
export class SystemScene {
  url = '';
  namespace = '';
  topics = new Topics();
  dir = '';
  private readonly processes = new ServiceProcesses();

  constructor(name: string, files: Record<string, string> = {}) {
    beforeAll(async () => {
      this.url = brokerUrl();
      this.namespace = await freshNamespace(name);
      this.topics = new Topics({ namespace: this.namespace });
      this.dir = await mkdtemp(path.join(tmpdir(), `surrogate-${name}-`));
      for (const [file, text] of Object.entries(files)) await writeFile(this.file(file), text);
    }, BROKER_START_TIMEOUT_MS);
    afterAll(() => {
      this.processes.killAll();
    });
  }

  /** `--pulsar URL --namespace NS`: how every service and command of the scene reaches the broker. */
  get common(): string[] {
    return ['--pulsar', this.url, '--namespace', this.namespace];
  }

  /** A path in the scene's directory. */
  file(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * Starts `surrogate …args` as a child process, killed after the file if it still runs; with
   * `fileSizeLimitKiB`, no file it writes may grow past that (a write past it fails as on a full disk).
   */
  start(name: string, args: string[], env: Record<string, string> = {}, fileSizeLimitKiB?: number): ServiceProcess {
    return this.processes.start(name, args, env, fileSizeLimitKiB);
  }
}
