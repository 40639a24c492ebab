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

/**
 * The server's TLS material, or undefined for plaintext. The flags must come as a pair (plus the
 * optional client CA, which needs them): exit 2 otherwise, and for a file that cannot be read.
 */
export function serverTls(o: ServerTlsFlags): { cert: Buffer; key: Buffer; clientCa?: Buffer } | undefined {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw badInput('BAD_OPTION', 'TLS needs both --tls-cert and --tls-key');
  if (o.tlsClientCa !== undefined && o.tlsCert === undefined)
    throw badInput('BAD_OPTION', '--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)');
  if (o.tlsCert === undefined || o.tlsKey === undefined) return undefined;
  return {
    cert: readPem('--tls-cert', o.tlsCert),
    key: readPem('--tls-key', o.tlsKey),
    ...(o.tlsClientCa === undefined ? {} : { clientCa: readPem('--tls-client-ca', o.tlsClientCa) }),
  };
}
