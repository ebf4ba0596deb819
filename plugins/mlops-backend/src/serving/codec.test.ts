import { OipTensor, TensorDatatype } from '@loopline/mlops-common';
import {
  decodeTensor,
  encodeTensor,
  floatToHalfBits,
  halfBitsToFloat,
  OIP_DATATYPES,
  parseInferRequest,
  selectOutputs,
  ServingTensorSpec,
  toFeeds,
} from './codec';
import { describeWithSpecs, readSpecJson } from '../__testUtils__/specs';

const example = (name: string) => readSpecJson(`oip-v2/examples/${name}`);

const spec = (
  name: string,
  datatype: TensorDatatype,
  shape: number[],
  dimNames?: Array<string | undefined>,
): ServingTensorSpec => ({ name, datatype, shape, dimNames });

const tensor = (
  datatype: TensorDatatype,
  shape: number[],
  data: unknown[],
  name = 'x',
): OipTensor => ({ name, datatype, shape, data });

const inputError = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect((error as Error).name).toBe('InputError');
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
};

describeWithSpecs('parseInferRequest: the OIP examples', () => {
  it("accepts KServe's own samples unchanged", () => {
    const iris = parseInferRequest(example('iris-input.json'));
    expect(iris.inputs).toHaveLength(1);
    expect(iris.inputs[0]).toMatchObject({
      name: 'input-0',
      datatype: 'FP32',
      shape: [2, 4],
    });
    expect(iris.id).toBeUndefined();

    const mixed = parseInferRequest(example('sklearn_mixed_v2.json'));
    expect(mixed.parameters).toEqual({ content_type: 'pd' });
    expect(mixed.inputs.map(i => i.datatype)).toEqual([
      'BYTES',
      'INT32',
      'BYTES',
      'BYTES',
      'INT32',
      'BYTES',
      'INT32',
      'INT32',
      'BYTES',
      'INT32',
    ]);
  });
});

describe('parseInferRequest', () => {
  it('keeps id, parameters and requested outputs, and leaves data untouched', () => {
    const data = [1, 2, 3, 4];
    const parsed = parseInferRequest({
      id: '42',
      parameters: { a: 1 },
      inputs: [{ name: 'input0', shape: [2, 2], datatype: 'UINT32', data }],
      outputs: [{ name: 'output0' }],
      extra: 'ignored',
    });
    expect(parsed.id).toBe('42');
    expect(parsed.outputs).toEqual([{ name: 'output0' }]);
    expect(parsed.inputs[0].data).toBe(data);
  });

  it.each([
    [null, 'must be a JSON object'],
    [[], 'must be a JSON object'],
    ['text', 'must be a JSON object'],
    [{}, 'inputs: is required'],
    [{ inputs: {} }, 'inputs: must be an array of input tensors'],
    [{ inputs: [] }, 'inputs: must hold at least one input tensor'],
    [{ inputs: [1] }, 'inputs.0 must be an object'],
    [
      { inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] },
      'inputs.0.name must be a non-empty string',
    ],
    [
      {
        id: 7,
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
      },
      'id: must be a string',
    ],
    [
      {
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
        outputs: [{}],
      },
      'outputs.0.name: is required',
    ],
    [
      {
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
        parameters: [],
      },
      'parameters: must be an object',
    ],
  ])('refuses %j (%s)', (body, message) => {
    expect(inputError(() => parseInferRequest(body))).toContain(message);
  });

  it.each([
    [
      { name: 'x', shape: [1], datatype: 'FP8', data: [1] },
      'input "x": datatype "FP8" is not one of BOOL',
    ],
    [
      { name: 'x', shape: [1], datatype: 'BF16', data: [1] },
      'input "x": datatype BF16 is not supported',
    ],
    [
      { name: 'x', shape: [1], data: [1] },
      'input "x": datatype must be one of',
    ],
    [
      { name: 'x', shape: [-1], datatype: 'FP32', data: [1] },
      'input "x": shape[0] is -1, not a non-negative integer',
    ],
    [
      { name: 'x', shape: [1.5], datatype: 'FP32', data: [1] },
      'input "x": shape[0] is 1.5',
    ],
    [
      { name: 'x', shape: ['2'], datatype: 'FP32', data: [1] },
      'input "x": shape[0] is "2"',
    ],
    [
      { name: 'x', shape: 3, datatype: 'FP32', data: [1] },
      'input "x": shape must be an array',
    ],
    [
      { name: 'x', shape: new Array(33).fill(1), datatype: 'FP32', data: [1] },
      'input "x": shape has 33 dimensions',
    ],
    [
      { name: 'x', shape: [1], datatype: 'FP32', data: 1 },
      'input "x": data must be an array',
    ],
    [
      { name: 'x', shape: [1], datatype: 'FP32', data: [1], parameters: 'p' },
      'input "x": parameters must be an object',
    ],
  ])('names the input in what is wrong with %j', (input, message) => {
    expect(inputError(() => parseInferRequest({ inputs: [input] }))).toContain(
      message,
    );
  });

  it('refuses an input given twice', () => {
    const x = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
    expect(inputError(() => parseInferRequest({ inputs: [x, x] }))).toContain(
      'input "x" is given more than once',
    );
  });
});

describe('toFeeds', () => {
  const inputs = [spec('x', 'FP32', [-1, 3], ['batch', undefined])];
  const request = (...tensors: OipTensor[]) =>
    parseInferRequest({ inputs: tensors });

  it('builds a Float32Array from flat data and from nested data alike', () => {
    const flat = toFeeds(
      request(tensor('FP32', [2, 3], [1, 2, 3, 4, 5, 6])),
      inputs,
    );
    const nested = toFeeds(
      request(
        tensor(
          'FP32',
          [2, 3],
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
        ),
      ),
      inputs,
    );
    for (const feeds of [flat, nested]) {
      expect(feeds.x.type).toBe('float32');
      expect(feeds.x.dims).toEqual([2, 3]);
      expect(feeds.x.data).toBeInstanceOf(Float32Array);
      expect(Array.from(feeds.x.data as Float32Array)).toEqual([
        1, 2, 3, 4, 5, 6,
      ]);
    }
  });

  it('takes an empty batch', () => {
    const feeds = toFeeds(request(tensor('FP32', [0, 3], [])), inputs);
    expect(feeds.x.dims).toEqual([0, 3]);
    expect((feeds.x.data as Float32Array).length).toBe(0);
  });

  it.each([
    [
      tensor('FP32', [1, 3], [1, 2, 3], 'y'),
      'Unknown input "y": the model takes "x" (FP32 [-1, 3])',
    ],
    [
      tensor('FP64', [1, 3], [1, 2, 3]),
      'input "x": datatype FP64 does not match the model\'s FP32',
    ],
    [
      tensor('FP32', [3], [1, 2, 3]),
      'input "x": shape [3] has 1 dimension(s) but the model\'s input has 2',
    ],
    [
      tensor('FP32', [1, 4], [1, 2, 3, 4]),
      'input "x": shape [1, 4] does not match the model\'s [-1, 3] (dimension 1 must be 3)',
    ],
    [
      tensor('FP32', [2, 3], [1, 2, 3]),
      'input "x": shape [2, 3] needs 6 elements but data has 3',
    ],
    [
      tensor(
        'FP32',
        [2, 3],
        [
          [1, 2, 3],
          [4, 5],
        ],
      ),
      'input "x": data[1] has 2 entries but shape [2, 3] needs 3 at dimension 1',
    ],
    [
      tensor('FP32', [2, 3], [[1, 2, 3]]),
      'input "x": data has 1 entries but shape [2, 3] needs 2 at dimension 0',
    ],
    [
      tensor('FP32', [2, 3], [[1, 2, 3], 4]),
      'input "x": data[1] must be an array of 3',
    ],
    [
      tensor('FP32', [1, 3], [1, [2], 3]),
      'input "x": data element 1 (an array) is not a number',
    ],
    [
      tensor('FP32', [1, 3], [1, 'two', 3]),
      'input "x": data element 1 ("two") is not a number',
    ],
    [
      tensor('FP32', [1, 3], [1, null, 3]),
      'input "x": data element 1 (null) is not a number',
    ],
    [
      tensor('FP32', [1, 3], [1, 1e39, 3]),
      'input "x": data element 1 (1e+39) is out of the FP32 range',
    ],
  ])('refuses %j', (given, message) => {
    expect(inputError(() => toFeeds(request(given), inputs))).toContain(
      message,
    );
  });

  it('asks for every input, naming the missing ones', () => {
    const two = [spec('a', 'FP32', [-1, 2]), spec('b', 'INT64', [-1])];
    expect(
      inputError(() =>
        toFeeds(request(tensor('FP32', [1, 2], [1, 2], 'a')), two),
      ),
    ).toContain('Missing input "b" (INT64 [-1])');
  });

  it('holds inputs sharing a symbolic dimension to the same size', () => {
    const two = [
      spec('a', 'FP32', [-1, 2], ['batch', undefined]),
      spec('b', 'FP32', [-1, 2], ['batch', undefined]),
    ];
    expect(
      inputError(() =>
        toFeeds(
          request(
            tensor('FP32', [1, 2], [1, 2], 'a'),
            tensor('FP32', [2, 2], [1, 2, 3, 4], 'b'),
          ),
          two,
        ),
      ),
    ).toContain('input "b": dimension 0 ("batch") is 2 but input "a" gives 1');
  });

  it('never allocates for a shape its data cannot fill', () => {
    const huge = [spec('x', 'FP32', [-1, -1])];
    expect(
      inputError(() =>
        toFeeds(request(tensor('FP32', [4e9, 4e9], [[1]])), huge),
      ),
    ).toContain(
      'input "x": shape [4000000000, 4000000000] has too many elements',
    );
    expect(
      inputError(() =>
        toFeeds(request(tensor('FP32', [1e6, 1e6], [[1]])), huge),
      ),
    ).toContain(
      'input "x": data has 1 entries but shape [1000000, 1000000] needs 1000000 at dimension 0',
    );
    expect(
      inputError(() => toFeeds(request(tensor('FP32', [1e6, 1e6], [1])), huge)),
    ).toContain('needs 1000000000000 elements but data has 1');
  });
});

describe('encodeTensor: every datatype', () => {
  const encode = (datatype: TensorDatatype, data: unknown[]) =>
    encodeTensor(tensor(datatype, [data.length], data));

  it.each<[TensorDatatype, unknown[], unknown, string]>([
    ['BOOL', [true, false, 1, 0], Uint8Array, 'bool'],
    ['INT8', [-128, 0, 127], Int8Array, 'int8'],
    ['INT16', [-32768, 32767], Int16Array, 'int16'],
    ['INT32', [-2147483648, 2147483647], Int32Array, 'int32'],
    ['UINT8', [0, 255], Uint8Array, 'uint8'],
    ['UINT16', [0, 65535], Uint16Array, 'uint16'],
    ['UINT32', [0, 4294967295], Uint32Array, 'uint32'],
    [
      'INT64',
      [-9007199254740991, '-9223372036854775808', '9223372036854775807'],
      BigInt64Array,
      'int64',
    ],
    [
      'UINT64',
      [0, 9007199254740991, '18446744073709551615'],
      BigUint64Array,
      'uint64',
    ],
    ['FP16', [1, -2, 65504, 'NaN'], Uint16Array, 'float16'],
    [
      'FP32',
      [1.5, -0, 'Infinity', '-Infinity', 'NaN'],
      Float32Array,
      'float32',
    ],
    ['FP64', [Number.MAX_VALUE, 5e-324, 'inf'], Float64Array, 'float64'],
    ['BYTES', ['a', 'é', ''], Array, 'string'],
  ])(
    '%s into the typed array onnxruntime takes',
    (datatype, data, type, ort) => {
      const feed = encode(datatype, data);
      expect(feed.type).toBe(ort);
      expect(feed.data).toBeInstanceOf(type as any);
      expect(feed.data.length).toBe(data.length);
    },
  );

  it('keeps exact 64-bit integers', () => {
    expect(
      Array.from(
        encode('INT64', ['-9223372036854775808', 42, '+7'])
          .data as BigInt64Array,
      ),
    ).toEqual([-(2n ** 63n), 42n, 7n]);
    expect(
      Array.from(
        encode('UINT64', ['18446744073709551615']).data as BigUint64Array,
      ),
    ).toEqual([2n ** 64n - 1n]);
  });

  it.each<[TensorDatatype, unknown, string]>([
    ['BOOL', 2, 'is not true or false (or 1 or 0)'],
    ['BOOL', 'true', 'is not true or false'],
    ['INT8', 128, 'is out of the INT8 range'],
    ['INT8', -129, 'is out of the INT8 range'],
    ['INT8', 1.5, 'is not an integer from -128 to 127'],
    ['INT16', 32768, 'is out of the INT16 range'],
    ['INT32', 2147483648, 'is out of the INT32 range'],
    ['UINT8', -1, 'is out of the UINT8 range'],
    ['UINT16', 65536, 'is out of the UINT16 range'],
    ['UINT32', 4294967296, 'is out of the UINT32 range'],
    ['UINT32', '5', 'is not an integer from 0 to 4294967295'],
    ['INT64', 2 ** 53, 'is out of the INT64 range'],
    ['INT64', '9223372036854775808', 'is out of the INT64 range'],
    ['INT64', '12.5', 'is not an integer from'],
    ['INT64', '0x10', 'is not an integer from'],
    ['INT64', true, 'is not an integer from'],
    ['UINT64', -1, 'is out of the UINT64 range'],
    ['UINT64', '18446744073709551616', 'is out of the UINT64 range'],
    ['FP16', 65520, 'is out of the FP16 range'],
    ['FP16', '1.5', 'is not a number'],
    ['FP32', -3.5e38, 'is out of the FP32 range'],
    ['FP32', true, 'is not a number'],
    ['FP64', 'abc', 'is not a number'],
    ['FP64', {}, 'is not a number'],
    ['BYTES', 5, 'is not a string'],
    ['BYTES', 'a\u0000b', 'contains a NUL character'],
  ])('%s refuses %j', (datatype, value, message) => {
    expect(inputError(() => encode(datatype, [value]))).toContain(
      `input "x": data element 0`,
    );
    expect(inputError(() => encode(datatype, [value]))).toContain(message);
  });
});

describe('IEEE half precision', () => {
  it('round-trips every half bit pattern (NaNs to the canonical NaN)', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfBitsToFloat(bits);
      const back = floatToHalfBits(value);
      const want = Number.isNaN(value) ? 0x7e00 : bits;
      if (back !== want) {
        wrong.push(
          `0x${bits.toString(16)} → ${value} → 0x${back.toString(16)}`,
        );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to nearest, ties to even, straight from the double', () => {
    expect(floatToHalfBits(1 / 3)).toBe(0x3555);
    expect(floatToHalfBits(65504)).toBe(0x7bff);
    expect(floatToHalfBits(65519.99)).toBe(0x7bff);
    expect(floatToHalfBits(65520)).toBe(0x7c00);
    expect(floatToHalfBits(2 ** -24)).toBe(0x0001);
    expect(floatToHalfBits(2 ** -25)).toBe(0x0000); // tie → even (0)
    expect(floatToHalfBits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(floatToHalfBits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 → 2
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even
    expect(floatToHalfBits(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01); // just above the tie
    expect(floatToHalfBits(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up into the normals
    expect(floatToHalfBits(-0)).toBe(0x8000);
    expect(floatToHalfBits(-Infinity)).toBe(0xfc00);
  });
});

describe('decodeTensor', () => {
  it.each<[string, unknown, unknown[], TensorDatatype]>([
    [
      'float32',
      new Float32Array([1.5, NaN, Infinity, -Infinity]),
      [1.5, 'NaN', 'Infinity', '-Infinity'],
      'FP32',
    ],
    ['float64', new Float64Array([0.1, -0]), [0.1, -0], 'FP64'],
    [
      'float16',
      new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x7e00, 0x0001]),
      [1, -2, 65504, 'NaN', 2 ** -24],
      'FP16',
    ],
    [
      'int64',
      new BigInt64Array([1n, -(2n ** 63n), 2n ** 53n - 1n, 2n ** 53n]),
      [1, '-9223372036854775808', 9007199254740991, '9007199254740992'],
      'INT64',
    ],
    [
      'uint64',
      new BigUint64Array([2n ** 64n - 1n, 3n]),
      ['18446744073709551615', 3],
      'UINT64',
    ],
    ['bool', new Uint8Array([1, 0]), [true, false], 'BOOL'],
    ['int8', new Int8Array([-128, 127]), [-128, 127], 'INT8'],
    ['uint32', new Uint32Array([4294967295]), [4294967295], 'UINT32'],
    ['string', ['a', 'b'], ['a', 'b'], 'BYTES'],
  ])('%s → OIP %s', (type, data, expected, datatype) => {
    const out = decodeTensor('y', { type, data, dims: [expected.length] });
    expect(out).toEqual({
      name: 'y',
      datatype,
      shape: [expected.length],
      data: expected,
    });
    expect(JSON.parse(JSON.stringify(out.data))).toEqual(
      expected.map(v => (Object.is(v, -0) ? 0 : v)),
    );
  });

  it('refuses an element type the protocol cannot carry', () => {
    expect(() =>
      decodeTensor('y', { type: 'int4', data: new Int8Array(1), dims: [1] }),
    ).toThrow('element type int4');
  });
});

describe('selectOutputs', () => {
  const outputs = [
    spec('probabilities', 'FP32', [-1, 2]),
    spec('label', 'INT64', [-1]),
  ];

  it('gives every output in model order by default, else the ones asked', () => {
    expect(selectOutputs({}, outputs)).toEqual(['probabilities', 'label']);
    expect(
      selectOutputs(
        { outputs: [{ name: 'label' }, { name: 'label' }] },
        outputs,
      ),
    ).toEqual(['label']);
  });

  it('refuses an unknown output, naming it', () => {
    expect(
      inputError(() =>
        selectOutputs({ outputs: [{ name: 'proba' }] }, outputs),
      ),
    ).toContain(
      'Unknown output "proba" requested: the model gives "probabilities" (FP32 [-1, 2]), "label" (INT64 [-1])',
    );
  });
});

it('lists the thirteen OIP datatypes', () => {
  expect(OIP_DATATYPES).toHaveLength(13);
});
