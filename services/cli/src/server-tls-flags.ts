import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { badInput } from './cli-error';

/** The TLS flags of a command that serves gRPC (`serve`, `pricer-server`). */
export interface ServerTlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  /** Require client certificates signed by this CA (mutual TLS). */
  tlsClientCa?: string;
}

/** A PEM file named by a flag; exit 2 naming the flag when it cannot be read. */
export function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw badInput('BAD_OPTION', `${flag} = ${file}: cannot read the file (${code})`);
  }
}

/** The PEM certificate named by `flag`; exit 2 naming the flag when the file holds none. */
function certificate(flag: string, file: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw badInput('BAD_OPTION', `${flag} = ${file}: not a PEM certificate (${(err as Error).message})`);
  }
}

/** The PEM private key named by `flag`; exit 2 naming the flag when the file holds none. */
function privateKey(flag: string, file: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw badInput('BAD_OPTION', `${flag} = ${file}: not a PEM private key (${(err as Error).message})`);
  }
}

/**
 * The server's TLS material, or undefined for plaintext. The flags must come as a pair (plus the
 * optional client CA, which needs them): exit 2 otherwise, for a file that cannot be read, that is
 * not a PEM certificate or key, for a key that is not the certificate's, and for a certificate outside
 * its validity dates (each message names the flag), instead of a failure to listen later or clients
 * that cannot connect.
 */
export function serverTls(o: ServerTlsFlags): { cert: Buffer; key: Buffer; clientCa?: Buffer } | undefined {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw badInput('BAD_OPTION', 'TLS needs both --tls-cert and --tls-key');
  if (o.tlsClientCa !== undefined && o.tlsCert === undefined)
    throw badInput('BAD_OPTION', '--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)');
  if (o.tlsCert === undefined || o.tlsKey === undefined) return undefined;
  const cert = readPem('--tls-cert', o.tlsCert);
  const key = readPem('--tls-key', o.tlsKey);
  const clientCa = o.tlsClientCa === undefined ? undefined : readPem('--tls-client-ca', o.tlsClientCa);
  const x509 = certificate('--tls-cert', o.tlsCert, cert);
  if (!x509.checkPrivateKey(privateKey('--tls-key', o.tlsKey, key)))
    throw badInput('BAD_OPTION', `--tls-key = ${o.tlsKey}: not the private key of --tls-cert = ${o.tlsCert}`);
  // every client would refuse it: said now, not as handshake failures on the clients' side
  const now = Date.now();
  if (Date.parse(x509.validTo) < now)
    throw badInput('BAD_OPTION', `--tls-cert = ${o.tlsCert}: the certificate expired on ${x509.validTo}`);
  if (Date.parse(x509.validFrom) > now)
    throw badInput('BAD_OPTION', `--tls-cert = ${o.tlsCert}: the certificate is not valid before ${x509.validFrom}`);
  if (clientCa !== undefined && o.tlsClientCa !== undefined) certificate('--tls-client-ca', o.tlsClientCa, clientCa);
  return { cert, key, ...(clientCa === undefined ? {} : { clientCa }) };
}
