import { isAbsolute } from 'node:path';
import { errorMessage } from '@surrogate/core';
import { americanPricer } from './american';
import { asianArithmeticPricer } from './asian-arithmetic';
import { asianGeometricPricer } from './asian-geometric';
import { barrierPricer } from './barrier';
import { blackScholesPricer } from './black-scholes';
import { hestonPricer } from './heston';
import type { Pricer } from './pricer';
import { PricingError } from './pricing-error';
import { checkValue, formatValue } from './validate-params';

/**
 * The process-wide (per thread: every worker thread has its own) registry of pricers by name.
 * Built-in pricers are registered when this module loads.
 */
const registry = new Map<string, Pricer>();
/** Pricer names each loaded module path provided, so loading a path twice is harmless. */
const loadedModules = new Map<string, readonly string[]>();

function invalidPricer(name: unknown, reason: string): PricingError {
  return new PricingError('INVALID_PRICER', `invalid pricer ${formatValue(name)}: ${reason}`, {
    details: { pricer: name, reason },
  });
}

function isNonEmptyString(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

/** Checks the shape of a pricer (custom pricers come from plain JavaScript, unchecked by tsc). */
export function checkPricerShape(p: Pricer): void {
  if (p === null || typeof p !== 'object') throw invalidPricer(p, 'not an object');
  const name: unknown = p.name;
  if (!isNonEmptyString(name)) throw invalidPricer(name, 'name must be a non-empty string');
  if (!isNonEmptyString(p.version)) throw invalidPricer(name, 'version must be a non-empty string');
  if (typeof p.description !== 'string') throw invalidPricer(name, 'description must be a string');
  if (typeof p.evaluate !== 'function') throw invalidPricer(name, 'evaluate must be a function');
  if (p.validate !== undefined && typeof p.validate !== 'function')
    throw invalidPricer(name, 'validate must be a function when present');
  if (!Array.isArray(p.outputs) || p.outputs.length === 0)
    throw invalidPricer(name, 'outputs must be a non-empty array');
  const outputs = new Set<string>();
  for (const o of p.outputs as unknown[]) {
    if (!isNonEmptyString(o)) throw invalidPricer(name, `output ${formatValue(o)} is not a non-empty string`);
    if (outputs.has(o)) throw invalidPricer(name, `output ${o} is listed twice`);
    outputs.add(o);
  }
  if (!Array.isArray(p.parameters)) throw invalidPricer(name, 'parameters must be an array');
  const names = new Set<string>();
  for (const spec of p.parameters) {
    if (spec === null || typeof spec !== 'object')
      throw invalidPricer(name, 'a parameter spec is not an object');
    const pname: unknown = spec.name;
    if (!isNonEmptyString(pname))
      throw invalidPricer(name, `parameter name ${formatValue(pname)} is not a non-empty string`);
    if (names.has(pname)) throw invalidPricer(name, `parameter ${pname} is listed twice`);
    names.add(pname);
    if (typeof spec.description !== 'string')
      throw invalidPricer(name, `parameter ${pname}: description must be a string`);
    if (spec.kind === 'number') {
      if (typeof spec.unit !== 'string')
        throw invalidPricer(name, `parameter ${pname}: unit must be a string`);
      if (
        typeof spec.min !== 'number' ||
        typeof spec.max !== 'number' ||
        Number.isNaN(spec.min) ||
        Number.isNaN(spec.max)
      ) {
        throw invalidPricer(name, `parameter ${pname}: min and max must be numbers`);
      }
      if (typeof spec.minInclusive !== 'boolean' || typeof spec.maxInclusive !== 'boolean') {
        throw invalidPricer(name, `parameter ${pname}: minInclusive and maxInclusive must be booleans`);
      }
      if (spec.integer !== undefined && typeof spec.integer !== 'boolean')
        throw invalidPricer(name, `parameter ${pname}: integer must be a boolean when present`);
      if (spec.scaling !== undefined && spec.scaling !== 'sqrt' && spec.scaling !== 'log')
        throw invalidPricer(name, `parameter ${pname}: scaling must be "sqrt" or "log" when present`);
      const empty =
        spec.min > spec.max || (spec.min === spec.max && !(spec.minInclusive && spec.maxInclusive));
      if (empty) throw invalidPricer(name, `parameter ${pname}: the valid range is empty`);
    } else if (spec.kind === 'choice') {
      if (!Array.isArray(spec.values) || spec.values.length === 0 || !spec.values.every(isNonEmptyString)) {
        throw invalidPricer(name, `parameter ${pname}: values must be a non-empty array of strings`);
      }
      if (new Set(spec.values).size !== spec.values.length)
        throw invalidPricer(name, `parameter ${pname}: values repeat`);
    } else {
      throw invalidPricer(name, `parameter ${pname}: kind must be "number" or "choice"`);
    }
    if (spec.default !== undefined) {
      try {
        checkValue(p, spec, spec.default);
      } catch (err) {
        throw invalidPricer(name, `parameter ${pname}: invalid default: ${errorMessage(err)}`);
      }
    }
  }
}

/**
 * Registers a pricer under its name. Registering the same object again is a no-op; a different
 * pricer under a taken name is a DUPLICATE_PRICER error; a malformed one is INVALID_PRICER.
 */
export function registerPricer(p: Pricer): void {
  checkPricerShape(p);
  const existing = registry.get(p.name);
  if (existing === p) return;
  if (existing !== undefined) {
    throw new PricingError(
      'DUPLICATE_PRICER',
      `a different pricer named ${p.name} (version ${existing.version}) is already registered`,
      { details: { pricer: p.name, registeredVersion: existing.version, version: p.version } },
    );
  }
  registry.set(p.name, p);
}

/** The names of all registered pricers, sorted. */
export function pricerNames(): string[] {
  return [...registry.keys()].sort();
}

/** The registered pricer of that name, or an UNKNOWN_PRICER error listing the known names. */
export function getPricer(name: string): Pricer {
  const p = registry.get(name);
  if (p === undefined) {
    const known = pricerNames();
    throw new PricingError(
      'UNKNOWN_PRICER',
      `unknown pricer ${formatValue(name)}; known pricers: ${known.join(', ')}`,
      {
        details: { pricer: name, known },
      },
    );
  }
  return p;
}

function moduleFailed(path: unknown, reason: string, cause?: unknown): PricingError {
  return new PricingError('PRICER_MODULE_FAILED', `pricer module ${formatValue(path)}: ${reason}`, {
    cause,
    details: { path },
  });
}

/**
 * Loads custom pricer modules: `require()`s each absolute path to a JavaScript file whose
 * top-level code calls `registerPricer` (from this package), or that exports `pricers: Pricer[]`
 * (which are then registered). Datagen worker threads call this with the same paths as the main
 * thread so that their registries match. Loading a path again is harmless. Returns the names of
 * the pricers the given modules provide, in load order.
 * Any failure is a PRICER_MODULE_FAILED error naming the path (the original error as `cause`).
 */
export function loadPricerModules(paths: readonly string[]): string[] {
  if (!Array.isArray(paths))
    throw new PricingError('INVALID_ARGUMENT', 'loadPricerModules expects an array of paths');
  const provided: string[] = [];
  for (const path of paths) {
    if (typeof path !== 'string' || !isAbsolute(path)) throw moduleFailed(path, 'the path must be absolute');
    let names = loadedModules.get(path);
    if (names === undefined) {
      names = loadModule(path);
      loadedModules.set(path, names);
    }
    for (const n of names) if (!provided.includes(n)) provided.push(n);
  }
  return provided;
}

function loadModule(path: string): string[] {
  const before = new Set(registry.keys());
  let loaded: unknown;
  try {
    // A plugin path is only known at run time, so this cannot be an import statement.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(path);
  } catch (err) {
    throw moduleFailed(path, `failed to load: ${errorMessage(err)}`, err);
  }
  const names = [...registry.keys()].filter((n) => !before.has(n));
  const exported =
    loaded !== null && typeof loaded === 'object' ? (loaded as { pricers?: unknown }).pricers : undefined;
  if (exported !== undefined) {
    if (!Array.isArray(exported)) throw moduleFailed(path, "its 'pricers' export is not an array");
    for (const p of exported as Pricer[]) {
      try {
        registerPricer(p);
      } catch (err) {
        throw moduleFailed(path, errorMessage(err), err);
      }
      if (!names.includes(p.name)) names.push(p.name);
    }
  }
  if (names.length === 0) throw moduleFailed(path, "it neither registered a pricer nor exports 'pricers'");
  return names;
}

for (const builtIn of [
  blackScholesPricer,
  hestonPricer,
  americanPricer,
  barrierPricer,
  asianGeometricPricer,
  asianArithmeticPricer,
]) {
  registerPricer(builtIn);
}
