import { learningRateAt } from './lr-schedule';
import { TrainingControl } from './training-control';

describe('TrainingControl', () => {
  it('cosine: the warm-up then log-cosine decay of learningRateAt', () => {
    const c = new TrainingControl({ kind: 'cosine', warmupFraction: 0.1 }, undefined, 1e-2, 1e-5);
    for (const step of [0, 5, 9, 10, 50, 99]) expect(c.learningRate(step, 100)).toBe(learningRateAt(step, 100, 1e-2, 1e-5, 0.1));
    expect(c.learningRate(9, 100)).toBeCloseTo(1e-2, 15);
    expect(c.learningRate(99, 100)).toBeCloseTo(1e-5, 15);
  });

  it('plateau: halves the rate after more than `patience` epochs without improvement, never below the final rate', () => {
    const c = new TrainingControl({ kind: 'plateau', warmupFraction: 0, factor: 0.5, patience: 2 }, undefined, 8e-3, 1e-3);
    expect(c.learningRate(0, 100)).toBe(8e-3);
    const lrs: number[] = [];
    // improving for 3 epochs, then flat: reductions after epochs 6, 9, 12 (3 flat epochs each) down to the floor
    const losses = [1, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25];
    losses.forEach((l, i) => {
      const d = c.endEpoch(i + 1, l);
      expect(d.stop).toBe(false); // no early stopping configured
      lrs.push(c.learningRate(0, 100));
    });
    expect(lrs.slice(0, 5)).toEqual([8e-3, 8e-3, 8e-3, 8e-3, 8e-3]);
    expect(lrs[5]).toBe(4e-3);
    expect(lrs[8]).toBe(2e-3);
    expect(lrs[11]).toBe(1e-3);
    expect(lrs[14]).toBe(1e-3); // at the floor: no further reduction
    expect(c.state.lrFactor).toBe(0.125);
  });

  it('plateau: a warm-up ramps linearly to the peak', () => {
    const c = new TrainingControl({ kind: 'plateau', warmupFraction: 0.1, factor: 0.5, patience: 1 }, undefined, 1e-2, 1e-4);
    expect(c.learningRate(0, 100)).toBeCloseTo(1e-3, 15);
    expect(c.learningRate(9, 100)).toBeCloseTo(1e-2, 15);
    expect(c.learningRate(10, 100)).toBe(1e-2);
  });

  it('early stopping: stops after `patience` epochs that do not beat the reference by minDelta, and tracks the best epoch', () => {
    const c = new TrainingControl({ kind: 'cosine' }, { patience: 3, minDelta: 0.01 }, 1e-2, 1e-5);
    const decisions = [1, 0.9, 0.895, 0.894, 0.893].map((l, i) => c.endEpoch(i + 1, l));
    // 0.895, 0.894 and 0.893 are below 0.9 but not by 1%: three bad epochs
    expect(decisions.map((d) => d.stop)).toEqual([false, false, false, false, true]);
    expect(decisions.map((d) => d.improved)).toEqual([true, true, true, true, true]);
    expect(c.state.bestEpoch).toBe(5);
    const d = new TrainingControl({ kind: 'cosine' }, { patience: 2, minDelta: 0 }, 1e-2, 1e-5);
    expect([1, 2, 0.5, 3, 4].map((l, i) => d.endEpoch(i + 1, l).stop)).toEqual([false, false, false, false, true]);
    expect(d.state.bestEpoch).toBe(3);
    expect(d.state.bestLoss).toBe(0.5);
  });

  it('resumes from a saved state and decides as the uninterrupted control would', () => {
    const schedule = { kind: 'plateau' as const, warmupFraction: 0, factor: 0.5, patience: 1 };
    const early = { patience: 4, minDelta: 0 };
    const losses = [1, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7];
    const whole = new TrainingControl(schedule, early, 1e-2, 1e-5);
    const first = new TrainingControl(schedule, early, 1e-2, 1e-5);
    const a = losses.map((l, i) => ({ ...whole.endEpoch(i + 1, l), lr: whole.learningRate(0, 10) }));
    losses.slice(0, 4).forEach((l, i) => first.endEpoch(i + 1, l));
    const saved = JSON.parse(JSON.stringify(first.state)) as typeof first.state; // as a checkpoint carries it
    const second = new TrainingControl(schedule, early, 1e-2, 1e-5, saved);
    const b = losses.slice(4).map((l, i) => ({ ...second.endEpoch(i + 5, l), lr: second.learningRate(0, 10) }));
    expect(b).toEqual(a.slice(4));
    expect(a.some((d) => d.stop)).toBe(true);
  });
});
