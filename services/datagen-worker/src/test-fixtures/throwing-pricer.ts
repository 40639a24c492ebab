/** A pricer plugin for tests: it always throws, like a client library that crashes on its inputs. */
import { registerPricer, type Pricer } from '@surrogate/pricing';
import { UNIT_X } from './unit-parameter';

const pricer: Pricer = {
  name: 'always-throws',
  version: '0.0.1',
  description: 'throws on every call (test plugin)',
  parameters: [UNIT_X],
  outputs: ['y'],
  evaluate(): void {
    throw new Error('pricing library crashed');
  },
};

registerPricer(pricer);
