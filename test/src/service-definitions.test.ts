import * as path from 'node:path';
import { EXPERIMENT_SERVICE } from '@surrogate/producer';
import { INFERENCE_SERVICE } from '@surrogate/model-server';
import { PRICER_SERVICE } from '@surrogate/pricing';
import { HEALTH_SERVICE } from '@surrogate/proto';
import * as protobuf from 'protobufjs';

const PROTO = path.resolve(__dirname, '..', '..', 'proto');

interface MethodShape {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** The methods a .proto file declares for `service`, as gRPC paths with their streaming. */
function declared(file: string, service: string): MethodShape[] {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO, target));
  root.loadSync(path.join(PROTO, file));
  const s = root.lookupService(service);
  return Object.values(s.methods)
    .map((m) => ({ path: `/${service}/${m.name}`, requestStream: Boolean(m.requestStream), responseStream: Boolean(m.responseStream) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** The methods a server or client built on `definition` answers or calls. */
function served(definition: Record<string, MethodShape>): MethodShape[] {
  return Object.values(definition)
    .map((m) => ({ path: m.path, requestStream: m.requestStream, responseStream: m.responseStream }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * The .proto files are what a client in another language is generated from: every method a server
 * answers must be there, with the same streaming, and no method there may be missing from it.
 */
describe('the gRPC services and their .proto files', () => {
  it.each([
    ['grpc/health/v1/health.proto', 'grpc.health.v1.Health', HEALTH_SERVICE],
    ['surrogate/v1/experiment_service.proto', 'surrogate.v1.ExperimentService', EXPERIMENT_SERVICE],
    ['surrogate/v1/inference.proto', 'surrogate.v1.InferenceService', INFERENCE_SERVICE],
    ['surrogate/v1/pricer.proto', 'surrogate.v1.PricerService', PRICER_SERVICE],
  ])('%s declares exactly what %s serves', (file, service, definition) => {
    expect(served(definition as unknown as Record<string, MethodShape>)).toEqual(declared(file, service));
  });
});
