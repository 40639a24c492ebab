import type { Logger } from '@surrogate/core';
import type { Bus } from './bus';
import { BusError, BusErrorCode } from './bus-error';
import { createMemoryBus } from './memory-bus';
import { createPulsarBus, type PulsarBusOptions } from './pulsar-bus';

/** Options of `openBus`: the logger, plus the pulsar adapter's options (ignored by the memory bus). */
export interface OpenBusOptions extends Omit<PulsarBusOptions, 'serviceUrl' | 'logger'> {
  logger?: Logger;
}

/**
 * Opens the bus a URL names:
 * - `memory:` or `memory://<name>`: a new in-process memory bus (the name shows in logs and errors);
 * - `pulsar://host:6650` or `pulsar+ssl://host:6651`: the pulsar bus (`createPulsarBus`).
 * Anything else is a BusError INVALID_ARGUMENT naming the scheme.
 */
export async function openBus(url: string, options: OpenBusOptions = {}): Promise<Bus> {
  if (typeof url !== 'string') {
    throw new BusError(BusErrorCode.INVALID_ARGUMENT, `bus URL must be a string, got ${typeof url}`, { details: { url } });
  }
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url.trim());
  const scheme = match?.[1].toLowerCase();
  const { logger, ...pulsarOptions } = options;
  switch (scheme) {
    case 'memory': {
      const name = url.trim().slice('memory:'.length).replace(/^\/\//, '').replace(/\/+$/, '');
      return createMemoryBus({ ...(name === '' ? {} : { name }), ...(logger === undefined ? {} : { logger }) });
    }
    case 'pulsar':
    case 'pulsar+ssl':
      return createPulsarBus({ ...pulsarOptions, serviceUrl: url.trim(), ...(logger === undefined ? {} : { logger }) });
    default:
      throw new BusError(
        BusErrorCode.INVALID_ARGUMENT,
        scheme === undefined
          ? 'bus URL has no scheme; expected memory:, pulsar:// or pulsar+ssl://'
          : `unsupported bus URL scheme "${scheme}:"; expected memory:, pulsar:// or pulsar+ssl://`,
        { details: { scheme: scheme ?? null } },
      );
  }
}
