import { RejectMessageError } from '@surrogate/messaging';
import { decodeMessage, MalformedMessageError, v1 } from '@surrogate/proto';

/** A generated message type with what the codec needs. */
interface MessageType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/** Encodes and decodes one wire type. */
export interface WireCodec<T> {
  readonly typeName: string;
  encode(message: T): Uint8Array;
  /** Decodes bytes from the bus. Undecodable bytes throw RejectMessageError: dead-lettered, never retried. */
  decode(bytes: Uint8Array): T;
}

function codec<T>(type: MessageType<T>, typeName: string): WireCodec<T> {
  return {
    typeName,
    encode: (message) => type.encode(message).finish(),
    decode: (bytes) => {
      try {
        return decodeMessage(type, typeName, bytes);
      } catch (err) {
        if (err instanceof MalformedMessageError) throw new RejectMessageError(err.message, { cause: err });
        throw err;
      }
    },
  };
}

/** The wire type of each topic. */
export const Codecs = {
  command: codec<v1.ExperimentCommand>(v1.ExperimentCommand, 'surrogate.v1.ExperimentCommand'),
  job: codec<v1.DataGenJob>(v1.DataGenJob, 'surrogate.v1.DataGenJob'),
  chunk: codec<v1.DataChunk>(v1.DataChunk, 'surrogate.v1.DataChunk'),
  event: codec<v1.ExperimentEvent>(v1.ExperimentEvent, 'surrogate.v1.ExperimentEvent'),
} as const;
