/**
 * Shows an experiment's progress on stderr: redrawn bars on a terminal, plain throttled lines
 * otherwise (logs, CI), so stdout stays free for the command's result.
 */
export class ProgressDisplay {
  private chunks = { done: 0, total: 0 };
  private epochs = { done: 0, total: 0, loss: Number.NaN, samplesPerSec: 0 };
  private stage = 'starting';
  private lastPlain = 0;
  private lastPlainKey = '';
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = Boolean(process.stderr.isTTY),
    private readonly quiet = false,
  ) {}

  setStage(stage: string): void {
    this.stage = stage;
    this.line(stage, true);
  }

  chunk(done: number, total: number): void {
    this.chunks = { done, total };
    this.render(`chunks ${done}/${total}`, done === total);
  }

  epoch(done: number, total: number, loss: number, samplesPerSec: number): void {
    this.epochs = { done, total, loss, samplesPerSec };
    this.render(
      `epoch ${done}/${total} loss ${loss.toExponential(3)} (${Math.round(samplesPerSec)} samples/s)`,
      done === total,
    );
  }

  /** A line that stays (warnings, results). */
  note(message: string): void {
    this.line(message, true);
  }

  finish(): void {
    if (this.tty && this.drawn && !this.quiet) this.out.write('\n');
    this.drawn = false;
  }

  private render(plain: string, force: boolean): void {
    if (this.quiet) return;
    if (!this.tty) {
      const now = Date.now();
      if (!force && now - this.lastPlain < 2000) return;
      if (plain === this.lastPlainKey) return;
      this.lastPlain = now;
      this.lastPlainKey = plain;
      this.out.write(`${plain}\n`);
      return;
    }
    const c = this.chunks.total ? bar(this.chunks.done / this.chunks.total) : bar(0);
    const loss = Number.isFinite(this.epochs.loss) ? ` loss ${this.epochs.loss.toExponential(2)}` : '';
    // epochs appear once training has said how many there are
    const epochs = this.epochs.total ? `  epochs ${bar(this.epochs.done / this.epochs.total)} ${this.epochs.done}/${this.epochs.total}${loss}` : '';
    const text = `${this.stage.padEnd(10)} chunks ${c} ${this.chunks.done}/${this.chunks.total}${epochs}`;
    this.out.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  private line(message: string, force: boolean): void {
    if (this.quiet && !force) return;
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${message}\n`);
    this.drawn = false;
  }
}

function bar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}
