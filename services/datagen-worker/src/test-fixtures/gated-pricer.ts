/**
 * A pricer plugin for tests: y = x, but it waits while the file named by $SURROGATE_TEST_GATE is
 * missing, so a test can hold a job in pricing (closed: the file is absent) and let it go (open).
 */
import { existsSync } from 'node:fs';
import { registerPricer, type ParamValues, type Pricer } from '@surrogate/pricing';
import { UNIT_X } from './unit-parameter';

const pause = new Int32Array(new SharedArrayBuffer(4));

function waitForGate(): void {
  const gate = process.env.SURROGATE_TEST_GATE;
  if (!gate) return;
  while (!existsSync(gate)) Atomics.wait(pause, 0, 0, 5);
}

const pricer: Pricer = {
  name: 'gated',
  version: '0.0.1',
  description: 'y = x, once the gate file exists (test plugin)',
  parameters: [UNIT_X],
  outputs: ['y'],
  evaluate(params: ParamValues, out: Float64Array): void {
    waitForGate();
    out[0] = params.x as number;
  },
};

registerPricer(pricer);
