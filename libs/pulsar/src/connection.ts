import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '@surrogate/core';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  FRAME_PADDING,
  type Frame,
  type PayloadSection,
  encodeCommand,
  encodePayloadCommand,
} from './frame';
import { FrameDecoder } from './frame-decoder';
import { BrokerError, PulsarError, PulsarErrorCode } from './pulsar-error';
import { type ServiceAddress, addressUrl } from './service-url';
import {
  type BaseCommand,
  CommandType,
  type MessageMetadata,
  commandTypeName,
  proto,
  serverErrorName,
} from './wire';

/** Protocol version this client speaks (v19: consumer epochs, ack sets, broker entry metadata). */
export const CLIENT_PROTOCOL_VERSION = 19;
export const CLIENT_VERSION = 'surrogate-pulsar-ts-0.1.0';

export interface TlsOptions {
  /** Trusted CA certificate(s), PEM. Defaults to Node's bundled roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Skip certificate verification (tests only). */
  allowInsecureConnection?: boolean;
  /** SNI / certificate host name; defaults to the host of the URL. */
  servername?: string;
}

/** A token, or a function returning the current one (called on each connect and auth challenge). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ConnectionOptions {
  /** Where the TCP connection goes. */
  address: ServiceAddress;
  /** Broker URL to be proxied to, when `address` is a Pulsar proxy. */
  proxyToBrokerUrl?: string;
  tls?: TlsOptions;
  token?: TokenSource;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  /** PING interval; a connection with no traffic back over a whole interval after a PING is closed. */
  keepAliveIntervalMs: number;
  logger: Logger;
}

export interface ProducerListener {
  onSendReceipt(receipt: NonNullable<BaseCommand['sendReceipt']>): void;
  onSendError(error: NonNullable<BaseCommand['sendError']>): void;
  /** The broker closed the producer (topic unloaded, moved…): re-create it. */
  onClosedByBroker(): void;
  onConnectionClosed(cause: PulsarError): void;
}

export interface ConsumerListener {
  onMessage(message: NonNullable<BaseCommand['message']>, payload: PayloadSection): void;
  onActiveConsumerChange(isActive: boolean): void;
  onReachedEndOfTopic(): void;
  onClosedByBroker(): void;
  onConnectionClosed(cause: PulsarError): void;
}

interface PendingRequest {
  resolve(command: BaseCommand): void;
  reject(err: unknown): void;
  timer?: NodeJS.Timeout;
  what: string;
}

async function resolveToken(source: TokenSource): Promise<string> {
  return typeof source === 'function' ? source() : source;
}

/**
 * One TCP (or TLS) connection to a broker, after the CONNECT/CONNECTED handshake: requests
 * matched by request id, producers and consumers registered by id, PING/PONG keep-alive in both
 * directions. Producers and consumers handle its loss themselves (see `onConnectionClosed`).
 */
export class Connection {
  readonly url: string;
  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder(DEFAULT_MAX_MESSAGE_SIZE + FRAME_PADDING);
  private readonly pending = new Map<number, PendingRequest>();
  private readonly producers = new Map<number, ProducerListener>();
  private readonly consumers = new Map<number, ConsumerListener>();
  private readonly closeListeners: ((cause: PulsarError) => void)[] = [];
  private nextRequestId = 1;
  private keepAliveTimer?: NodeJS.Timeout;
  private awaitingPong = false;
  private closedWith?: PulsarError;
  private handshake?: { resolve(): void; reject(err: unknown): void };
  private readonly log: Logger;

  /** Max message size the broker accepts (CONNECTED.max_message_size, else 5 MiB). */
  maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  /** Protocol version in use: the lower of the client's and the broker's. */
  protocolVersion = 0;
  serverVersion = '';

  private constructor(private readonly options: ConnectionOptions) {
    this.url = addressUrl(options.address);
    this.log = options.logger.child({ broker: this.url });
    const { host, port } = options.address;
    if (options.address.tls) {
      const t = options.tls ?? {};
      const servername = t.servername ?? (net.isIP(host) ? undefined : host);
      this.socket = tls.connect({
        host,
        port,
        ...(servername === undefined ? {} : { servername }),
        ...(t.ca === undefined ? {} : { ca: t.ca }),
        ...(t.cert === undefined ? {} : { cert: t.cert }),
        ...(t.key === undefined ? {} : { key: t.key }),
        rejectUnauthorized: t.allowInsecureConnection !== true,
      });
    } else {
      this.socket = net.connect({ host, port });
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = this.handshake ? PulsarErrorCode.CONNECTION_FAILED : PulsarErrorCode.CONNECTION_CLOSED;
      this.fail(
        new PulsarError(code, `connection to ${this.url} failed: ${err.message}`, {
          cause: err,
          details: { url: this.url, errno: err.code },
        }),
      );
    });
    this.socket.on('close', () =>
      this.fail(
        new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `connection to ${this.url} closed`, {
          details: { url: this.url },
        }),
      ),
    );
  }

  /**
   * Opens a connection and completes the handshake within `connectTimeoutMs`. Fails with
   * CONNECT_TIMEOUT, CONNECTION_FAILED (refused, unreachable, TLS) or the broker's error
   * (e.g. BrokerError "AuthenticationError").
   */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const cnx = new Connection(options);
    const handshakeDone = new Promise<void>((resolve, reject) => {
      cnx.handshake = { resolve, reject };
    });
    const timer = setTimeout(() => {
      cnx.fail(
        new PulsarError(
          PulsarErrorCode.CONNECT_TIMEOUT,
          `could not connect to ${cnx.url} within ${options.connectTimeoutMs} ms`,
          {
            details: { url: cnx.url, connectTimeoutMs: options.connectTimeoutMs },
          },
        ),
      );
    }, options.connectTimeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        cnx.socket.once(options.address.tls ? 'secureConnect' : 'connect', resolve);
        handshakeDone.catch(reject);
      });
      await cnx.sendConnect();
      await handshakeDone;
    } catch (err) {
      const cause =
        err instanceof PulsarError
          ? err
          : new PulsarError(
              PulsarErrorCode.CONNECTION_FAILED,
              `connection to ${cnx.url} failed: ${String(err)}`,
              { cause: err },
            );
      cnx.fail(cause);
      throw cause;
    } finally {
      clearTimeout(timer);
    }
    cnx.startKeepAlive();
    cnx.log.debug(
      {
        protocolVersion: cnx.protocolVersion,
        serverVersion: cnx.serverVersion,
        maxMessageSize: cnx.maxMessageSize,
      },
      'connected',
    );
    return cnx;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  private async sendConnect(): Promise<void> {
    const connect: NonNullable<BaseCommand['connect']> = {
      clientVersion: CLIENT_VERSION,
      protocolVersion: CLIENT_PROTOCOL_VERSION,
      featureFlags: { supportsAuthRefresh: true },
    };
    if (this.options.token !== undefined) {
      connect.authMethodName = 'token';
      connect.authData = Buffer.from(await resolveToken(this.options.token), 'utf8');
    }
    if (this.options.proxyToBrokerUrl !== undefined) connect.proxyToBrokerUrl = this.options.proxyToBrokerUrl;
    this.write(encodeCommand({ type: CommandType.CONNECT, connect }));
  }

  newRequestId(): number {
    return this.nextRequestId++;
  }

  registerProducer(producerId: number, listener: ProducerListener): void {
    this.producers.set(producerId, listener);
  }

  unregisterProducer(producerId: number): void {
    this.producers.delete(producerId);
  }

  registerConsumer(consumerId: number, listener: ConsumerListener): void {
    this.consumers.set(consumerId, listener);
  }

  unregisterConsumer(consumerId: number): void {
    this.consumers.delete(consumerId);
  }

  /** Called once when the connection closes, with the reason. */
  onClose(listener: (cause: PulsarError) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  /** Sends a command that expects no response. Returns false if the connection is closed. */
  send(command: BaseCommand): boolean {
    return this.write(encodeCommand(command));
  }

  /** Sends a pre-encoded frame (or one frame in parts, in one writev). Returns false if the connection is closed. */
  write(frame: Buffer | readonly Buffer[]): boolean {
    if (this.closed || this.socket.destroyed) return false;
    if (Buffer.isBuffer(frame)) {
      this.socket.write(frame);
    } else {
      this.socket.cork();
      for (const part of frame) this.socket.write(part);
      this.socket.uncork();
    }
    return true;
  }

  sendPayload(command: BaseCommand, metadata: MessageMetadata | Uint8Array, payload: Uint8Array): boolean {
    return this.write(encodePayloadCommand(command, metadata, payload));
  }

  /**
   * Sends the command built for a fresh request id and resolves with the broker's response
   * (SUCCESS, PRODUCER_SUCCESS, LOOKUP_RESPONSE…); a broker error rejects with BrokerError.
   */
  request(
    build: (requestId: number) => BaseCommand,
    timeoutMs = this.options.operationTimeoutMs,
  ): Promise<BaseCommand> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const requestId = this.newRequestId();
    const command = build(requestId);
    const what = commandTypeName(command.type);
    return new Promise<BaseCommand>((resolve, reject) => {
      const entry: PendingRequest = { resolve, reject, what };
      entry.timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new PulsarError(
            PulsarErrorCode.OPERATION_TIMEOUT,
            `${what} got no response from ${this.url} within ${timeoutMs} ms`,
            { details: { requestId } },
          ),
        );
      }, timeoutMs);
      this.pending.set(requestId, entry);
      this.send(command);
    });
  }

  /** Closes the connection; producers and consumers on it are told (and reconnect). */
  close(cause?: PulsarError): void {
    this.fail(
      cause ??
        new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `connection to ${this.url} closed by the client`),
    );
  }

  private startKeepAlive(): void {
    const interval = this.options.keepAliveIntervalMs;
    if (interval <= 0) return;
    this.keepAliveTimer = setInterval(() => {
      if (this.awaitingPong) {
        this.log.warn({ keepAliveIntervalMs: interval }, 'no response to ping: closing the connection');
        this.fail(
          new PulsarError(
            PulsarErrorCode.CONNECTION_CLOSED,
            `connection to ${this.url} lost: no response to keep-alive ping within ${interval} ms`,
          ),
        );
        return;
      }
      this.awaitingPong = true;
      this.send({ type: CommandType.PING, ping: {} });
    }, interval);
    this.keepAliveTimer.unref();
  }

  private fail(cause: PulsarError): void {
    if (this.closedWith) return;
    this.closedWith = cause;
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.socket.destroy();
    if (this.handshake) {
      this.handshake.reject(cause);
      this.handshake = undefined;
    } else {
      this.log.debug({ reason: cause.message }, 'connection closed');
    }
    for (const [, req] of this.pending) {
      if (req.timer) clearTimeout(req.timer);
      req.reject(
        new PulsarError(PulsarErrorCode.CONNECTION_CLOSED, `${req.what} failed: ${cause.message}`, { cause }),
      );
    }
    this.pending.clear();
    const producers = [...this.producers.values()];
    const consumers = [...this.consumers.values()];
    this.producers.clear();
    this.consumers.clear();
    for (const p of producers) p.onConnectionClosed(cause);
    for (const c of consumers) c.onConnectionClosed(cause);
    for (const listener of this.closeListeners.splice(0)) listener(cause);
  }

  private onData(chunk: Buffer): void {
    this.awaitingPong = false;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      if (this.handshake) {
        // The very first answer is not Pulsar: most likely a wrong port (e.g. the HTTP admin port).
        const preview = chunk
          .subarray(0, 40)
          .toString('latin1')
          .replace(/[^\x20-\x7e]+/g, ' ')
          .trim();
        this.fail(
          new PulsarError(
            PulsarErrorCode.PROTOCOL_ERROR,
            `${this.url} does not speak the Pulsar binary protocol (it answered "${preview}"); ` +
              'check the port: brokers serve it on 6650 (pulsar://) or 6651 (pulsar+ssl://), HTTP is on 8080',
            { cause: err, details: { url: this.url } },
          ),
        );
        return;
      }
      this.log.error({ err }, 'protocol error: closing the connection');
      this.fail(
        err instanceof PulsarError
          ? err
          : new PulsarError(PulsarErrorCode.PROTOCOL_ERROR, String(err), { cause: err }),
      );
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      try {
        this.dispatch(frame);
      } catch (err) {
        this.log.error({ err, command: commandTypeName(frame.command.type) }, 'error handling a command');
      }
    }
  }

  private dispatch(frame: Frame): void {
    const cmd = frame.command;
    switch (cmd.type) {
      case CommandType.CONNECTED:
        return this.onConnected(cmd);
      case CommandType.PING:
        this.send({ type: CommandType.PONG, pong: {} });
        return;
      case CommandType.PONG:
        return;
      case CommandType.AUTH_CHALLENGE:
        void this.onAuthChallenge();
        return;
      case CommandType.SEND_RECEIPT:
        if (cmd.sendReceipt) this.producers.get(cmd.sendReceipt.producerId)?.onSendReceipt(cmd.sendReceipt);
        return;
      case CommandType.SEND_ERROR:
        if (cmd.sendError) this.producers.get(cmd.sendError.producerId)?.onSendError(cmd.sendError);
        return;
      case CommandType.MESSAGE:
        if (!cmd.message || !frame.payload)
          throw new PulsarError(PulsarErrorCode.PROTOCOL_ERROR, 'MESSAGE without payload');
        this.consumers.get(cmd.message.consumerId)?.onMessage(cmd.message, frame.payload);
        return;
      case CommandType.ACTIVE_CONSUMER_CHANGE:
        if (cmd.activeConsumerChange)
          this.consumers
            .get(cmd.activeConsumerChange.consumerId)
            ?.onActiveConsumerChange(cmd.activeConsumerChange.isActive === true);
        return;
      case CommandType.REACHED_END_OF_TOPIC:
        if (cmd.reachedEndOfTopic)
          this.consumers.get(cmd.reachedEndOfTopic.consumerId)?.onReachedEndOfTopic();
        return;
      case CommandType.CLOSE_PRODUCER: {
        const id = cmd.closeProducer?.producerId;
        const listener = id === undefined ? undefined : this.producers.get(id);
        if (id !== undefined) this.producers.delete(id);
        listener?.onClosedByBroker();
        return;
      }
      case CommandType.CLOSE_CONSUMER: {
        const id = cmd.closeConsumer?.consumerId;
        const listener = id === undefined ? undefined : this.consumers.get(id);
        if (id !== undefined) this.consumers.delete(id);
        listener?.onClosedByBroker();
        return;
      }
      case CommandType.ERROR:
        if (this.handshake) {
          const e = cmd.error;
          this.fail(new BrokerError(serverErrorName(e?.error), e?.message ?? '', { url: this.url }));
          return;
        }
        return this.settle(
          cmd.error?.requestId,
          cmd,
          new BrokerError(serverErrorName(cmd.error?.error), cmd.error?.message ?? ''),
        );
      case CommandType.SUCCESS:
        return this.settle(cmd.success?.requestId, cmd);
      case CommandType.PRODUCER_SUCCESS:
        if (cmd.producerSuccess?.producerReady === false) {
          // Waiting for exclusive access: keep the request open without a timeout.
          const req = this.pending.get(cmd.producerSuccess.requestId);
          if (req?.timer) clearTimeout(req.timer);
          return;
        }
        return this.settle(cmd.producerSuccess?.requestId, cmd);
      case CommandType.LOOKUP_RESPONSE: {
        const r = cmd.lookupTopicResponse;
        const failed = r?.response === proto.CommandLookupTopicResponse.LookupType.Failed;
        return this.settle(
          r?.requestId,
          cmd,
          failed ? new BrokerError(serverErrorName(r?.error), r?.message ?? 'lookup failed') : undefined,
        );
      }
      case CommandType.PARTITIONED_METADATA_RESPONSE: {
        const r = cmd.partitionMetadataResponse;
        const failed = r?.response === proto.CommandPartitionedTopicMetadataResponse.LookupType.Failed;
        return this.settle(
          r?.requestId,
          cmd,
          failed
            ? new BrokerError(serverErrorName(r?.error), r?.message ?? 'partitioned metadata failed')
            : undefined,
        );
      }
      case CommandType.GET_LAST_MESSAGE_ID_RESPONSE:
        return this.settle(cmd.getLastMessageIdResponse?.requestId, cmd);
      case CommandType.ACK_RESPONSE: {
        const r = cmd.ackResponse;
        if (r?.requestId === undefined || r.requestId === null) return;
        return this.settle(
          r.requestId,
          cmd,
          r.error === undefined || r.error === null
            ? undefined
            : new BrokerError(serverErrorName(r.error), r.message ?? ''),
        );
      }
      default:
        this.log.debug({ command: commandTypeName(cmd.type) }, 'ignoring command');
    }
  }

  private settle(requestId: number | null | undefined, command: BaseCommand, error?: PulsarError): void {
    if (requestId === undefined || requestId === null) return;
    const req = this.pending.get(requestId);
    if (!req) return;
    this.pending.delete(requestId);
    if (req.timer) clearTimeout(req.timer);
    if (error) req.reject(error);
    else req.resolve(command);
  }

  private onConnected(cmd: BaseCommand): void {
    const connected = cmd.connected;
    if (!this.handshake || !connected) return;
    this.serverVersion = connected.serverVersion;
    this.protocolVersion = Math.min(CLIENT_PROTOCOL_VERSION, connected.protocolVersion ?? 0);
    if (typeof connected.maxMessageSize === 'number' && connected.maxMessageSize > 0)
      this.maxMessageSize = connected.maxMessageSize;
    this.decoder.setMaxFrameSize(this.maxMessageSize + FRAME_PADDING);
    const handshake = this.handshake;
    this.handshake = undefined;
    handshake.resolve();
  }

  private async onAuthChallenge(): Promise<void> {
    if (this.options.token === undefined) return;
    try {
      const token = await resolveToken(this.options.token);
      this.send({
        type: CommandType.AUTH_RESPONSE,
        authResponse: {
          clientVersion: CLIENT_VERSION,
          protocolVersion: CLIENT_PROTOCOL_VERSION,
          response: { authMethodName: 'token', authData: Buffer.from(token, 'utf8') },
        },
      });
    } catch (err) {
      this.log.error({ err }, 'cannot answer the auth challenge: the token source failed');
    }
  }
}
