import { ackSetForWire, decodeCommand, encodeCommandBody, plain, serverErrorName, CommandType } from './wire';

describe('wire adapter', () => {
  it('decodes to plain objects: only present fields, 64-bit ints as numbers', () => {
    const bytes = encodeCommandBody({
      type: CommandType.MESSAGE,
      message: { consumerId: 2 ** 33, messageId: { ledgerId: 2 ** 52 + 1, entryId: 0 }, redeliveryCount: 2 },
    });
    const cmd = decodeCommand(bytes);
    expect(cmd.message).toEqual({
      consumerId: 2 ** 33,
      messageId: { ledgerId: 2 ** 52 + 1, entryId: 0, ackSet: [] },
      redeliveryCount: 2,
      ackSet: [],
    });
    expect(cmd).not.toHaveProperty('ping');
    expect(Object.getPrototypeOf(cmd)).toBe(Object.prototype);
  });

  it('keeps ack-set words exact, including the sign bit', () => {
    const words = [
      { low: -1, high: -1 },
      { low: 0x12345678, high: -0x7fffffff - 1 },
      { low: 5, high: 0 },
    ];
    const bytes = encodeCommandBody({
      type: CommandType.MESSAGE,
      message: { consumerId: 1, messageId: { ledgerId: 1, entryId: 1 }, ackSet: ackSetForWire(words) },
    });
    expect(decodeCommand(bytes).message?.ackSet).toEqual(words);
    expect(plain(-1, 'ackSet')).toEqual({ low: -1, high: -1 });
  });

  it('names server errors', () => {
    expect(serverErrorName(3)).toBe('AuthenticationError');
    expect(serverErrorName(5)).toBe('ConsumerBusy');
    expect(serverErrorName(99)).toBe('ServerError99');
  });
});
