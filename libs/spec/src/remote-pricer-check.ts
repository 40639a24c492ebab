import {
  GrpcPricerError,
  isRemotePricer,
  parseRemotePricerUrl,
  type PricerDescription,
  type RemotePricers,
} from '@surrogate/pricing';
import { fieldOf, probeIssue } from './box-check';
import { boxProbe } from './box-probe';
import type { ExperimentSpec } from './experiment-spec';
import { loadSpecDocument } from './parse-spec';
import { resolveSpec } from './resolve-spec';
import { SpecError, type SpecIssue } from './spec-error';

function pricerOf(doc: unknown): unknown {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
    ? (doc as Record<string, unknown>).pricer
    : undefined;
}

/**
 * A gRPC pricer's description, or a SpecError on the `pricer` field when the server has no pricer
 * of that name. Other failures (down, slow, refused credentials) are GrpcPricerErrors: the spec may
 * well be right, the pricer could not be asked.
 */
export async function describeSpecPricer(
  url: string,
  remote: RemotePricers,
  source?: string,
  signal?: AbortSignal,
): Promise<PricerDescription> {
  try {
    return await remote.describe(url, signal);
  } catch (err) {
    if (err instanceof GrpcPricerError && err.code === 'REMOTE_UNKNOWN_PRICER')
      throw new SpecError('SPEC_INVALID', [{ field: 'pricer', value: url, rule: err.message }], {
        source,
        cause: err,
      });
    throw err;
  }
}

/**
 * Has a gRPC pricer check a resolved spec's fixed values and input box (its corners and the first
 * points of both sample streams) with a validate-only PriceBatch: the server applies its own ranges
 * and rules. Throws SpecError naming the field, the value and the rule the server reports.
 */
export async function checkBoxRemotely(
  spec: ExperimentSpec,
  remote: RemotePricers,
  source?: string,
  signal?: AbortSignal,
): Promise<void> {
  const boxSpec = {
    fixed: spec.fixed,
    inputs: spec.inputs,
    sampler: spec.sampler,
    seed: spec.seed,
    samples: spec.samples,
    validationSamples: spec.validation.samples,
  };
  const probe = boxProbe(boxSpec);
  try {
    await remote.client(spec.pricer).check({
      fixed: spec.fixed,
      inputNames: probe.names,
      inputs: probe.columns,
      signal,
    });
  } catch (err) {
    if (!(err instanceof GrpcPricerError) || err.code !== 'REMOTE_INVALID_ARGUMENT') throw err;
    const d = err.details as { parameter?: string; row?: number; reason?: string; rule?: string };
    const parameter = d.parameter ?? '';
    const reason = `${d.reason ?? err.message} (rule: ${d.rule ?? 'unstated'}; checked by ${spec.pricer})`;
    let issue: SpecIssue;
    if (typeof d.row === 'number' && d.row >= 0 && d.row < probe.count) {
      issue = probeIssue(parameter, boxSpec, probe, d.row, reason);
    } else {
      const { field, value } = fieldOf(parameter, boxSpec);
      issue = value === undefined ? { field, rule: reason } : { field, value, rule: reason };
    }
    throw new SpecError('SPEC_INVALID', [issue], { source, cause: err });
  }
}

/**
 * Checks a spec document completely, reaching its pricer when that is a gRPC pricer: asks for its
 * description (parameters, ranges, outputs), checks the spec against it, then has the server check
 * the box. A local pricer's spec is checked as `resolveSpec` does. Throws SpecError for a bad spec
 * (exit 2), GrpcPricerError when the pricer could not be reached.
 */
export async function resolveSpecReachingPricer(
  doc: unknown,
  remote: RemotePricers,
  source?: string,
  signal?: AbortSignal,
): Promise<ExperimentSpec> {
  const pricer = pricerOf(doc);
  if (!isRemotePricer(pricer)) return resolveSpec(doc, source);
  try {
    parseRemotePricerUrl(pricer);
  } catch {
    return resolveSpec(doc, source); // reports the malformed URL with every other issue
  }
  const description = await describeSpecPricer(pricer, remote, source, signal);
  const spec = resolveSpec(doc, source, { pricer: description });
  await checkBoxRemotely(spec, remote, source, signal);
  return spec;
}

/** Reads a spec file and checks it with `resolveSpecReachingPricer`. */
export async function loadSpecFileReachingPricer(
  file: string,
  remote: RemotePricers,
  signal?: AbortSignal,
): Promise<ExperimentSpec> {
  return resolveSpecReachingPricer(await loadSpecDocument(file), remote, file, signal);
}
