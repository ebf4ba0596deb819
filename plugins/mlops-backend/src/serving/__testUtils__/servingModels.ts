/*
 * Test fixtures: small ONNX graphs for the serving tests, encoded with the
 * registry's ONNX proto subset (as OnnxWriter encodes its models). Only tests
 * import this file.
 */
import { TensorDatatype } from '@loopline/mlops-common';
import {
  GraphMessage,
  ModelMessage,
  onnxMessageType,
  TensorDataType,
  TensorMessage,
  ValueInfo,
} from '../../registry/onnx/onnxProto';

/** A dimension: a size, a symbolic name, or null for an unnamed free dimension. */
export type Dim = number | string | null;

/** ONNX element type of each OIP datatype. */
export const ELEM_TYPE_OF: Record<TensorDatatype, number> = {
  BOOL: TensorDataType.BOOL,
  UINT8: TensorDataType.UINT8,
  UINT16: TensorDataType.UINT16,
  UINT32: TensorDataType.UINT32,
  UINT64: TensorDataType.UINT64,
  INT8: TensorDataType.INT8,
  INT16: TensorDataType.INT16,
  INT32: TensorDataType.INT32,
  INT64: TensorDataType.INT64,
  FP16: TensorDataType.FLOAT16,
  FP32: TensorDataType.FLOAT,
  FP64: TensorDataType.DOUBLE,
  BYTES: TensorDataType.STRING,
};

export function valueInfo(
  name: string,
  elemType: number,
  dims: Dim[],
): ValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: {
          dim: dims.map(d => {
            if (d === null) return {};
            return typeof d === 'string' ? { dim_param: d } : { dim_value: d };
          }),
        },
      },
    },
  };
}

export function encodeModel(
  graph: Omit<GraphMessage, 'name'>,
  metadata: Record<string, string> = {},
): Buffer {
  const model: ModelMessage = {
    ir_version: 8,
    opset_import: [{ version: 17 }],
    producer_name: 'loopline-serving-tests',
    graph: { name: 'test', ...graph },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({
      key,
      value,
    })),
  };
  const type = onnxMessageType('ModelProto');
  const problem = type.verify(model);
  if (problem) throw new Error(problem);
  return Buffer.from(type.encode(type.fromObject(model)).finish());
}

/** Identity from input `x` to output `y`, both of `datatype` with `dims`. */
export function identityOnnx(
  datatype: TensorDatatype,
  dims: Dim[] = ['batch', 2],
): Buffer {
  const elem = ELEM_TYPE_OF[datatype];
  return encodeModel({
    node: [{ op_type: 'Identity', input: ['x'], output: ['y'], name: 'id' }],
    input: [valueInfo('x', elem, dims)],
    output: [valueInfo('y', elem, dims)],
  });
}

/** One Identity per OIP datatype: input `in_<TYPE>` → output `out_<TYPE>`, each [batch, 2]. */
export function allTypesIdentityOnnx(types: readonly TensorDatatype[]): Buffer {
  return encodeModel({
    node: types.map(t => ({
      op_type: 'Identity',
      input: [`in_${t}`],
      output: [`out_${t}`],
      name: `id_${t}`,
    })),
    input: types.map(t => valueInfo(`in_${t}`, ELEM_TYPE_OF[t], ['batch', 2])),
    output: types.map(t =>
      valueInfo(`out_${t}`, ELEM_TYPE_OF[t], ['batch', 2]),
    ),
  });
}

/** sum = a + b, FP32, both [batch, 2] with the same symbolic batch. */
export function addOnnx(): Buffer {
  return encodeModel({
    node: [{ op_type: 'Add', input: ['a', 'b'], output: ['sum'], name: 'add' }],
    input: [
      valueInfo('a', TensorDataType.FLOAT, ['batch', 2]),
      valueInfo('b', TensorDataType.FLOAT, ['batch', 2]),
    ],
    output: [valueInfo('sum', TensorDataType.FLOAT, ['batch', 2])],
  });
}

function floatTensor(
  name: string,
  dims: number[],
  values: number[],
): TensorMessage {
  return { name, dims, data_type: TensorDataType.FLOAT, float_data: values };
}

/**
 * One input per feature (FP32 [batch, 1] each, named like the feature);
 * score = Σ weight · feature, FP32 [batch, 1].
 */
export function perFeatureInputsOnnx(weights: Record<string, number>): Buffer {
  const names = Object.keys(weights);
  return encodeModel({
    node: [
      {
        op_type: 'Concat',
        input: names,
        output: ['x'],
        name: 'concat',
        attribute: [{ name: 'axis', type: 2, i: 1 }],
      },
      { op_type: 'MatMul', input: ['x', 'W'], output: ['score'], name: 'mm' },
    ],
    initializer: [
      floatTensor(
        'W',
        [names.length, 1],
        names.map(n => weights[n]),
      ),
    ],
    input: names.map(n => valueInfo(n, TensorDataType.FLOAT, ['batch', 1])),
    output: [valueInfo('score', TensorDataType.FLOAT, ['batch', 1])],
  });
}

/**
 * `y = Reshape(x, shape)`: the caller gives the target shape, so a shape
 * that does not fit fails inside the runtime, after every check passed.
 */
export function reshapeOnnx(): Buffer {
  return encodeModel({
    node: [
      {
        op_type: 'Reshape',
        input: ['x', 'shape'],
        output: ['y'],
        name: 'reshape',
      },
    ],
    input: [
      valueInfo('x', TensorDataType.FLOAT, ['n']),
      valueInfo('shape', TensorDataType.INT64, [2]),
    ],
    output: [valueInfo('y', TensorDataType.FLOAT, [null, null])],
  });
}
