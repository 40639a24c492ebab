import { learningRateAt, WARMUP_FRACTION } from './lr-schedule';

/**
 * How the learning rate moves:
 * - `cosine`: a linear warm-up to the peak, then a cosine decay (in log space) to the final rate
 *   at the last step (learningRateAt);
 * - `plateau`: the same warm-up, then the peak rate, multiplied by `factor` each time the
 *   monitored loss has not improved by `threshold` (relative) for more than `patience` epochs,
 *   never below the final rate ("reduce on plateau").
 */
export type ScheduleConfig =
  | { kind: 'cosine'; warmupFraction?: number }
  | { kind: 'plateau'; warmupFraction?: number; factor: number; patience: number; threshold?: number };

/** Stop a stage once the monitored loss has not improved by `minDelta` (relative) for `patience` epochs. */
export interface EarlyStoppingConfig {
  patience: number;
  minDelta: number;
}

/** What TrainingControl carries from one epoch to the next (saved in checkpoints). */
export interface ControlState {
  /** Plateau: the multiplier on the peak rate (1 until the first reduction). */
  lrFactor: number;
  plateauBest: number;
  plateauBad: number;
  /** The best monitored loss so far and the epoch (1-based, in this stage) it was seen at. */
  bestLoss: number;
  bestEpoch: number;
  /** Early stopping: the loss the next epochs must beat by minDelta, and for how many epochs they have not. */
  stopRef: number;
  stopBad: number;
}

export const DEFAULT_PLATEAU_THRESHOLD = 1e-3;

export function initialControlState(): ControlState {
  return { lrFactor: 1, plateauBest: Infinity, plateauBad: 0, bestLoss: Infinity, bestEpoch: 0, stopRef: Infinity, stopBad: 0 };
}

/** What the end of an epoch decided. */
export interface EpochDecision {
  /** This epoch's parameters are the best so far (keep a copy: early stopping restores them). */
  improved: boolean;
  /** Stop training this stage now. */
  stop: boolean;
}

/**
 * The learning-rate schedule and early stopping of one stage: pure state plus the rules, so that a
 * checkpoint can save the state and a resumed run decides exactly as the uninterrupted one would.
 */
export class TrainingControl {
  readonly state: ControlState;

  constructor(
    private readonly schedule: ScheduleConfig,
    private readonly early: EarlyStoppingConfig | undefined,
    private readonly peak: number,
    private readonly final: number,
    state?: ControlState,
  ) {
    this.state = state ? { ...state } : initialControlState();
  }

  /** Learning rate of step `step` (0-based) of `totalSteps`. */
  learningRate(step: number, totalSteps: number): number {
    const warmupFraction = this.schedule.warmupFraction ?? WARMUP_FRACTION;
    if (this.schedule.kind === 'cosine') return learningRateAt(step, totalSteps, this.peak, this.final, warmupFraction);
    const warmup = Math.floor(totalSteps * warmupFraction);
    if (step < warmup) return (this.peak * (step + 1)) / warmup;
    return Math.max(this.final, this.peak * this.state.lrFactor);
  }

  /** Takes the monitored loss at the end of epoch `epoch` (1-based within the stage). */
  endEpoch(epoch: number, loss: number): EpochDecision {
    const s = this.state;
    if (this.schedule.kind === 'plateau') {
      const threshold = this.schedule.threshold ?? DEFAULT_PLATEAU_THRESHOLD;
      if (loss < s.plateauBest * (1 - threshold)) {
        s.plateauBest = loss;
        s.plateauBad = 0;
      } else if (++s.plateauBad > this.schedule.patience) {
        if (this.peak * s.lrFactor > this.final) s.lrFactor *= this.schedule.factor;
        s.plateauBad = 0;
      }
    }
    const improved = loss < s.bestLoss;
    if (improved) {
      s.bestLoss = loss;
      s.bestEpoch = epoch;
    }
    if (loss < s.stopRef * (1 - (this.early?.minDelta ?? 0))) {
      s.stopRef = loss;
      s.stopBad = 0;
    } else {
      s.stopBad++;
    }
    const stop = this.early !== undefined && s.stopBad >= this.early.patience;
    return { improved, stop };
  }
}
