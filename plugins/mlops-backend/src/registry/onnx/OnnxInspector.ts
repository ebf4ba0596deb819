import { InputError } from '@backstage/errors';
import {
  ModelSignature,
  TensorDatatype,
  TensorSpec,
} from '@loopline/mlops-common';
import type { InferenceSession } from 'onnxruntime-node';

/** onnxruntime's element type names → the Open Inference Protocol's datatypes. */
const DATATYPES: Record<string, TensorDatatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const MAX_REASON_LENGTH = 500;

/** Reads what a model takes and gives; the registry only stores what it can read. */
export interface ModelInspector {
  inspect(bytes: Uint8Array): Promise<ModelSignature>;
}

type OnnxRuntime = typeof import('onnxruntime-node');
let runtime: OnnxRuntime | undefined;
function loadRuntime(): OnnxRuntime {
  // Loaded on first use: the native binding is not needed to start the plugin.
  if (!runtime) {
    runtime = require('onnxruntime-node') as OnnxRuntime;
  }
  return runtime;
}

/**
 * Checks that bytes are an ONNX model onnxruntime can load (the same runtime
 * the embedded server uses) and reads its signature from the session's input
 * and output metadata. Symbolic or unknown dimensions become -1.
 */
export class OnnxInspector implements ModelInspector {
  async inspect(bytes: Uint8Array): Promise<ModelSignature> {
    if (bytes.byteLength === 0) {
      throw new InputError(
        'The file is not a loadable ONNX model: it is empty',
      );
    }
    const ort = loadRuntime();
    let session: InferenceSession;
    try {
      // A view made here, so the runtime's `instanceof Uint8Array` check holds
      // whatever realm the caller's Buffer comes from.
      session = await ort.InferenceSession.create(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        {
          logSeverityLevel: 4,
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
        },
      );
    } catch (error) {
      throw new InputError(
        `The file is not a loadable ONNX model: ${describe(error)}`,
      );
    }
    try {
      return {
        inputs: session.inputMetadata.map(m => toTensorSpec(m, 'input')),
        outputs: session.outputMetadata.map(m => toTensorSpec(m, 'output')),
      };
    } finally {
      await session.release();
    }
  }
}

function toTensorSpec(
  metadata: InferenceSession.ValueMetadata,
  kind: 'input' | 'output',
): TensorSpec {
  if (!metadata.isTensor) {
    throw new InputError(
      `Unsupported ONNX model: ${kind} "${metadata.name}" is not a tensor (e.g. a sequence or a map, ` +
        `as skl2onnx's ZipMap gives; export with zipmap=False); the Open Inference Protocol only carries tensors`,
    );
  }
  const datatype = DATATYPES[metadata.type];
  if (!datatype) {
    throw new InputError(
      `Unsupported ONNX model: ${kind} "${metadata.name}" has element type ${metadata.type}, ` +
        `which the Open Inference Protocol cannot carry`,
    );
  }
  return {
    name: metadata.name,
    datatype,
    shape: metadata.shape.map(dim =>
      typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0
        ? dim
        : -1,
    ),
  };
}

function describe(error: unknown): string {
  const message =
    error instanceof Error ? error.message : String(error ?? 'unknown error');
  // eslint-disable-next-line no-control-regex
  const clean = message.replace(/\u001b\[[0-9;]*m/g, '').trim();
  return clean.length > MAX_REASON_LENGTH
    ? `${clean.slice(0, MAX_REASON_LENGTH)}...`
    : clean;
}
