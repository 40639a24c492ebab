/**
 * Wire types, generated at build time from proto/ by protobufjs (see scripts/generate.js).
 * Nothing in the project writes a wire type by hand: it imports them from here.
 */
import { surrogate, onnx, pulsar, grpc } from './gen/wire';

export { surrogate, onnx, pulsar, grpc };

// 64-bit fields: the generated types say `number` (--force-number), but protobufjs decodes them as
// Long objects because the `long` package is present (libs/pulsar relies on that for 64-bit ack
// sets). Read our own 64-bit fields (sample indices, counts, seeds, timestamps) through Number().
export { decodeMessage, MalformedMessageError, type Decodable } from './decode';

export import v1 = surrogate.v1;
/** gRPC's standard health-checking messages (grpc.health.v1). */
export import health = grpc.health.v1;
export { serverStreamMethod, unaryMethod, type ServerStreamMethod, type UnaryMethod, type GeneratedType } from './grpc-method';
export { shutdownGracefully, type ShutdownableServer } from './grpc-shutdown';
export { HEALTH_SERVICE } from './health-service';
export { DEFAULT_MAX_HEALTH_WATCHERS, GRPC_NOT_FOUND, GRPC_RESOURCE_EXHAUSTED, ServingHealth, UnknownHealthService, type HealthWatchCall } from './serving-health';
