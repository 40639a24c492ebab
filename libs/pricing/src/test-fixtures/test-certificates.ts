import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** PEM files of a throw-away certificate authority and the certificates it signed. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** For the server: names localhost and 127.0.0.1. */
  serverCert: Buffer;
  serverKey: Buffer;
  /** For mutual TLS. */
  clientCertFile: string;
  clientKeyFile: string;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A second, unrelated CA: certificates above do not chain to it. */
  otherCaFile: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function issue(dir: string, name: string, ca: string, extensions: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  ]);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/**
 * A certificate authority, a server certificate (localhost, 127.0.0.1) and a client certificate,
 * made with the `openssl` command (OpenSSL 1.1.1 or later) in a fresh temporary directory.
 */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'surrogate-tls-'));
  newCa(dir, 'test-ca');
  newCa(dir, 'other-ca');
  issue(dir, 'server', 'test-ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue(dir, 'client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string): Buffer => readFileSync(path.join(dir, f));
  return {
    dir,
    caFile: path.join(dir, 'test-ca.pem'),
    ca: read('test-ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCertFile: path.join(dir, 'client.pem'),
    clientKeyFile: path.join(dir, 'client.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    otherCaFile: path.join(dir, 'other-ca.pem'),
  };
}
