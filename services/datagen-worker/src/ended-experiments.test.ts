import { EndedExperiments, EndedExperimentsError } from './ended-experiments';

describe('EndedExperiments', () => {
  it('takes a job published before an end for stale, and one published at or after it for live', () => {
    const ended = new EndedExperiments({ clockSkewMs: 0 });
    ended.ended('e', 'cancelled', 'user asked', 10_000);
    expect(ended.staleJob('e', 9_999)).toEqual({ kind: 'cancelled', reason: 'user asked', endedAt: 10_000 });
    expect(ended.staleJob('e', 10_000)).toBeUndefined();
    expect(ended.staleJob('e', 10_001)).toBeUndefined();
    expect(ended.staleJob('other', 1)).toBeUndefined();
  });

  it('counts an end clockSkewMs early: a job published just before it is priced, never one after it skipped', () => {
    const ended = new EndedExperiments({ clockSkewMs: 1000 });
    ended.ended('e', 'failed', 'training diverged', 10_000);
    expect(ended.staleJob('e', 8_999)?.kind).toBe('failed');
    expect(ended.staleJob('e', 9_000)).toBeUndefined();
    expect(ended.staleJob('e', 9_500)).toBeUndefined();
  });

  it("after a resubmission's accepted, skips every job published before it and none after it", () => {
    const ended = new EndedExperiments({ clockSkewMs: 1000 });
    ended.ended('e', 'cancelled', '', 10_000);
    // a resubmission's job read before its accepted: published after the end, so priced
    expect(ended.staleJob('e', 12_000)).toBeUndefined();
    ended.accepted('e', 11_500);
    expect(ended.staleJob('e', 9_500)?.kind).toBe('cancelled'); // queued before the end, within the skew margin
    expect(ended.staleJob('e', 11_499)?.kind).toBe('cancelled');
    expect(ended.staleJob('e', 11_500)).toBeUndefined();
    expect(ended.staleJob('e', 12_000)).toBeUndefined();
  });

  it('ignores an accepted of an experiment that has not ended', () => {
    const ended = new EndedExperiments({ clockSkewMs: 0 });
    ended.accepted('e', 10_000);
    expect(ended.size).toBe(0);
    expect(ended.staleJob('e', 1)).toBeUndefined();
  });

  it('is unmoved by a redelivered older event: a live job stays live', () => {
    const ended = new EndedExperiments({ clockSkewMs: 0 });
    ended.ended('e', 'cancelled', 'first', 10_000);
    ended.accepted('e', 20_000);
    ended.ended('e', 'cancelled', 'first', 10_000); // redelivered
    ended.accepted('e', 5_000); // the first submission's accepted, redelivered
    expect(ended.staleJob('e', 20_000)).toBeUndefined();
    expect(ended.staleJob('e', 19_999)?.reason).toBe('first');
  });

  it('a second end after a resubmission moves the time on and says how it ended last', () => {
    const ended = new EndedExperiments({ clockSkewMs: 0 });
    ended.ended('e', 'cancelled', 'first', 10_000);
    ended.accepted('e', 20_000);
    ended.ended('e', 'failed', 'second', 30_000);
    expect(ended.staleJob('e', 25_000)).toEqual({ kind: 'failed', reason: 'second', endedAt: 30_000 });
    expect(ended.get('e')).toEqual({ kind: 'failed', reason: 'second', endedAt: 30_000 });
  });

  it('remembers at most `capacity` experiments, forgetting the least recently touched', () => {
    const ended = new EndedExperiments({ capacity: 3, clockSkewMs: 0 });
    for (const id of ['a', 'b', 'c']) ended.ended(id, 'cancelled', '', 10_000);
    expect(ended.staleJob('a', 1)).toBeDefined(); // touches a: b is now the oldest
    ended.ended('d', 'cancelled', '', 10_000);
    expect(ended.size).toBe(3);
    expect(ended.get('b')).toBeUndefined();
    for (const id of ['a', 'c', 'd']) expect(ended.get(id)).toBeDefined();
    // forgotten: its stale jobs are priced again, as before workers followed events
    expect(ended.staleJob('b', 1)).toBeUndefined();
    for (let i = 0; i < 10_000; i++) ended.ended(`x${i}`, 'failed', '', i);
    expect(ended.size).toBe(3);
  });

  it('refuses a capacity or skew that is not a whole number in range, naming it', () => {
    expect(() => new EndedExperiments({ capacity: 0 })).toThrow(EndedExperimentsError);
    expect(() => new EndedExperiments({ capacity: 0 })).toThrow('capacity = 0: must be a whole number ≥ 1');
    expect(() => new EndedExperiments({ clockSkewMs: -1 })).toThrow(
      'clockSkewMs = -1: must be a whole number ≥ 0',
    );
    expect(() => new EndedExperiments({ clockSkewMs: 1.5 })).toThrow(/clockSkewMs = 1.5/);
  });
});
