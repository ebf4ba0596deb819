/*
 * Jest's node environment, with the host realm's typed arrays and buffers.
 * onnxruntime-node's native binding creates its output tensors' typed arrays
 * in the host realm; onnxruntime-common (loaded in the test's sandbox) checks
 * them with `instanceof Float32Array` against the sandbox's constructors and
 * rejects them. Sharing the constructors lets tests run real inference.
 */
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

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxRuntimeEnvironment;
