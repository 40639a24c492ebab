/** A pricer plugin for tests: it always throws, like a client library that crashes on its inputs. */
import { registerPricer, type Pricer } from '@surrogate/pricing';

const pricer: Pricer = {
  name: 'always-throws',
  version: '0.0.1',
  description: 'throws on every call (test plugin)',
  parameters: [
    {
      kind: 'number',
      name: 'x',
      unit: '1',
      description: 'x',
      min: 0,
      max: 1,
      minInclusive: true,
      maxInclusive: true,
    },
  ],
  outputs: ['y'],
  evaluate(): void {
    throw new Error('pricing library crashed');
  },
};

registerPricer(pricer);
