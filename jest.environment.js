'use strict';
// onnxruntime-node's native binding creates output typed arrays in Node's own realm, while jest
// runs tests in a separate vm context whose typed-array constructors differ, so onnxruntime-common's
// `instanceof Float32Array` checks fail inside tests. Sharing the outer realm's binary-data
// constructors with the test context makes tests see exactly what production code sees.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) if (globalThis[name]) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
