import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorMessage } from '@surrogate/core';
import { BenchError } from './bench-error';
import type { PricingWorkload, WorkloadInputs } from './pricing-workloads';

/** Where the C++ references live (bench/cpp, next to bench/dist at run time). */
export const CPP_SOURCE_DIR = resolve(__dirname, '..', 'cpp');

/**
 * The compiler flags: -O3 as asked, C++17, and -ffp-contract=off so that g++ never fuses a·b + c
 * into one FMA instruction (JavaScript rounds every operation; on x86-64 without -march, -O3 emits
 * no FMA anyway, so this costs nothing there, but on aarch64 it keeps the two builds comparable).
 */
export const CPP_FLAGS: readonly string[] = ['-O3', '-std=c++17', '-ffp-contract=off'];

const INSTALL_HINT =
  'install a C++ compiler: Debian/Ubuntu `apt-get install g++`, Fedora/RHEL `dnf install gcc-c++`, Alpine `apk add g++`, macOS `xcode-select --install`';

interface ExecResult {
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { timeout: Math.ceil(timeoutMs), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/**
 * Compiles a workload's C++ reference with `compiler` (g++) into `dir`; returns the executable's
 * path. A compiler that cannot be found is BENCH_REFERENCE_UNAVAILABLE (with what to install); one
 * that fails is BENCH_FAILED with its diagnostics.
 */
export async function compileCppReference(
  workload: PricingWorkload,
  dir: string,
  compiler = 'g++',
): Promise<string> {
  if (workload.cpp === undefined) {
    throw new BenchError('BENCH_FAILED', `pricer ${workload.pricer} has no C++ reference`);
  }
  const source = join(CPP_SOURCE_DIR, workload.cpp.source);
  const exe = join(dir, workload.pricer);
  try {
    await run(compiler, [...CPP_FLAGS, '-o', exe, source], 300_000);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT' || e.code === 'EACCES') {
      throw new BenchError(
        'BENCH_REFERENCE_UNAVAILABLE',
        `the pricing benchmark compiles its C++ reference with "${compiler} ${CPP_FLAGS.join(' ')}", but ${compiler} was not found on PATH: ${INSTALL_HINT}`,
        { cause: err, details: { compiler } },
      );
    }
    throw new BenchError(
      'BENCH_FAILED',
      `${compiler} failed to compile ${source}: ${(e.stderr ?? '').trim() || errorMessage(err)}`,
      { cause: err, details: { compiler, source } },
    );
  }
  return exe;
}

/** A valid range as the C++ driver checks it (the pricer's parameter spec). */
export interface CppRange {
  min: number;
  max: number;
  minInclusive: boolean;
  maxInclusive: boolean;
}

/** The C++ reference's inputs: one column per parameter, and each parameter's valid range. */
export interface CppInputs {
  columns: Float64Array[];
  ranges: CppRange[];
}

/**
 * The C++ reference's input columns for a workload's points, as doubles: each sampled parameter's
 * float32 values exactly, the fixed ones repeated, `type` as 1 (call) or 0 (put); with the ranges of
 * the pricer's parameter specs (for `type`, [0, 1]).
 */
export function cppInputs(workload: PricingWorkload, inputs: WorkloadInputs): CppInputs {
  const rows = inputs.columns[0].length;
  const names = workload.cpp?.columns ?? [];
  const columns = names.map((name) => {
    const k = inputs.names.indexOf(name);
    if (k >= 0) return Float64Array.from(inputs.columns[k]);
    const value = inputs.params[name];
    const column = new Float64Array(rows);
    column.fill(name === 'type' ? (value === 'put' ? 0 : 1) : (value as number));
    return column;
  });
  const ranges = names.map((name): CppRange => {
    const spec = inputs.pricer.parameters.find((p) => p.name === name);
    if (spec === undefined || spec.kind !== 'number')
      return { min: 0, max: 1, minInclusive: true, maxInclusive: true };
    return { min: spec.min, max: spec.max, minInclusive: spec.minInclusive, maxInclusive: spec.maxInclusive };
  });
  return { columns, ranges };
}

/** One stretch of a measurement: samples priced in `seconds` of CPU time. */
export type Slice = [samples: number, seconds: number];

/** What a run of a C++ reference measured, and its prices of every point (one pass). */
export interface CppRun {
  slices: Slice[];
  /** One column per pricer output (none when run without outputs). */
  outputs: Float64Array[];
}

function encodeInputs({ columns, ranges }: CppInputs): Buffer {
  const rows = columns.length > 0 ? columns[0].length : 0;
  const n = columns.length;
  const data = new Float64Array(2 + 4 * n + rows * n);
  data[0] = rows;
  data[1] = n;
  ranges.forEach((r, k) => {
    data.set([r.min, r.max, r.minInclusive ? 1 : 0, r.maxInclusive ? 1 : 0], 2 + 4 * k);
  });
  columns.forEach((c, k) => data.set(c, 2 + 4 * n + k * rows));
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function decodeColumns(bytes: Buffer, path: string): Float64Array[] {
  const data = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const rows = data[0];
  const count = data[1];
  if (!(data.length >= 2 && data.length === 2 + rows * count)) {
    throw new BenchError(
      'BENCH_FAILED',
      `${path}: malformed output of the C++ reference (${bytes.length} bytes)`,
    );
  }
  return Array.from({ length: count }, (_, k) => data.subarray(2 + k * rows, 2 + (k + 1) * rows));
}

function isSlice(x: unknown): x is Slice {
  return Array.isArray(x) && x.length === 2 && x.every((v) => typeof v === 'number' && v >= 0);
}

/**
 * Runs a compiled reference on the given inputs: it prices every row once (returned in `outputs`;
 * skipped when `withOutputs` is false), then does what priceColumns does (range checks, fresh output columns, pricing) pass after pass for
 * `seconds` of CPU time on one thread, reporting a slice per `sliceSeconds`.
 */
export async function runCppReference(
  exe: string,
  inputs: CppInputs,
  seconds: number,
  sliceSeconds: number,
  dir: string,
  withOutputs = true,
): Promise<CppRun> {
  const inputPath = join(dir, 'inputs.bin');
  const outputPath = withOutputs ? join(dir, 'outputs.bin') : '-';
  await writeFile(inputPath, encodeInputs(inputs));
  let stdout: string;
  try {
    ({ stdout } = await run(
      exe,
      [inputPath, outputPath, String(seconds), String(sliceSeconds)],
      120_000 + 20_000 * seconds,
    ));
  } catch (err) {
    const e = err as { stderr?: string };
    throw new BenchError(
      'BENCH_FAILED',
      `the C++ reference ${exe} failed: ${(e.stderr ?? '').trim() || errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  let measured: { slices?: unknown };
  try {
    measured = JSON.parse(stdout) as typeof measured;
  } catch (err) {
    throw new BenchError(
      'BENCH_FAILED',
      `the C++ reference ${exe} printed ${JSON.stringify(stdout)}, not JSON`,
      {
        cause: err,
      },
    );
  }
  const slices = measured.slices;
  if (!Array.isArray(slices) || slices.length === 0 || !slices.every(isSlice)) {
    throw new BenchError('BENCH_FAILED', `the C++ reference ${exe} reported ${stdout.trim()}`);
  }
  return { slices, outputs: withOutputs ? decodeColumns(await readFile(outputPath), outputPath) : [] };
}

/** Largest disagreement between two sets of output columns. */
export interface OutputDifference {
  /** max over points of |a − b| / max(|a|, |b|, floor) (0 where both are equal, infinities included). */
  maxRelative: number;
  /** Where it is: output name, row and both values. */
  output: string;
  row: number;
  ours: number;
  reference: number;
}

/**
 * Compares our outputs with the reference's, output by output and row by row. The denominator has
 * a floor (`floor`, in the outputs' units) so that a price of 1e-300 against 0 is not reported as a
 * relative difference of 1; outputs are compared relative to max(|a|, |b|) above it.
 */
export function compareOutputs(
  names: readonly string[],
  ours: readonly Float64Array[],
  reference: readonly Float64Array[],
  floor = 1e-6,
): OutputDifference {
  if (ours.length !== names.length || reference.length !== names.length) {
    throw new BenchError(
      'BENCH_FAILED',
      `expected ${names.length} output columns, got ${ours.length} and ${reference.length} from the C++ reference`,
    );
  }
  const worst: OutputDifference = { maxRelative: 0, output: names[0], row: 0, ours: NaN, reference: NaN };
  names.forEach((name, j) => {
    const a = ours[j];
    const b = reference[j];
    if (a.length !== b.length) {
      throw new BenchError(
        'BENCH_FAILED',
        `output ${name}: ${a.length} values but ${b.length} from the C++ reference`,
      );
    }
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue;
      const scale = Math.max(Math.abs(a[i]), Math.abs(b[i]), floor);
      const rel = Math.abs(a[i] - b[i]) / scale;
      // NaN (one side NaN or infinities of opposite sign) counts as total disagreement.
      const d = Number.isNaN(rel) ? Infinity : rel;
      if (d > worst.maxRelative) {
        Object.assign(worst, { maxRelative: d, output: name, row: i, ours: a[i], reference: b[i] });
      }
    }
  });
  return worst;
}
