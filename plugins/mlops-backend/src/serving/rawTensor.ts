/**
 * Tensors as raw little-endian, row-major bytes (the OIP binary extension's
 * and gRPC's `raw_input_contents`): BOOL one byte per element, BYTES each a
 * 4-byte little-endian length and the bytes. Decoded into the JSON `data`
 * the codec reads, and the inference log stores.
 */
import { InputError } from '@backstage/errors';
import type { OipTensor, TensorDatatype } from '@loopline/mlops-common';
import { halfBitsToFloat } from './codec';
import type { RawInputTensor } from './log/types';

/** Bytes per element of the fixed-size datatypes. */
export const ELEMENT_BYTES: Partial<Record<TensorDatatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

const nonFinite = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';

/** A tensor's raw little-endian bytes as the JSON `data` the codec reads. */
export function decodeRawTensor(
  datatype: TensorDatatype,
  bytes: Buffer,
  label: string,
): unknown[] {
  if (datatype === 'BYTES') {
    const values: string[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length) {
        throw new InputError(
          `Invalid ${label}: BYTES element at byte ${offset} has a truncated length prefix`,
        );
      }
      const length = bytes.readUInt32LE(offset);
      offset += 4;
      if (offset + length > bytes.length) {
        throw new InputError(
          `Invalid ${label}: BYTES element of ${length} bytes runs past the tensor's ${bytes.length} bytes`,
        );
      }
      values.push(bytes.toString('utf8', offset, offset + length));
      offset += length;
    }
    return values;
  }
  const size = ELEMENT_BYTES[datatype];
  if (!size) {
    throw new InputError(`Invalid ${label}: unknown datatype ${datatype}`);
  }
  if (bytes.length % size !== 0) {
    throw new InputError(
      `Invalid ${label}: ${bytes.length} bytes is not a whole number of ${datatype} elements (${size} bytes each)`,
    );
  }
  const n = bytes.length / size;
  const data = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const at = i * size;
    let v: unknown;
    switch (datatype) {
      case 'BOOL':
        v = bytes[at] !== 0;
        break;
      case 'UINT8':
        v = bytes.readUInt8(at);
        break;
      case 'INT8':
        v = bytes.readInt8(at);
        break;
      case 'UINT16':
        v = bytes.readUInt16LE(at);
        break;
      case 'INT16':
        v = bytes.readInt16LE(at);
        break;
      case 'UINT32':
        v = bytes.readUInt32LE(at);
        break;
      case 'INT32':
        v = bytes.readInt32LE(at);
        break;
      case 'INT64': {
        const big = bytes.readBigInt64LE(at);
        v =
          big <= BigInt(Number.MAX_SAFE_INTEGER) &&
          big >= BigInt(Number.MIN_SAFE_INTEGER)
            ? Number(big)
            : big.toString();
        break;
      }
      case 'UINT64': {
        const big = bytes.readBigUInt64LE(at);
        v =
          big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
        break;
      }
      case 'FP16': {
        const f = halfBitsToFloat(bytes.readUInt16LE(at));
        v = Number.isFinite(f) ? f : nonFinite(f);
        break;
      }
      case 'FP32': {
        const f = bytes.readFloatLE(at);
        v = Number.isFinite(f) ? f : nonFinite(f);
        break;
      }
      default: {
        const f = bytes.readDoubleLE(at);
        v = Number.isFinite(f) ? f : nonFinite(f);
      }
    }
    data[i] = v;
  }
  return data;
}

/**
 * Raw input tensors as the OIP tensors they stand for (what the codec
 * checks and the log stores): the same JSON whichever form came in.
 */
export function tensorsOfRaw(tensors: readonly RawInputTensor[]): OipTensor[] {
  return tensors.map(t => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    data: decodeRawTensor(
      t.datatype,
      Buffer.from(
        t.contents.buffer,
        t.contents.byteOffset,
        t.contents.byteLength,
      ),
      `input "${t.name}"`,
    ),
    ...(t.parameters ? { parameters: t.parameters } : {}),
  }));
}
