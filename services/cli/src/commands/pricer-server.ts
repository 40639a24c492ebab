import { createLogger, parseListenAddress } from '@surrogate/core';
import { getPricer, PricerServer, pricerNames, type PricerServerTls } from '@surrogate/pricing';
import { badInput } from '../cli-error';
import { serverTls, type ServerTlsFlags } from '../server-tls-flags';
import { serverToken } from '../server-token';
import { stopSignal } from '../stop-signal';

export interface PricerServerCommandOptions extends ServerTlsFlags {
  /** Comma-separated pricer names; default: every registered pricer (built-in and from --pricer-module). */
  pricers?: string;
  /** Pricer names the --pricer-module files provided; the default when --pricers is not given. */
  fromModules?: string[];
  listen?: string;
  maxBatchRows?: string;
}

/** The variable that holds the bearer token clients must present (unset: no token required). */
export const PRICER_SERVER_TOKEN_ENV = 'SURROGATE_PRICER_SERVER_TOKEN';

/**
 * `surrogate pricer-server`: serves registered pricers over PricerService (gRPC) until SIGTERM or
 * SIGINT, so that specs can name them as grpc://host:port/<name> (grpcs:// with --tls-cert).
 * Mostly for trying gRPC pricers out and for tests: a client's own pricer usually runs in its own
 * server (see examples/grpc-pricer).
 */
export async function pricerServerCommand(o: PricerServerCommandOptions): Promise<string> {
  const names =
    o.pricers !== undefined
      ? o.pricers
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : o.fromModules?.length
        ? o.fromModules
        : pricerNames();
  if (names.length === 0) throw badInput('BAD_OPTION', `--pricers = ${o.pricers}: name at least one pricer`);
  const pricers = names.map((n) => {
    try {
      return getPricer(n);
    } catch (err) {
      throw badInput('UNKNOWN_PRICER', `--pricers: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const listen = o.listen ?? '127.0.0.1:50051';
  if (!parseListenAddress(listen))
    throw badInput(
      'BAD_OPTION',
      `--listen = ${listen}: must be host:port, e.g. 127.0.0.1:50051 or 0.0.0.0:50051`,
    );
  let maxBatchRows: number | undefined;
  if (o.maxBatchRows !== undefined) {
    maxBatchRows = o.maxBatchRows.trim() === '' ? Number.NaN : Number(o.maxBatchRows);
    if (!Number.isInteger(maxBatchRows) || maxBatchRows < 0 || maxBatchRows > 1 << 24)
      throw badInput(
        'BAD_OPTION',
        `--max-batch-rows = ${o.maxBatchRows}: must be a whole number from 0 (no limit) to ${1 << 24}`,
      );
  }
  const tls: PricerServerTls | undefined = serverTls(o);
  const token = serverToken(PRICER_SERVER_TOKEN_ENV);
  const log = createLogger({ name: 'pricer-server' });
  const server = await PricerServer.start({
    pricers,
    address: listen,
    tls,
    token,
    maxBatchRows,
    logger: log,
  });
  const stopped = stopSignal(); // before the service says it is ready
  log.info(
    {
      urls: names.map((n) => server.urlOf(n)),
      tls: tls !== undefined,
      mutualTls: tls?.clientCa !== undefined,
      tokenRequired: token !== undefined,
    },
    'pricer server listening; SIGTERM or SIGINT stops it',
  );
  await stopped.received;
  log.info('stopping');
  await server.close();
  return '';
}
