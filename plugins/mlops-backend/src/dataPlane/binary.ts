/**
 * The OIP binary tensor data extension (KServe's and Triton's): a request
 * body is a JSON header of `Inference-Header-Content-Length` bytes followed
 * by the binary inputs, in input order, each input saying its length in
 * `parameters.binary_data_size`; outputs are answered the same way when the
 * request asks (`outputs[i].parameters.binary_data`, else
 * `parameters.binary_data_output`). Numbers are little-endian and row-major,
 * BOOL one byte per element, BYTES each a 4-byte little-endian length and
 * the bytes. Binary inputs become the JSON form the codec checks, so both
 * forms share one validation.
 */
import { InputError } from '@backstage/errors';
import type {
  OipInferResponse,
  OipTensor,
  TensorDatatype,
} from '@loopline/mlops-common';
import { floatToHalfBits } from '../serving/codec';
import type { RawInputTensor } from '../serving/log/types';
import { decodeRawTensor, ELEMENT_BYTES } from '../serving/rawTensor';

export const BINARY_HEADER = 'inference-header-content-length';

/** An output tensor's JSON data as raw little-endian bytes. */
export function encodeRawTensor(tensor: OipTensor): Buffer {
  const { datatype, data } = tensor;
  if (datatype === 'BYTES') {
    const parts: Buffer[] = [];
    for (const value of data) {
      const text = Buffer.from(String(value), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      parts.push(length, text);
    }
    return Buffer.concat(parts);
  }
  const size = ELEMENT_BYTES[datatype]!;
  const out = Buffer.alloc(size * data.length);
  const num = (v: unknown) => (typeof v === 'string' ? Number(v) : Number(v));
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const at = i * size;
    switch (datatype) {
      case 'BOOL':
        out[at] = v ? 1 : 0;
        break;
      case 'UINT8':
        out.writeUInt8(num(v), at);
        break;
      case 'INT8':
        out.writeInt8(num(v), at);
        break;
      case 'UINT16':
        out.writeUInt16LE(num(v), at);
        break;
      case 'INT16':
        out.writeInt16LE(num(v), at);
        break;
      case 'UINT32':
        out.writeUInt32LE(num(v), at);
        break;
      case 'INT32':
        out.writeInt32LE(num(v), at);
        break;
      case 'INT64':
        out.writeBigInt64LE(BigInt(v as number | string), at);
        break;
      case 'UINT64':
        out.writeBigUInt64LE(BigInt(v as number | string), at);
        break;
      case 'FP16':
        out.writeUInt16LE(floatToHalfBits(num(v)), at);
        break;
      case 'FP32':
        out.writeFloatLE(num(v), at);
        break;
      default:
        out.writeDoubleLE(num(v), at);
    }
  }
  return out;
}

function nonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * A request body of the binary extension as the JSON request it stands for.
 * Every size is checked: the header length within the body, each input's
 * `binary_data_size` a whole number of its elements, and the sizes adding
 * up to exactly the bytes after the header (InputError, 400, otherwise).
 */
export function parseBinaryRequest(
  body: Buffer,
  headerLength: string,
): unknown {
  return readBinaryRequest(body, headerLength).request;
}

/**
 * `parseBinaryRequest`, with the inputs' bytes (copies) for the log when
 * every input came binary (see InferenceEvent.rawInputs).
 */
export function readBinaryRequest(
  body: Buffer,
  headerLength: string,
): { request: unknown; rawInputs?: RawInputTensor[] } {
  if (!/^\d{1,15}$/.test(headerLength.trim())) {
    throw new InputError(
      `Invalid Inference-Header-Content-Length: ${JSON.stringify(
        headerLength.slice(0, 32),
      )} is not a byte count`,
    );
  }
  const jsonLength = Number(headerLength.trim());
  if (jsonLength > body.length) {
    throw new InputError(
      `Invalid Inference-Header-Content-Length: ${jsonLength} bytes, but the body has only ${body.length}`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(body.toString('utf8', 0, jsonLength));
  } catch (error) {
    throw new InputError(
      `Malformed JSON header of the binary request: ${
        (error as Error).message
      }`,
    );
  }
  const inputs = (header as { inputs?: unknown })?.inputs;
  // the codec names what is missing
  if (!Array.isArray(inputs)) return { request: header };
  let offset = jsonLength;
  const rawInputs: RawInputTensor[] = [];
  const converted = inputs.map((raw, index) => {
    const input = raw as {
      name?: unknown;
      datatype?: unknown;
      shape?: unknown;
      data?: unknown;
      parameters?: Record<string, unknown>;
    };
    const size = input?.parameters?.binary_data_size;
    if (size === undefined) return raw;
    const label = `input "${String(input.name ?? index)}"`;
    if (!nonNegativeInteger(size)) {
      throw new InputError(
        `Invalid ${label}: parameters.binary_data_size must be a non-negative integer`,
      );
    }
    if (input.data !== undefined) {
      throw new InputError(
        `Invalid ${label}: it has both data and parameters.binary_data_size`,
      );
    }
    if (offset + size > body.length) {
      throw new InputError(
        `Invalid ${label}: binary_data_size ${size} runs past the end of the body (${
          body.length - offset
        } bytes left)`,
      );
    }
    const datatype = input.datatype as TensorDatatype;
    if (
      typeof datatype !== 'string' ||
      !(datatype in ELEMENT_BYTES || datatype === 'BYTES')
    ) {
      throw new InputError(
        `Invalid ${label}: datatype ${JSON.stringify(
          datatype,
        )} cannot be sent as binary data`,
      );
    }
    const contents = body.subarray(offset, offset + size);
    const data = decodeRawTensor(datatype, contents, label);
    offset += size;
    const { binary_data_size: _size, ...parameters } = input.parameters!;
    const { parameters: _parameters, ...rest } = input;
    const hasParameters = Object.keys(parameters).length > 0;
    rawInputs.push({
      name: input.name as string,
      datatype,
      shape: input.shape as number[],
      ...(hasParameters ? { parameters } : {}),
      contents: Buffer.from(contents),
    });
    return {
      ...rest,
      data,
      ...(hasParameters ? { parameters } : {}),
    };
  });
  if (offset !== body.length) {
    throw new InputError(
      `The binary inputs' binary_data_size add up to ${
        offset - jsonLength
      } bytes, but ${body.length - jsonLength} follow the JSON header`,
    );
  }
  const request = { ...(header as object), inputs: converted };
  // Name and shape as given: the codec checks them before the log sees them.
  return rawInputs.length === inputs.length && inputs.length > 0
    ? { request, rawInputs }
    : { request };
}

/** The outputs the request wants as binary data: per output, else all (`binary_data_output`). */
export function binaryOutputsOf(request: unknown): (name: string) => boolean {
  const r = request as {
    parameters?: Record<string, unknown>;
    outputs?: Array<{ name?: unknown; parameters?: Record<string, unknown> }>;
  } | null;
  const all = r?.parameters?.binary_data_output === true;
  const own = new Map<string, boolean>();
  for (const output of Array.isArray(r?.outputs) ? r!.outputs! : []) {
    const flag = output?.parameters?.binary_data;
    if (typeof output?.name === 'string' && typeof flag === 'boolean') {
      own.set(output.name, flag);
    }
  }
  return name => own.get(name) ?? all;
}

/** Whether any output is wanted binary (so the answer takes the binary form). */
export function wantsBinary(request: unknown): boolean {
  const r = request as {
    parameters?: Record<string, unknown>;
    outputs?: Array<{ parameters?: Record<string, unknown> }>;
  } | null;
  return (
    r?.parameters?.binary_data_output === true ||
    (Array.isArray(r?.outputs) &&
      r!.outputs!.some(o => o?.parameters?.binary_data === true))
  );
}

/** The response with the wanted outputs moved after the JSON: the body and its JSON length. */
export function encodeBinaryResponse(
  response: OipInferResponse,
  binary: (name: string) => boolean,
): { body: Buffer; jsonLength: number } {
  const parts: Buffer[] = [];
  const outputs = response.outputs.map(output => {
    if (!binary(output.name)) return output;
    const bytes = encodeRawTensor(output);
    parts.push(bytes);
    const { data: _data, ...rest } = output;
    return {
      ...rest,
      parameters: { ...output.parameters, binary_data_size: bytes.length },
    };
  });
  const json = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  return { body: Buffer.concat([json, ...parts]), jsonLength: json.length };
}
