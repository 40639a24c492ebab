import type * as grpc from '@grpc/grpc-js';

/** A call refused on purpose: answered with `status` and `message` as its details (never logged as a failure). */
export class Refusal extends Error {
  constructor(
    readonly status: grpc.status,
    message: string,
  ) {
    super(message);
  }
}
