import { SurrogateError } from '@surrogate/core';
import { BusError, BusErrorCode } from './bus-error';
import { MESSAGE_REJECTED, RejectMessageError, isRejectMessageError } from './reject-message-error';

describe('RejectMessageError', () => {
  it('is a SurrogateError with code MESSAGE_REJECTED that keeps its cause', () => {
    const cause = new Error('bad bytes');
    const error = new RejectMessageError('cannot decode job', { cause });
    expect(error).toBeInstanceOf(SurrogateError);
    expect(error.code).toBe(MESSAGE_REJECTED);
    expect(error.name).toBe('RejectMessageError');
    expect(error.cause).toBe(cause);
  });

  it('is recognised by class or by code, and nothing else is', () => {
    expect(isRejectMessageError(new RejectMessageError('x'))).toBe(true);
    expect(isRejectMessageError(Object.assign(new Error('copy from another package version'), { code: MESSAGE_REJECTED }))).toBe(true);
    expect(isRejectMessageError(new Error('transient'))).toBe(false);
    expect(isRejectMessageError(new BusError(BusErrorCode.BUS_CLOSED, 'closed'))).toBe(false);
    expect(isRejectMessageError({ code: MESSAGE_REJECTED })).toBe(false);
  });
});
