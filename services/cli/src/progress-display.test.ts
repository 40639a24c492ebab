import { ProgressDisplay } from './progress-display';

function recorder(): { stream: NodeJS.WriteStream; text: () => string } {
  let written = '';
  const stream = { write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => written };
}

describe('ProgressDisplay on a terminal', () => {
  it('draws the chunks bar while data is generated, and the epochs bar once training says how many', () => {
    const r = recorder();
    const display = new ProgressDisplay(r.stream, true, false);
    display.chunk(3, 16);
    const generating = r.text().split('\r\x1b[2K').pop() ?? '';
    expect(generating).toMatch(/chunks \S+ 3\/16$/);
    expect(generating).not.toMatch(/epochs/); // not an "epochs 0/0" before training has started
    display.epoch(2, 10, 0.5, 1000);
    const training = r.text().split('\r\x1b[2K').pop() ?? '';
    expect(training).toMatch(/chunks \S+ 3\/16 {2}epochs \S+ 2\/10 loss 5\.00e-1$/);
  });

  it('with quiet draws nothing but the notes', () => {
    const r = recorder();
    const display = new ProgressDisplay(r.stream, true, true);
    display.chunk(1, 2);
    display.epoch(1, 2, 0.1, 10);
    display.note('PASS');
    expect(r.text()).toBe('PASS\n');
  });
});
