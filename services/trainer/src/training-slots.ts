import { SurrogateError } from '@surrogate/core';

/** The wait for a slot ended because its signal aborted (a cancel, or the trainer stopping). */
export class SlotWaitAborted extends SurrogateError {}

/**
 * At most `limit` trainings at a time: each one takes all the threads and much of the memory it is
 * given, so more at once only slows them all down (or runs the machine out of memory). The others
 * wait for a slot in the order they asked for one.
 */
export class TrainingSlots {
  private active = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new SurrogateError('BAD_OPTION', `maxConcurrentTrainings = ${limit}: must be a whole number ≥ 1`, { details: { field: 'maxConcurrentTrainings', value: limit } });
  }

  /** Trainings holding a slot. */
  get running(): number {
    return this.active;
  }

  /** Trainings waiting for one. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with the function that gives the slot back, once one is free; rejects with
   * SlotWaitAborted if `signal` aborts first (the wait is then given up, its place to the next).
   */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(aborted());
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant(); // the slot passes straight on
      else this.active -= 1;
    };
  }
}

function aborted(): SlotWaitAborted {
  return new SlotWaitAborted('TRAINING_SLOT_WAIT_ABORTED', 'the wait for a training slot was given up (cancelled, or the trainer stops)');
}
