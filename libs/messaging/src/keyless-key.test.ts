import { KEYLESS_KEY_PREFIX, keylessKey, publishedKey } from './keyless-key';

describe('keyless keys', () => {
  it('are random and recognised as synthetic', () => {
    const a = keylessKey();
    const b = keylessKey();
    expect(a).not.toBe(b);
    expect(a.startsWith(KEYLESS_KEY_PREFIX)).toBe(true);
    expect(publishedKey(a)).toBeUndefined();
  });

  it('leave real keys alone', () => {
    expect(publishedKey('experiment-1')).toBe('experiment-1');
    expect(publishedKey('')).toBe('');
    expect(publishedKey(undefined)).toBeUndefined();
  });
});
