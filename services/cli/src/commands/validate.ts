import { RemotePricers, type GrpcPricerOptions } from '@surrogate/pricing';
import { loadSpecFile, loadSpecFileReachingPricer, specToDocument } from '@surrogate/spec';
import { badInput } from '../cli-error';

export interface ValidateCommandOptions {
  /** Do not contact a gRPC pricer: check the spec's shape only. */
  offline?: boolean;
  grpc?: GrpcPricerOptions;
}

/**
 * `surrogate validate <spec>`: checks a spec and prints it with every default filled in, in the
 * syntax of a spec file (the printed `spec` validates and runs as it is). A gRPC pricer is asked for its description and checks the input box itself, unless --offline.
 */
export async function validateCommand(
  file: string | undefined,
  o: ValidateCommandOptions = {},
): Promise<string> {
  if (!file)
    throw badInput('MISSING_ARGUMENT', 'usage: surrogate validate <spec.yaml|spec.json> [--offline]');
  if (o.offline) return JSON.stringify({ valid: true, spec: specToDocument(await loadSpecFile(file)) });
  const remote = new RemotePricers(o.grpc ?? {});
  try {
    return JSON.stringify({ valid: true, spec: specToDocument(await loadSpecFileReachingPricer(file, remote)) });
  } finally {
    remote.close();
  }
}
