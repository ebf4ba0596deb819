import type { OipTensor, TensorDatatype } from '@loopline/mlops-common';
import { describeWithSpecs, readSpecJson } from '../__testUtils__/specs';
import { parseInferRequest, toFeeds } from '../serving/codec';
import { decodeRawTensor, tensorsOfRaw } from '../serving/rawTensor';
import {
  binaryOutputsOf,
  encodeBinaryResponse,
  encodeRawTensor,
  parseBinaryRequest,
  readBinaryRequest,
  wantsBinary,
} from './binary';

/** A binary request body: the JSON header, then the tensors' bytes. */
function binaryBody(header: unknown, ...tensors: Buffer[]) {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors]),
    length: String(json.length),
  };
}

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

describe('the OIP binary tensor extension', () => {
  it('round-trips every datatype through raw bytes', () => {
    const cases: Array<[TensorDatatype, unknown[]]> = [
      ['BOOL', [true, false, true]],
      ['UINT8', [0, 255]],
      ['INT8', [-128, 127]],
      ['UINT16', [0, 65535]],
      ['INT16', [-32768, 32767]],
      ['UINT32', [0, 4294967295]],
      ['INT32', [-2147483648, 2147483647]],
      ['INT64', [-5, 2 ** 53 - 1, '9223372036854775807']],
      ['UINT64', [0, '18446744073709551615']],
      ['FP16', [0.5, -2, 'Infinity']],
      ['FP32', [1.5, -0.25, 'NaN', '-Infinity']],
      ['FP64', [Math.PI, 'Infinity']],
      ['BYTES', ['', 'héllo', 'a\nb']],
    ];
    for (const [datatype, data] of cases) {
      const tensor: OipTensor = {
        name: 'x',
        datatype,
        shape: [data.length],
        data,
      };
      const bytes = encodeRawTensor(tensor);
      expect(decodeRawTensor(datatype, bytes, 'x')).toEqual(data);
    }
    expect(
      encodeRawTensor({
        name: 'x',
        datatype: 'FP32',
        shape: [2],
        data: [1, 2],
      }),
    ).toEqual(f32([1, 2]));
  });

  it('turns a binary request into the JSON request it stands for, which the codec checks as usual', () => {
    const { body, length } = binaryBody(
      {
        id: 'b1',
        inputs: [
          {
            name: 'input-0',
            datatype: 'FP32',
            shape: [2, 2],
            parameters: { binary_data_size: 16 },
          },
          { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
          {
            name: 'words',
            datatype: 'BYTES',
            shape: [1],
            parameters: { binary_data_size: 6, content_type: 'str' },
          },
        ],
      },
      f32([1, 2, 3, 4]),
      Buffer.from([2, 0, 0, 0, 0x68, 0x69]),
    );
    const request = parseBinaryRequest(body, length) as any;
    expect(request.inputs).toEqual([
      { name: 'input-0', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] },
      { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
      {
        name: 'words',
        datatype: 'BYTES',
        shape: [1],
        data: ['hi'],
        parameters: { content_type: 'str' },
      },
    ]);
    const parsed = parseInferRequest(request);
    const feeds = toFeeds({ ...parsed, inputs: parsed.inputs.slice(0, 1) }, [
      { name: 'input-0', datatype: 'FP32', shape: [-1, 2] },
    ]);
    expect(Array.from(feeds['input-0'].data as Float32Array)).toEqual([
      1, 2, 3, 4,
    ]);
  });

  it('keeps the bytes for the log when every input is binary, standing for the same JSON', () => {
    const header = {
      inputs: [
        {
          name: 'input-0',
          datatype: 'FP32',
          shape: [1, 3],
          parameters: { binary_data_size: 12 },
        },
        {
          name: 'words',
          datatype: 'BYTES',
          shape: [1],
          parameters: { binary_data_size: 6, content_type: 'str' },
        },
      ],
    };
    const floats = f32([10, 0.5, 0.6]);
    const { body, length } = binaryBody(
      header,
      floats,
      Buffer.from([2, 0, 0, 0, 0x68, 0x69]),
    );
    const { request, rawInputs } = readBinaryRequest(body, length);
    expect(rawInputs).toEqual([
      { name: 'input-0', datatype: 'FP32', shape: [1, 3], contents: floats },
      {
        name: 'words',
        datatype: 'BYTES',
        shape: [1],
        parameters: { content_type: 'str' },
        contents: Buffer.from([2, 0, 0, 0, 0x68, 0x69]),
      },
    ]);
    // The log's JSON of the bytes is the JSON of the inputs the codec took.
    expect(JSON.stringify(tensorsOfRaw(rawInputs!))).toBe(
      JSON.stringify(parseInferRequest(request).inputs),
    );
    // Copies: the event outlives the request's body.
    body.fill(0);
    expect(rawInputs![0].contents).toEqual(floats);
    // One input given as JSON: no bytes for the log, the parsed inputs serve.
    const mixed = binaryBody(
      {
        inputs: [
          header.inputs[0],
          { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
        ],
      },
      floats,
    );
    expect(
      readBinaryRequest(mixed.body, mixed.length).rawInputs,
    ).toBeUndefined();
  });

  it.each([
    [
      'a header longer than the body',
      (b: Buffer) => [b.subarray(0, 10), '400'],
      /only 10/,
    ],
    [
      'a header length that is not a number',
      (b: Buffer) => [b, '-1'],
      /not a byte count/,
    ],
    [
      'a truncated body',
      (b: Buffer) => [b.subarray(0, b.length - 3), undefined],
      /runs past/,
    ],
    [
      'trailing bytes',
      (b: Buffer) => [Buffer.concat([b, Buffer.from([0])]), undefined],
      /add up to/,
    ],
  ])('refuses %s (400)', (_what, mangle, message) => {
    const { body, length } = binaryBody(
      {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [2],
            parameters: { binary_data_size: 8 },
          },
        ],
      },
      f32([1, 2]),
    );
    const [mangled, header] = (
      mangle as (b: Buffer) => [Buffer, string | undefined]
    )(body);
    expect(() => parseBinaryRequest(mangled, header ?? length)).toThrow(
      expect.objectContaining({
        name: 'InputError',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('refuses sizes that are no whole number of elements, and data given twice', () => {
    const odd = binaryBody(
      {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1],
            parameters: { binary_data_size: 3 },
          },
        ],
      },
      Buffer.from([1, 2, 3]),
    );
    expect(() => parseBinaryRequest(odd.body, odd.length)).toThrow(
      /whole number/,
    );
    const twice = binaryBody(
      {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1],
            data: [1],
            parameters: { binary_data_size: 4 },
          },
        ],
      },
      f32([1]),
    );
    expect(() => parseBinaryRequest(twice.body, twice.length)).toThrow(
      /both data/,
    );
  });

  it('survives 2,000 random manglings: every body parses or is refused with an InputError', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const datatypes: TensorDatatype[] = [
      'FP32',
      'INT64',
      'BOOL',
      'BYTES',
      'FP16',
      'UINT8',
    ];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const datatype = datatypes[Math.floor(random() * datatypes.length)];
      const n = Math.floor(random() * 4);
      const tensor = encodeRawTensor({
        name: 'x',
        datatype,
        shape: [n],
        data: Array.from({ length: n }, (_, k) =>
          datatype === 'BYTES'
            ? `v${k}`
            : datatype === 'BOOL'
            ? k % 2 === 0
            : k,
        ),
      });
      const size =
        random() < 0.3 ? Math.floor(random() * 40) - 5 : tensor.length;
      const { body, length } = binaryBody(
        {
          inputs: [
            {
              name: 'x',
              datatype,
              shape: [n],
              parameters: { binary_data_size: size },
            },
          ],
        },
        tensor,
      );
      let mangled = body;
      const cut = random();
      if (cut < 0.3)
        mangled = body.subarray(0, Math.floor(random() * body.length));
      else if (cut < 0.5) {
        mangled = Buffer.from(body);
        mangled[Math.floor(random() * mangled.length)] = Math.floor(
          random() * 256,
        );
      }
      const header =
        random() < 0.2
          ? String(Math.floor(random() * body.length * 2))
          : length;
      try {
        const request = parseBinaryRequest(mangled, header);
        // What parses goes on to the codec, which refuses with InputError too.
        try {
          toFeeds(parseInferRequest(request), [
            { name: 'x', datatype, shape: [-1] },
          ]);
        } catch (error) {
          expect((error as Error).name).toBe('InputError');
        }
      } catch (error) {
        expect((error as Error).name).toBe('InputError');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
  });

  it('answers binary outputs per output, else for all, with each output sized', () => {
    const response = {
      model_name: 'm',
      outputs: [
        { name: 'a', datatype: 'FP32' as const, shape: [2], data: [1, 2] },
        { name: 'b', datatype: 'INT64' as const, shape: [1], data: [7] },
      ],
    };
    const request = {
      parameters: { binary_data_output: true },
      outputs: [{ name: 'b', parameters: { binary_data: false } }],
    };
    expect(wantsBinary(request)).toBe(true);
    const { body, jsonLength } = encodeBinaryResponse(
      response,
      binaryOutputsOf(request),
    );
    const json = JSON.parse(body.toString('utf8', 0, jsonLength));
    expect(json.outputs).toEqual([
      {
        name: 'a',
        datatype: 'FP32',
        shape: [2],
        parameters: { binary_data_size: 8 },
      },
      { name: 'b', datatype: 'INT64', shape: [1], data: [7] },
    ]);
    expect(body.subarray(jsonLength)).toEqual(f32([1, 2]));
    expect(wantsBinary({ inputs: [] })).toBe(false);
  });
});

describeWithSpecs('the binary examples of the OIP spec', () => {
  it.each(['iris_input_v2_binary.json', 'iris_input_v2_all_binary.json'])(
    '%s asks for output-0 as binary',
    file => {
      const request = readSpecJson(`oip-v2/examples/${file}`);
      expect(wantsBinary(request)).toBe(true);
      expect(binaryOutputsOf(request)('output-0')).toBe(true);
      // Its inputs, sent as binary, stand for the same JSON request.
      const input = request.inputs[0];
      const { body, length } = binaryBody(
        {
          ...request,
          inputs: [
            {
              name: input.name,
              shape: input.shape,
              datatype: input.datatype,
              parameters: { binary_data_size: 32 },
            },
          ],
        },
        f32(input.data.flat()),
      );
      const parsed = parseBinaryRequest(body, length) as any;
      parsed.inputs[0].data.forEach((v: number, i: number) =>
        expect(v).toBeCloseTo(input.data.flat()[i], 5),
      );
    },
  );
});
