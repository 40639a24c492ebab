import { PassThrough } from 'node:stream';
import { v1 } from '@surrogate/proto';
import { ExperimentWatcher, type ExperimentOutcome } from './experiment-watcher';
import { ProgressDisplay } from './progress-display';

function watcher(): { watcher: ExperimentWatcher; output: () => string; settled: () => ExperimentOutcome | undefined } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  const w = new ExperimentWatcher('e1', new ProgressDisplay(stream as unknown as NodeJS.WriteStream, false, false));
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
