import { PassThrough } from 'node:stream';
import { v1 } from '@surrogate/proto';
import { ExperimentWatcher, type ExperimentOutcome } from './experiment-watcher';
import { ProgressDisplay } from './progress-display';

function watcher(deadLettersEndIt?: { graceMs: number }): {
  watcher: ExperimentWatcher;
  output: () => string;
  settled: () => ExperimentOutcome | undefined;
} {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  const w = new ExperimentWatcher('e1', new ProgressDisplay(stream as unknown as NodeJS.WriteStream, false, false), undefined, deadLettersEndIt);
  let outcome: ExperimentOutcome | undefined;
  void w.outcome.then((o) => (outcome = o));
  return { watcher: w, output: () => text, settled: () => outcome };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ExperimentWatcher and rejections', () => {
  it('keeps watching when a cancel is refused, and says so', async () => {
    const w = watcher();
    w.watcher.onEvent(
      v1.ExperimentEvent.create({
        experimentId: 'e1',
        rejected: { code: 'EXPERIMENT_ENDED', field: 'experimentId', reason: 'experiment e1 has already ended (cancelled)', command: v1.CommandKind.COMMAND_KIND_CANCEL },
      }),
    );
    await tick();
    expect(w.settled()).toBeUndefined();
    expect(w.output()).toMatch(/a cancel was refused \(EXPERIMENT_ENDED\): experiment e1 has already ended \(cancelled\)/);
    // the submission it watches still ends it
    w.watcher.onEvent(v1.ExperimentEvent.create({ experimentId: 'e1', cancelled: { reason: 'user asked' } }));
    await tick();
    expect(w.settled()).toEqual({ kind: 'cancelled', cancelled: expect.objectContaining({ reason: 'user asked' }) });
  });

  it.each([
    ['a submission', v1.CommandKind.COMMAND_KIND_SUBMIT],
    ['an unnamed command (before the field existed)', v1.CommandKind.COMMAND_KIND_UNSPECIFIED],
  ])('ends the watch when %s is refused', async (_name, command) => {
    const w = watcher();
    w.watcher.onEvent(v1.ExperimentEvent.create({ experimentId: 'e1', rejected: { code: 'SPEC_INVALID', field: 'samples', reason: 'too few', command } }));
    await tick();
    expect(w.settled()).toEqual({ kind: 'rejected', rejected: expect.objectContaining({ code: 'SPEC_INVALID', field: 'samples' }) });
  });
});

describe('ExperimentWatcher and dead letters', () => {
  const deadLetter = (topic: string): v1.ExperimentEvent =>
    v1.ExperimentEvent.create({ experimentId: '', deadLettered: { topic, subscription: 'trainer', reason: 'chunk output 3 is Infinity' } });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('on a bus of its own (embedded run), ends the watch as failed, naming the dead letter, when nothing ends it first', async () => {
    const w = watcher({ graceMs: 50 });
    w.watcher.onEvent(deadLetter('persistent://public/default/chunks'));
    await tick();
    expect(w.settled()).toBeUndefined(); // a terminal event may still come with the precise reason
    await sleep(100);
    expect(w.settled()).toEqual({
      kind: 'failed',
      failed: expect.objectContaining({ code: 'MESSAGE_DEAD_LETTERED', stage: 'training', reason: expect.stringContaining('chunk output 3 is Infinity') }),
    });
    expect(w.output()).toMatch(/warning: a message was dead-lettered from persistent:\/\/public\/default\/chunks/);
    await w.watcher.detach();
  });

  it('lets a terminal event within the grace period end it with its own reason', async () => {
    const w = watcher({ graceMs: 100 });
    w.watcher.onEvent(deadLetter('persistent://public/default/jobs'));
    w.watcher.onEvent(v1.ExperimentEvent.create({ experimentId: 'e1', failed: { code: 'PRICER_FAILED', stage: 'datagen', reason: 'row 0' } }));
    await sleep(150);
    expect(w.settled()).toEqual({ kind: 'failed', failed: expect.objectContaining({ code: 'PRICER_FAILED' }) });
    await w.watcher.detach();
  });

  it('on a shared broker (no such option), only warns: the dead letter may be another experiment\'s', async () => {
    const w = watcher();
    w.watcher.onEvent(deadLetter('persistent://public/default/chunks'));
    await sleep(50);
    expect(w.settled()).toBeUndefined();
    expect(w.output()).toMatch(/warning: a message was dead-lettered/);
  });
});
