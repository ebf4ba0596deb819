import fs from 'node:fs';
import type { TensorDatatype } from '@loopline/mlops-common';
import { describeWithSpecs, readSpecText } from '../__testUtils__/specs';
import { parseInferRequest, toFeeds } from '../serving/codec';
import { encodeRawTensor } from './binary';
import { jsonRequestOf, loadInferenceProto, PROTO_PATH } from './grpc';

const request = (overrides: object) => ({
  model_name: 'wine',
  model_version: '',
  id: '',
  parameters: {},
  inputs: [],
  outputs: [],
  raw_input_contents: [],
  ...overrides,
});

describeWithSpecs('the gRPC proto', () => {
  it('is the OIP spec file, unchanged, and defines GRPCInferenceService', () => {
    expect(fs.readFileSync(PROTO_PATH, 'utf8')).toBe(
      readSpecText('oip-v2/grpc/grpc_predict_v2.proto'),
    );
    const service = loadInferenceProto().inference.GRPCInferenceService.service;
    expect(Object.keys(service).sort()).toEqual([
      'ModelInfer',
      'ModelMetadata',
      'ModelReady',
      'ServerLive',
      'ServerMetadata',
      'ServerReady',
    ]);
  });
});

describe('ModelInferRequest → the JSON request', () => {
  it('reads raw_input_contents and typed contents, parameters included', () => {
    const raw = jsonRequestOf(
      request({
        id: 'g1',
        parameters: {
          ab: { parameter_choice: 'string_param', string_param: 'k' },
        },
        inputs: [{ name: 'input', datatype: 'FP32', shape: ['1', '2'] }],
        raw_input_contents: [Buffer.from(new Float32Array([1.5, 2]).buffer)],
      }) as any,
    );
    expect(raw).toEqual({
      id: 'g1',
      parameters: { ab: 'k' },
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 2], data: [1.5, 2] },
      ],
    });
    const typed = jsonRequestOf(
      request({
        inputs: [
          {
            name: 'a',
            datatype: 'INT64',
            shape: ['2'],
            contents: { int64_contents: ['9007199254740993', '-1'] },
          },
          {
            name: 'b',
            datatype: 'BYTES',
            shape: ['1'],
            contents: { bytes_contents: [Buffer.from('hé')] },
          },
          {
            name: 'c',
            datatype: 'BOOL',
            shape: ['1'],
            contents: { bool_contents: [true] },
          },
        ],
        outputs: [{ name: 'y', parameters: {} }],
      }) as any,
    );
    expect(typed).toEqual({
      inputs: [
        {
          name: 'a',
          datatype: 'INT64',
          shape: [2],
          data: ['9007199254740993', '-1'],
        },
        { name: 'b', datatype: 'BYTES', shape: [1], data: ['hé'] },
        { name: 'c', datatype: 'BOOL', shape: [1], data: [true] },
      ],
      outputs: [{ name: 'y', parameters: {} }],
    });
  });

  it('refuses raw contents that do not match the inputs (INVALID_ARGUMENT), over 1,500 random cases', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const types: TensorDatatype[] = [
      'FP32',
      'INT64',
      'BOOL',
      'BYTES',
      'FP64',
      'INT32',
    ];
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      const datatype = types[Math.floor(random() * types.length)];
      const n = 1 + Math.floor(random() * 3);
      let bytes = encodeRawTensor({
        name: 'x',
        datatype,
        shape: [n],
        data: Array.from({ length: n }, (_, k) =>
          datatype === 'BYTES' ? `s${k}` : datatype === 'BOOL' ? true : k,
        ),
      });
      const mangle = random();
      if (mangle < 0.4)
        bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      else if (mangle < 0.6)
        bytes = Buffer.concat([
          bytes,
          Buffer.alloc(1 + Math.floor(random() * 9)),
        ]);
      const raws = mangle > 0.9 ? [bytes, bytes] : [bytes];
      const shape = [String(random() < 0.2 ? n + 1 : n)];
      try {
        const json = jsonRequestOf(
          request({
            inputs: [{ name: 'x', datatype, shape }],
            raw_input_contents: raws,
          }) as any,
        );
        toFeeds(parseInferRequest(json), [
          { name: 'x', datatype, shape: [-1] },
        ]);
      } catch (error) {
        expect((error as Error).name).toBe('InputError');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
  });
});
