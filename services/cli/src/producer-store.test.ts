import { cli } from './cli';

// `surrogate producer --redis`: checked before anything connects; an unreachable Redis is exit 1.
// (A producer that runs with Redis, is killed and restarted is in test/src/producer-restart.test.ts.)
describe('surrogate producer --redis', () => {
  const saved = process.env.REDIS_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = saved;
  });

  it('is in the usage text', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/surrogate producer --pulsar URL \[--redis URL\]/);
    expect(help.stdout).toMatch(/--redis URL +producer: keep the experiments' state in Redis/);
    expect(help.stdout).toMatch(/--ended-ttl-ms MS +producer: how long Redis keeps an ended experiment/);
  });

  it('refuses a bad URL or --ended-ttl-ms before connecting (exit 2), naming the flag and the value without its password', async () => {
    delete process.env.REDIS_URL;
    const cases: [string, string][] = [
      ['http://127.0.0.1:6379', '--redis = http://127.0.0.1:6379: must be a redis:// or rediss:// URL, not http://'],
      ['redis://127.0.0.1:6379/cache', '--redis = redis://127.0.0.1:6379/cache: the path must be a database number'],
      ['redis://:s3cret@127.0.0.1:port', '--redis = redis://[redacted]@127.0.0.1:port: not a URL'],
      ['localhost:6379', '--redis = localhost:6379: must be a redis:// or rediss:// URL, not localhost:'],
      ['redis://127.0.0.1:6379/x?password=s3cret', '--redis = redis://127.0.0.1:6379/x?password=redacted: the path must be'],
    ];
    for (const [url, message] of cases) {
      const r = await cli(['producer', '--pulsar', 'pulsar://127.0.0.1:9', '--redis', url]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('s3cret');
    }
    const ttl = await cli(['producer', '--pulsar', 'pulsar://127.0.0.1:9', '--redis', 'redis://127.0.0.1:9', '--ended-ttl-ms', '0']);
    expect(ttl.exitCode).toBe(2);
    expect(ttl.stderr).toContain('--ended-ttl-ms = 0: must be a whole number ≥ 1');
    process.env.REDIS_URL = 'redis://h/x';
    const fromEnv = await cli(['producer', '--pulsar', 'pulsar://127.0.0.1:9']);
    expect(fromEnv.exitCode).toBe(2);
    expect(fromEnv.stderr).toContain('REDIS_URL = redis://h/x: the path must be a database number');
  });

  it('exits 1 when Redis cannot be reached, before it connects to the broker, without the password', async () => {
    delete process.env.REDIS_URL;
    const r = await cli(['producer', '--pulsar', 'pulsar://127.0.0.1:9', '--redis', 'redis://user:s3cret@127.0.0.1:9/2']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot reach Redis at redis:\/\/\[redacted\]@127\.0\.0\.1:9\/2: /);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.stderr).not.toMatch(/Pulsar/);
    process.env.REDIS_URL = 'redis://:s3cret@127.0.0.1:9';
    const fromEnv = await cli(['producer', '--pulsar', 'pulsar://127.0.0.1:9']);
    expect(fromEnv.exitCode).toBe(1);
    expect(fromEnv.stderr).toMatch(/cannot reach Redis at redis:\/\/\[redacted\]@127\.0\.0\.1:9: /);
    expect(fromEnv.stderr).not.toContain('s3cret');
  });
});
