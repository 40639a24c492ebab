import { bearerTokenCheck, createLogger, errorMessage, safeUrl, SurrogateError } from './index';

class ExampleError extends SurrogateError {}

describe('SurrogateError', () => {
  it('carries code, details and the cause chain into JSON', () => {
    const root = new Error('socket closed');
    const middle = new ExampleError('BROKER_DOWN', 'broker unreachable', {
      cause: root,
      details: { url: 'x' },
    });
    const top = new SurrogateError('RUN_FAILED', 'run failed', { cause: middle });
    expect(top.name).toBe('SurrogateError');
    expect(middle.name).toBe('ExampleError');
    expect(top.cause).toBe(middle);
    expect(top.toJSON()).toEqual({
      name: 'SurrogateError',
      code: 'RUN_FAILED',
      message: 'run failed',
      cause: {
        name: 'ExampleError',
        code: 'BROKER_DOWN',
        message: 'broker unreachable',
        details: { url: 'x' },
        cause: { name: 'Error', message: 'socket closed' },
      },
    });
    expect(Object.isFrozen(middle.details)).toBe(true);
  });

  it('gives the message of anything thrown', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
  });
});

describe('logging without secrets', () => {
  it('redacts tokens and passwords wherever they sit in a record', () => {
    const lines: string[] = [];
    const log = createLogger({
      name: 't',
      level: 'info',
      destination: { write: (l: string) => void lines.push(l) },
    });
    log.info(
      {
        token: 'SECRET1',
        auth: { password: 'SECRET2' },
        client: { headers: { authorization: 'Bearer SECRET3' } },
      },
      'hello',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/SECRET/);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ name: 't', msg: 'hello', token: '[redacted]' });
  });

  it('strips credentials and token-like query parameters from URLs', () => {
    expect(safeUrl('pulsar+ssl://user:pw@broker:6651/?token=abc&x=1')).toBe(
      'pulsar+ssl://broker:6651/?token=redacted&x=1',
    );
    expect(safeUrl('not a url')).toBe('[unparseable url]');
  });
});

describe('bearerTokenCheck', () => {
  it('takes the token under the Bearer scheme in any case (RFC 7235), and nothing else', () => {
    const check = bearerTokenCheck('s3cret-token');
    for (const header of ['Bearer s3cret-token', 'bearer s3cret-token', 'BEARER s3cret-token', '  Bearer   s3cret-token  '])
      expect(check(header)).toBe(true);
    for (const header of ['Bearer s3cret-tokeN', 'Bearer s3cret-token2', 'Basic s3cret-token', 's3cret-token', 'Bearer', 'Bearers3cret-token', '', undefined, 42])
      expect(check(header)).toBe(false);
  });
});
