#!/usr/bin/env node
/**
 * node examples/grpc-pricer/dist/main.js [--listen HOST:PORT] [--tls-cert F --tls-key F [--tls-client-ca F]]
 *
 * Prints one JSON line, {"url": "grpc://…/bachelier"}, once it listens; runs until SIGTERM or
 * SIGINT. A bearer token is required when $SURROGATE_PRICER_SERVER_TOKEN is set.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, errorMessage } from '@surrogate/core';
import { startExampleServer } from './example-server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-client-ca': { type: 'string' },
    },
  });
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined))
    throw new Error('TLS needs both --tls-cert and --tls-key');
  const clientCa = values['tls-client-ca'];
  const log = createLogger({ name: 'example-grpc-pricer' });
  const server = await startExampleServer({
    listen: values.listen,
    tls:
      cert !== undefined && key !== undefined
        ? {
            cert: readFileSync(cert),
            key: readFileSync(key),
            clientCa: clientCa === undefined ? undefined : readFileSync(clientCa),
          }
        : undefined,
    token: process.env.SURROGATE_PRICER_SERVER_TOKEN || undefined,
    logger: log,
  });
  process.stdout.write(`${JSON.stringify({ url: server.urlOf('bachelier') })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${errorMessage(err)}\n`);
  process.exitCode = 2;
});
