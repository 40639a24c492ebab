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

  it('refuses credentials or a query in the URL without quoting them (errors are printed and logged)', () => {
    for (const url of ['pulsar://user:URLPW321@127.0.0.1:1', 'pulsar://127.0.0.1:1/?token=QTOK999', 'pulsar+ssl://svc:SUBPW111@h:6651', 'http://u:SECRET7@h', 'pulsar://h:1#SECRET8']) {
      let message = '';
      try {
        parseServiceUrl(url);
      } catch (err) {
        expect(err).toBeInstanceOf(PulsarError);
        message = (err as Error).message;
      }
      expect({ url, message }).toEqual({ url, message: expect.stringContaining('invalid Pulsar service URL') });
      expect(message).not.toMatch(/URLPW321|QTOK999|SUBPW111|SECRET7|SECRET8|user|svc/);
    }
  });

  it('rejects other schemes and bad ports with PULSAR_INVALID_URL', () => {
    for (const bad of ['http://a:8080', 'pulsar://', 'pulsar://a:0', 'pulsar://a:99999', 'a:6650']) {
      expect(() => parseServiceUrl(bad)).toThrow(expect.objectContaining({ code: 'PULSAR_INVALID_URL' }));
    }
  });
});
