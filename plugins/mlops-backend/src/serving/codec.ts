/**
 * The Open Inference Protocol v2 codec (pure, no I/O): validates an infer
 * request body, turns its input tensors into typed arrays for onnxruntime
 * (built straight from the row-major `data`, flat or nested), and turns
 * onnxruntime's output tensors back into OIP tensors.
 *
 * Every OIP datatype is carried both ways: BOOL, INT8..INT64, UINT8..UINT64,
 * FP16 (IEEE half bits in a Uint16Array), FP32, FP64 and BYTES (onnxruntime
 * 'string' tensors). JSON cannot write NaN or infinities, so floating-point
 * tensors take and give them as the strings "NaN", "Infinity" and
 * "-Infinity". 64-bit integers take JSON numbers that are safe integers or
 * decimal strings, and give numbers when safe, else decimal strings.
 */
import { InputError } from '@backstage/errors';
import { OipTensor, TensorDatatype, TensorSpec } from '@loopline/mlops-common';
import { z } from 'zod';

/** The OIP datatypes this server carries, in the protocol's table order. */
export const OIP_DATATYPES: readonly TensorDatatype[] = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

/** onnxruntime's element type names. */
export type OrtElementType =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string';

/** OIP datatype → onnxruntime element type. */
export const ORT_TYPE_OF: Readonly<Record<TensorDatatype, OrtElementType>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

/** onnxruntime element type → OIP datatype. */
export const DATATYPE_OF_ORT: Readonly<Record<string, TensorDatatype>> =
  Object.fromEntries(
    Object.entries(ORT_TYPE_OF).map(([datatype, ort]) => [ort, datatype]),
  ) as Record<string, TensorDatatype>;

/** The typed arrays (and the string array) onnxruntime takes and gives. */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

/** One input ready for `new ort.Tensor(type, data, dims)`. */
export interface FeedTensor {
  type: OrtElementType;
  data: TensorData;
  dims: number[];
}

/** An onnxruntime output tensor, as far as the codec reads it. */
export interface OutputTensorLike {
  type: string;
  data: unknown;
  dims: readonly number[];
}

/** A model input or output; `dimNames` are the ONNX symbolic dimension names, where known. */
export interface ServingTensorSpec extends TensorSpec {
  dimNames?: ReadonlyArray<string | undefined>;
}

/** An infer request whose envelope checked out; `inputs[].data` is the body's array, untouched. */
export interface ParsedInferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: OipTensor[];
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

/** Limits of the envelope (the body size limit bounds everything else). */
export const CODEC_LIMITS = {
  /** Longest request `id` (it is echoed, and logged as the request id for ground truth). */
  idLength: 256,
  /** Longest tensor name. */
  nameLength: 1024,
  /** Highest tensor rank. */
  rank: 32,
} as const;

const parametersSchema = z.record(z.unknown(), {
  invalid_type_error: 'must be an object of name/value pairs',
});

const envelopeSchema = z.object(
  {
    id: z
      .string({ invalid_type_error: 'must be a string' })
      .max(CODEC_LIMITS.idLength)
      .optional(),
    parameters: parametersSchema.optional(),
    inputs: z
      .array(z.unknown(), {
        required_error: 'is required',
        invalid_type_error: 'must be an array of input tensors',
      })
      .min(1, 'must hold at least one input tensor'),
    outputs: z
      .array(
        z.object(
          {
            name: z
              .string({
                required_error: 'is required',
                invalid_type_error: 'must be a string',
              })
              .min(1, 'must not be empty')
              .max(CODEC_LIMITS.nameLength),
            parameters: parametersSchema.optional(),
          },
          { invalid_type_error: 'must be an object with a name' },
        ),
        { invalid_type_error: 'must be an array of requested outputs' },
      )
      .optional(),
  },
  {
    required_error: 'The inference request must be a JSON object',
    invalid_type_error: 'The inference request must be a JSON object',
  },
);

/**
 * Checks an infer request body's envelope and each input tensor's own fields
 * (name, datatype, shape, data is an array); the element values are checked
 * when they are converted (`toFeeds`). Throws InputError naming the field.
 */
export function parseInferRequest(body: unknown): ParsedInferRequest {
  const result = envelopeSchema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map(issue => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '';
      return where ? `${where}: ${issue.message}` : issue.message;
    });
    throw new InputError(`Invalid inference request: ${problems.join('; ')}`);
  }
  const envelope = result.data;
  const seen = new Set<string>();
  const inputs = envelope.inputs.map((raw, index) => {
    const tensor = parseTensor(raw, index);
    if (seen.has(tensor.name)) {
      throw new InputError(
        `Invalid inference request: input "${tensor.name}" is given more than once`,
      );
    }
    seen.add(tensor.name);
    return tensor;
  });
  return {
    ...(envelope.id !== undefined ? { id: envelope.id } : {}),
    ...(envelope.parameters !== undefined
      ? { parameters: envelope.parameters }
      : {}),
    inputs,
    ...(envelope.outputs !== undefined ? { outputs: envelope.outputs } : {}),
  };
}

function parseTensor(raw: unknown, index: number): OipTensor {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(
      `Invalid inference request: inputs.${index} must be an object with name, shape, datatype and data`,
    );
  }
  const value = raw as Record<string, unknown>;
  const { name, datatype, shape, data, parameters } = value;
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > CODEC_LIMITS.nameLength
  ) {
    throw new InputError(
      `Invalid inference request: inputs.${index}.name must be a non-empty string of at most ${CODEC_LIMITS.nameLength} characters`,
    );
  }
  const label = `input "${name}"`;
  if (typeof datatype !== 'string') {
    throw new InputError(
      `Invalid ${label}: datatype must be one of ${OIP_DATATYPES.join(', ')}`,
    );
  }
  if (!(OIP_DATATYPES as readonly string[]).includes(datatype)) {
    throw new InputError(
      datatype === 'BF16'
        ? `Invalid ${label}: datatype BF16 is not supported by this server`
        : `Invalid ${label}: datatype ${describeValue(
            datatype,
          )} is not one of ${OIP_DATATYPES.join(', ')}`,
    );
  }
  if (!Array.isArray(shape)) {
    throw new InputError(
      `Invalid ${label}: shape must be an array of non-negative integers`,
    );
  }
  if (shape.length > CODEC_LIMITS.rank) {
    throw new InputError(
      `Invalid ${label}: shape has ${shape.length} dimensions, more than ${CODEC_LIMITS.rank}`,
    );
  }
  for (let i = 0; i < shape.length; i++) {
    const dim = shape[i];
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new InputError(
        `Invalid ${label}: shape[${i}] is ${describeValue(
          dim,
        )}, not a non-negative integer`,
      );
    }
  }
  if (!Array.isArray(data)) {
    throw new InputError(
      `Invalid ${label}: data must be an array (row-major, flat or nested)`,
    );
  }
  if (
    parameters !== undefined &&
    (typeof parameters !== 'object' ||
      parameters === null ||
      Array.isArray(parameters))
  ) {
    throw new InputError(
      `Invalid ${label}: parameters must be an object of name/value pairs`,
    );
  }
  return {
    name,
    datatype: datatype as TensorDatatype,
    shape: shape as number[],
    data,
    ...(parameters !== undefined
      ? { parameters: parameters as Record<string, unknown> }
      : {}),
  };
}

/**
 * The typed feeds of a parsed request for a model's inputs: every input
 * given exactly once, with the model's datatype, rank and fixed dimensions
 * (-1 is free; inputs sharing a symbolic dimension must agree on it), and
 * `data` holding product(shape) valid elements.
 */
export function toFeeds(
  request: ParsedInferRequest,
  inputs: readonly ServingTensorSpec[],
): Record<string, FeedTensor> {
  const specs = new Map(inputs.map(spec => [spec.name, spec]));
  for (const tensor of request.inputs) {
    if (!specs.has(tensor.name)) {
      throw new InputError(
        `Unknown input "${tensor.name}": the model takes ${describeSpecs(
          inputs,
        )}`,
      );
    }
  }
  const given = new Map(request.inputs.map(t => [t.name, t]));
  const missing = inputs.filter(spec => !given.has(spec.name));
  if (missing.length > 0) {
    throw new InputError(
      `Missing input${missing.length > 1 ? 's' : ''} ${missing
        .map(
          spec =>
            `"${spec.name}" (${spec.datatype} ${formatShape(spec.shape)})`,
        )
        .join(', ')}: the model takes ${describeSpecs(inputs)}`,
    );
  }
  const symbols = new Map<string, { size: number; input: string }>();
  const feeds: Record<string, FeedTensor> = {};
  for (const spec of inputs) {
    const tensor = given.get(spec.name)!;
    checkAgainstSpec(tensor, spec, symbols);
    feeds[spec.name] = encodeTensor(tensor);
  }
  return feeds;
}

/** Which outputs to fetch: the requested ones (unknown ones refused), else all, in the model's order. */
export function selectOutputs(
  request: Pick<ParsedInferRequest, 'outputs'>,
  outputs: readonly TensorSpec[],
): string[] {
  if (!request.outputs || request.outputs.length === 0) {
    return outputs.map(o => o.name);
  }
  const known = new Set(outputs.map(o => o.name));
  const names: string[] = [];
  for (const { name } of request.outputs) {
    if (!known.has(name)) {
      throw new InputError(
        `Unknown output "${name}" requested: the model gives ${describeSpecs(
          outputs,
        )}`,
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

function checkAgainstSpec(
  tensor: OipTensor,
  spec: ServingTensorSpec,
  symbols: Map<string, { size: number; input: string }>,
) {
  const label = `input "${tensor.name}"`;
  if (tensor.datatype !== spec.datatype) {
    throw new InputError(
      `Invalid ${label}: datatype ${tensor.datatype} does not match the model's ${spec.datatype}`,
    );
  }
  if (tensor.shape.length !== spec.shape.length) {
    throw new InputError(
      `Invalid ${label}: shape ${formatShape(tensor.shape)} has ${
        tensor.shape.length
      } dimension(s) but the model's input has ${
        spec.shape.length
      } (${formatShape(spec.shape)})`,
    );
  }
  for (let i = 0; i < spec.shape.length; i++) {
    const want = spec.shape[i];
    const got = tensor.shape[i];
    if (want >= 0 && got !== want) {
      throw new InputError(
        `Invalid ${label}: shape ${formatShape(
          tensor.shape,
        )} does not match the model's ${formatShape(
          spec.shape,
        )} (dimension ${i} must be ${want})`,
      );
    }
    const symbol = spec.dimNames?.[i];
    if (want < 0 && symbol) {
      const previous = symbols.get(symbol);
      if (previous && previous.size !== got) {
        throw new InputError(
          `Invalid ${label}: dimension ${i} ("${symbol}") is ${got} but input "${previous.input}" gives ${previous.size} for "${symbol}"`,
        );
      }
      if (!previous) symbols.set(symbol, { size: got, input: tensor.name });
    }
  }
}

// ---- input conversion ----------------------------------------------------

/** Magnitudes from here on round to infinity in half precision (65504 is the largest half). */
export const HALF_OVERFLOW = 65520;

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = -MAX_SAFE_BIG;

/** 0 = stored, 1 = wrong kind of value, 2 = out of the datatype's range. */
type WriteResult = 0 | 1 | 2;

interface ElementCodec {
  create(length: number): TensorData;
  write(target: any, index: number, value: unknown): WriteResult;
  /** What a valid element looks like, for messages. */
  expected: string;
}

function integerCodec(
  make: (n: number) => TensorData,
  min: number,
  max: number,
): ElementCodec {
  return {
    create: make,
    write(target, index, value) {
      if (typeof value !== 'number' || !Number.isInteger(value)) return 1;
      if (value < min || value > max) return 2;
      target[index] = value;
      return 0;
    },
    expected: `an integer from ${min} to ${max}`,
  };
}

function bigIntegerCodec(
  make: (n: number) => TensorData,
  min: bigint,
  max: bigint,
): ElementCodec {
  return {
    create: make,
    write(target, index, value) {
      let big: bigint;
      if (typeof value === 'number') {
        if (!Number.isInteger(value)) return 1;
        // Beyond 2^53 a JSON number has already lost digits: refuse it.
        if (!Number.isSafeInteger(value)) return 2;
        big = BigInt(value);
      } else if (typeof value === 'string') {
        if (!/^[+-]?\d{1,20}$/.test(value)) return 1;
        big = BigInt(value);
      } else {
        return 1;
      }
      if (big < min || big > max) return 2;
      target[index] = big;
      return 0;
    },
    expected: `an integer from ${min} to ${max} (a JSON number up to 2^53 - 1 in magnitude, or a decimal string)`,
  };
}

/** "NaN", "Infinity", "-Infinity" (also "inf", "+inf", any case) as numbers. */
function specialFloat(value: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (text === 'nan') return Number.NaN;
  if (
    text === 'inf' ||
    text === 'infinity' ||
    text === '+inf' ||
    text === '+infinity'
  ) {
    return Number.POSITIVE_INFINITY;
  }
  if (text === '-inf' || text === '-infinity') {
    return Number.NEGATIVE_INFINITY;
  }
  return undefined;
}

const FLOAT_EXPECTED =
  'a number (or the string "NaN", "Infinity" or "-Infinity")';

const ELEMENT_CODECS: Record<TensorDatatype, ElementCodec> = {
  BOOL: {
    create: n => new Uint8Array(n),
    write(target, index, value) {
      if (value === true || value === 1) target[index] = 1;
      else if (value === false || value === 0) target[index] = 0;
      else return 1;
      return 0;
    },
    expected: 'true or false (or 1 or 0)',
  },
  INT8: integerCodec(n => new Int8Array(n), -128, 127),
  INT16: integerCodec(n => new Int16Array(n), -32768, 32767),
  INT32: integerCodec(n => new Int32Array(n), -2147483648, 2147483647),
  UINT8: integerCodec(n => new Uint8Array(n), 0, 255),
  UINT16: integerCodec(n => new Uint16Array(n), 0, 65535),
  UINT32: integerCodec(n => new Uint32Array(n), 0, 4294967295),
  INT64: bigIntegerCodec(
    n => new BigInt64Array(n),
    -(2n ** 63n),
    2n ** 63n - 1n,
  ),
  UINT64: bigIntegerCodec(n => new BigUint64Array(n), 0n, 2n ** 64n - 1n),
  FP16: {
    create: n => new Uint16Array(n),
    write(target, index, value) {
      let number: number | undefined;
      if (typeof value === 'number') {
        if (value >= HALF_OVERFLOW || value <= -HALF_OVERFLOW) return 2;
        number = value;
      } else if (typeof value === 'string') {
        number = specialFloat(value);
        if (number === undefined) return 1;
      } else {
        return 1;
      }
      target[index] = floatToHalfBits(number);
      return 0;
    },
    expected: FLOAT_EXPECTED,
  },
  FP32: {
    create: n => new Float32Array(n),
    write(target, index, value) {
      if (typeof value === 'number') {
        target[index] = value;
        // A finite number that became ±Infinity was outside FP32's range.
        const stored = target[index];
        return stored - stored === 0 ? 0 : 2;
      }
      if (typeof value === 'string') {
        const number = specialFloat(value);
        if (number === undefined) return 1;
        target[index] = number;
        return 0;
      }
      return 1;
    },
    expected: FLOAT_EXPECTED,
  },
  FP64: {
    create: n => new Float64Array(n),
    write(target, index, value) {
      if (typeof value === 'number') {
        target[index] = value;
        return 0;
      }
      if (typeof value === 'string') {
        const number = specialFloat(value);
        if (number === undefined) return 1;
        target[index] = number;
        return 0;
      }
      return 1;
    },
    expected: FLOAT_EXPECTED,
  },
  BYTES: {
    create: n => new Array<string>(n),
    write(target, index, value) {
      if (typeof value !== 'string') return 1;
      // onnxruntime keeps strings as C strings: a NUL would cut the value.
      if (value.includes('\u0000')) return 2;
      target[index] = value;
      return 0;
    },
    expected: 'a string',
  },
};

/**
 * One OIP tensor's data as a typed feed (no checks against a model; see
 * `toFeeds`). `data` is row-major, flat (product(shape) elements) or nested
 * exactly as the shape says; the typed array is filled straight from it.
 */
export function encodeTensor(tensor: OipTensor): FeedTensor {
  const label = `input "${tensor.name}"`;
  const { shape, data, datatype } = tensor;
  const codec = ELEMENT_CODECS[datatype];
  if (!codec) {
    throw new InputError(`Invalid ${label}: unknown datatype ${datatype}`);
  }
  let count = 1;
  for (const dim of shape) count *= dim;
  if (!Number.isSafeInteger(count)) {
    throw new InputError(
      `Invalid ${label}: shape ${formatShape(shape)} has too many elements`,
    );
  }
  const nested = shape.length >= 2 && data.length > 0 && Array.isArray(data[0]);
  if (nested) {
    checkNesting(data, shape, 0, label, '');
  } else if (data.length !== count) {
    throw new InputError(
      `Invalid ${label}: shape ${formatShape(shape)} needs ${count} element${
        count === 1 ? '' : 's'
      } but data has ${data.length}`,
    );
  }
  const target = codec.create(count);
  const write = codec.write;
  const outOfRange =
    datatype === 'BYTES'
      ? 'contains a NUL character, which the runtime cannot carry'
      : `is out of the ${datatype} range`;
  const fail = (index: number, value: unknown, result: WriteResult): never => {
    const what = result === 2 ? outOfRange : `is not ${codec.expected}`;
    throw new InputError(
      `Invalid ${label}: data element ${index} (${describeValue(
        value,
      )}) ${what}`,
    );
  };
  if (!nested) {
    for (let i = 0; i < count; i++) {
      const value = data[i];
      const result = write(target, i, value);
      if (result !== 0) fail(i, value, result);
    }
  } else {
    let index = 0;
    const walk = (level: unknown[], depth: number) => {
      if (depth === shape.length - 1) {
        for (let i = 0; i < level.length; i++) {
          const value = level[i];
          const result = write(target, index, value);
          if (result !== 0) fail(index, value, result);
          index++;
        }
        return;
      }
      for (let i = 0; i < level.length; i++) {
        walk(level[i] as unknown[], depth + 1);
      }
    };
    walk(data, 0);
  }
  return { type: ORT_TYPE_OF[datatype], data: target, dims: shape.slice() };
}

/** Nested data must be arrays of exactly shape[depth] entries down to the last dimension. */
function checkNesting(
  level: unknown,
  shape: number[],
  depth: number,
  label: string,
  path: string,
): void {
  if (!Array.isArray(level)) {
    throw new InputError(
      `Invalid ${label}: data${path} must be an array of ${
        shape[depth]
      } (nested data must follow shape ${formatShape(shape)})`,
    );
  }
  if (level.length !== shape[depth]) {
    throw new InputError(
      `Invalid ${label}: data${path} has ${
        level.length
      } entries but shape ${formatShape(shape)} needs ${
        shape[depth]
      } at dimension ${depth}`,
    );
  }
  if (depth === shape.length - 1) return;
  for (let i = 0; i < level.length; i++) {
    checkNesting(level[i], shape, depth + 1, label, `${path}[${i}]`);
  }
}

// ---- output conversion ---------------------------------------------------

/**
 * An onnxruntime output tensor as an OIP tensor with flat, row-major,
 * JSON-safe data: 64-bit integers as numbers when safe (else decimal
 * strings), FP16 decoded, BOOL as booleans, non-finite floats as strings.
 */
export function decodeTensor(
  name: string,
  tensor: OutputTensorLike,
): OipTensor {
  const datatype = DATATYPE_OF_ORT[tensor.type];
  if (!datatype) {
    throw new Error(
      `Output "${name}" has element type ${tensor.type}, which the Open Inference Protocol cannot carry`,
    );
  }
  const source = tensor.data as ArrayLike<unknown>;
  const length = source.length;
  const data = new Array<unknown>(length);
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const values = source as ArrayLike<number>;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        data[i] = v - v === 0 ? v : nonFiniteText(v);
      }
      break;
    }
    case 'FP16': {
      const values = source as ArrayLike<number>;
      // A Uint16Array holds the half bits; a Float16Array (newer runtimes) holds numbers.
      const bits = source instanceof Uint16Array;
      for (let i = 0; i < length; i++) {
        const v = bits ? halfBitsToFloat(values[i]) : values[i];
        data[i] = v - v === 0 ? v : nonFiniteText(v);
      }
      break;
    }
    case 'INT64':
    case 'UINT64': {
      const values = source as ArrayLike<bigint>;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        data[i] =
          v <= MAX_SAFE_BIG && v >= MIN_SAFE_BIG ? Number(v) : v.toString();
      }
      break;
    }
    case 'BOOL': {
      const values = source as ArrayLike<number | boolean>;
      for (let i = 0; i < length; i++) data[i] = Boolean(values[i]);
      break;
    }
    default: {
      for (let i = 0; i < length; i++) data[i] = source[i];
    }
  }
  return { name, datatype, shape: Array.from(tensor.dims), data };
}

function nonFiniteText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

// ---- IEEE 754 half precision --------------------------------------------

/** The IEEE 754 binary16 bits nearest to `value` (round half to even, from the double directly). */
export function floatToHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= HALF_OVERFLOW) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal (or zero): a = m · 2^-24; m = 1024 rounds up to the smallest normal.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a) exponent--;
  else if (2 ** (exponent + 1) <= a) exponent++;
  // a / 2^e is exact in [1, 2); so is the mantissa's scaled value.
  let mantissa = roundHalfEven((a / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}

let halfTable: Float64Array | undefined;

/** The number an IEEE 754 binary16 bit pattern stands for. */
export function halfBitsToFloat(bits: number): number {
  if (!halfTable) {
    halfTable = new Float64Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = decodeHalf(h);
  }
  return halfTable[bits & 0xffff];
}

function decodeHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31)
    return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

// ---- messages ------------------------------------------------------------

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs
    .map(s => `"${s.name}" (${s.datatype} ${formatShape(s.shape)})`)
    .join(', ');
}

/** A short, safe rendering of a JSON value for an error message. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
