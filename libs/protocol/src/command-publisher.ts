import type { Logger } from '@surrogate/core';
import type { Bus, Topics } from '@surrogate/messaging';
import { v1 } from '@surrogate/proto';
import { ensureServiceSubscriptions } from './service-subscriptions';
import { Codecs } from './wire-codec';

/**
 * Publishes experiment commands (submit, cancel) on the experiments topic, keyed by experiment id so
 * that one experiment's commands keep their order. Before its first command it creates the
 * producer's subscription where it does not exist yet, so that a command sent before any producer
 * ever ran waits for the first one instead of being lost.
 */
export class CommandPublisher {
  private ensured: Promise<void> | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly topics: Topics,
    private readonly log: Logger,
  ) {}

  async publish(command: v1.IExperimentCommand): Promise<v1.ExperimentCommand> {
    const message = v1.ExperimentCommand.create(command);
    this.ensured ??= ensureServiceSubscriptions(this.bus, this.topics, ['experiments'], this.log).catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    await this.ensured;
    await this.bus.publish(this.topics.experiments, { payload: Codecs.command.encode(message), key: message.experimentId });
    return message;
  }
}
