import { PulsarError } from './pulsar-error';
import { addressUrl, parseServiceUrl } from './service-url';
import { fullTopicName, partitionIndexOf, partitionTopicName } from './topic-name';

describe('topic names', () => {
  it('completes short names', () => {
    expect(fullTopicName('jobs')).toBe('persistent://public/default/jobs');
    expect(fullTopicName('acme/site-1/jobs')).toBe('persistent://acme/site-1/jobs');
    expect(fullTopicName('non-persistent://a/b/c')).toBe('non-persistent://a/b/c');
  });

  it('rejects malformed names', () => {
    for (const bad of ['', 'a/b', 'a/b/c/d', 'http://a/b/c', 'persistent://a/b'])
      expect(() => fullTopicName(bad)).toThrow(PulsarError);
  });

  it('names partitions', () => {
    expect(partitionTopicName('jobs', 2)).toBe('persistent://public/default/jobs-partition-2');
    expect(partitionIndexOf('persistent://public/default/jobs-partition-2')).toBe(2);
    expect(partitionIndexOf('persistent://public/default/jobs')).toBe(-1);
  });
});

describe('service URLs', () => {
  it('parses pulsar:// and pulsar+ssl:// with default ports and several hosts', () => {
    expect(parseServiceUrl('pulsar://127.0.0.1:6650')).toEqual([
      { host: '127.0.0.1', port: 6650, tls: false },
    ]);
    expect(parseServiceUrl('pulsar+ssl://broker.example')).toEqual([
      { host: 'broker.example', port: 6651, tls: true },
    ]);
    expect(parseServiceUrl('pulsar://a:1,b,[::1]:3/')).toEqual([
      { host: 'a', port: 1, tls: false },
      { host: 'b', port: 6650, tls: false },
      { host: '::1', port: 3, tls: false },
    ]);
    expect(addressUrl({ host: '::1', port: 3, tls: true })).toBe('pulsar+ssl://[::1]:3');
  });

  it('rejects other schemes and bad ports with PULSAR_INVALID_URL', () => {
    for (const bad of ['http://a:8080', 'pulsar://', 'pulsar://a:0', 'pulsar://a:99999', 'a:6650']) {
      expect(() => parseServiceUrl(bad)).toThrow(expect.objectContaining({ code: 'PULSAR_INVALID_URL' }));
    }
  });
});
