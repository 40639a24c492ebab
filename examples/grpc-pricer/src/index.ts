export { bachelierPricer } from './bachelier';
export { startExampleServer, type ExampleServerOptions } from './example-server';

import { bachelierPricer } from './bachelier';

/** So that `--pricer-module` can load this package too (e.g. `surrogate pricer-server --pricer-module …`). */
export const pricers = [bachelierPricer];
