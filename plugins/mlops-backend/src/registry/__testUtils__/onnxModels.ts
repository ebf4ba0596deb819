/*
 * Test fixtures: small, valid ONNX models built byte for byte with protobufjs
 * from the few ONNX messages they need (field numbers from onnx/onnx.proto).
 * Only tests import this file.
 */
import * as protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message StringStringEntryProto { string key = 1; string value = 2; }
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  message Sequence { TypeProto elem_type = 1; }
  oneof value { Tensor tensor_type = 1; Sequence sequence_type = 4; }
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4;
  string name = 8;
  bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  int32 data_location = 14;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

/** ONNX TensorProto.DataType numbers used below. */
export const ONNX_TYPES = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** A dimension: a size, a symbolic name, or null for an unnamed free dimension. */
type Dim = number | string | null;

let modelType: protobuf.Type | undefined;
function ModelProto(): protobuf.Type {
  if (!modelType) {
    modelType = protobuf.parse(ONNX_SUBSET).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

function valueInfo(name: string, elemType: number, dims: Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map(d => {
            if (d === null) return {};
            return typeof d === 'string' ? { dimParam: d } : { dimValue: d };
          }),
        },
      },
    },
  };
}

function encode(graph: Record<string, unknown>): Buffer {
  const type = ModelProto();
  const message = type.fromObject({
    irVersion: 8,
    producerName: 'loopline-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'test', ...graph },
  });
  return Buffer.from(type.encode(message).finish());
}

/**
 * Linear regression `y = x·W + b`: input `x` FP32 [batch, nFeatures],
 * output `y` FP32 [batch, 1].
 */
export function linearRegressionOnnx(
  weights: number[] = [0.5, -1, 2],
  bias = 0.25,
): Buffer {
  return encode({
    node: [
      { input: ['x', 'W'], output: ['xw'], opType: 'MatMul', name: 'matmul' },
      { input: ['xw', 'B'], output: ['y'], opType: 'Add', name: 'add' },
    ],
    initializer: [
      {
        name: 'W',
        dims: [weights.length, 1],
        dataType: ONNX_TYPES.FLOAT,
        floatData: weights,
      },
      { name: 'B', dims: [1], dataType: ONNX_TYPES.FLOAT, floatData: [bias] },
    ],
    input: [valueInfo('x', ONNX_TYPES.FLOAT, ['batch', weights.length])],
    output: [valueInfo('y', ONNX_TYPES.FLOAT, ['batch', 1])],
  });
}

/**
 * One Identity per element type, to check how each is reported:
 * FP64 [n, 4], INT64 [batch], BOOL [2, 2] (through Not), BYTES [?],
 * UINT8 [batch, 3], INT8 [1], INT32 [batch], FP16 [batch, 2].
 */
export function manyTypesOnnx(): Buffer {
  const pairs: Array<[string, number, Dim[], string]> = [
    ['d', ONNX_TYPES.DOUBLE, ['n', 4], 'Identity'],
    ['ids', ONNX_TYPES.INT64, ['batch'], 'Identity'],
    ['flag', ONNX_TYPES.BOOL, [2, 2], 'Not'],
    ['label', ONNX_TYPES.STRING, [null], 'Identity'],
    ['pixels', ONNX_TYPES.UINT8, ['batch', 3], 'Identity'],
    ['small', ONNX_TYPES.INT8, [1], 'Identity'],
    ['count', ONNX_TYPES.INT32, ['batch'], 'Identity'],
    ['half', ONNX_TYPES.FLOAT16, ['batch', 2], 'Identity'],
  ];
  return encode({
    node: pairs.map(([name, , , op]) => ({
      input: [name],
      output: [`${name}_out`],
      opType: op,
      name: `node_${name}`,
    })),
    input: pairs.map(([name, type, dims]) => valueInfo(name, type, dims)),
    output: pairs.map(([name, type, dims]) =>
      valueInfo(`${name}_out`, type, dims),
    ),
  });
}

/** A model whose output is a sequence of tensors, not a tensor (SequenceConstruct). */
export function sequenceOutputOnnx(): Buffer {
  return encode({
    node: [
      {
        input: ['x'],
        output: ['seq'],
        opType: 'SequenceConstruct',
        name: 'seq',
      },
    ],
    input: [valueInfo('x', ONNX_TYPES.FLOAT, ['batch', 2])],
    output: [
      {
        name: 'seq',
        type: {
          sequenceType: {
            elemType: {
              tensorType: {
                elemType: ONNX_TYPES.FLOAT,
                shape: { dim: [{ dimParam: 'batch' }, { dimValue: 2 }] },
              },
            },
          },
        },
      },
    ],
  });
}

/** A linear model whose weights point at a file on the server's disk (external data). */
export function externalDataOnnx(location: string): Buffer {
  return encode({
    node: [{ input: ['x', 'W'], output: ['y'], opType: 'MatMul', name: 'mm' }],
    initializer: [
      {
        name: 'W',
        dims: [3, 1],
        dataType: ONNX_TYPES.FLOAT,
        dataLocation: 1,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: '0' },
          { key: 'length', value: '12' },
        ],
      },
    ],
    input: [valueInfo('x', ONNX_TYPES.FLOAT, ['batch', 3])],
    output: [valueInfo('y', ONNX_TYPES.FLOAT, ['batch', 1])],
  });
}

/** Well-formed protobuf, but the graph uses an operator that does not exist. */
export function invalidGraphOnnx(): Buffer {
  return encode({
    node: [
      {
        input: ['x'],
        output: ['y'],
        opType: 'NoSuchOperator',
        name: 'bad',
      },
    ],
    input: [valueInfo('x', ONNX_TYPES.FLOAT, ['batch', 3])],
    output: [valueInfo('y', ONNX_TYPES.FLOAT, ['batch', 1])],
  });
}
