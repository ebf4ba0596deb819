/*
 * A faithful subset of onnx/onnx.proto3 (package `onnx`, MIT licence, ONNX
 * Project Contributors) as a protobufjs JSON descriptor: the messages needed
 * to write and read a model graph. Field names, numbers and types are the
 * spec's; messages and fields left out (FunctionProto, TrainingInfoProto,
 * SparseTensorProto, quantization annotations, ...) are skipped by the decoder
 * as unknown fields, which is what protobuf does with any newer field too.
 *
 * Why not the published `onnx-proto` npm package (checked with 8.0.1, its
 * newest): it is not kept in step with ONNX. Its `onnx.d.ts` declares
 * `IR_VERSION = 8` and DataType up to BFLOAT16 (16), while ONNX's onnx.proto
 * is at IR version 11 or later, with FLOAT8*, UINT4, INT4, FLOAT4E2M1 and FLOAT8E8M0
 * (17-24) and attribute types TYPE_PROTO(S). It is static code for protobufjs
 * 6 (`protobufjs: ^6.11.2`), so it installs a second protobufjs beside the 7
 * used here, and its decoders only take a protobufjs-6 Reader (the streaming
 * metadata read in serving/onnxMetadata.ts has a protobufjs-7 one). Add a
 * field here, with the spec's number, when a reader needs it.
 */
import { Root, Type } from 'protobufjs';

/** TensorProto.DataType: element types of tensors. */
export const TensorDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType: which value field of an attribute is set. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
} as const;

/** The protobufjs JSON descriptor (INamespace) of the subset. */
export const ONNX_PROTO_JSON = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            ref_attr_name: { type: 'string', id: 21 },
            doc_string: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
          },
          nested: {
            AttributeType: { values: { ...AttributeType } },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            doc_string: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            doc_string: { type: 'string', id: 6 },
          },
        },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            opset_import: {
              rule: 'repeated',
              type: 'OperatorSetIdProto',
              id: 8,
            },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadata_props: {
              rule: 'repeated',
              type: 'StringStringEntryProto',
              id: 14,
            },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: {
              rule: 'repeated',
              type: 'int64',
              id: 1,
              options: { packed: true },
            },
            data_type: { type: 'int32', id: 2 },
            float_data: {
              rule: 'repeated',
              type: 'float',
              id: 4,
              options: { packed: true },
            },
            int32_data: {
              rule: 'repeated',
              type: 'int32',
              id: 5,
              options: { packed: true },
            },
            string_data: { rule: 'repeated', type: 'bytes', id: 6 },
            int64_data: {
              rule: 'repeated',
              type: 'int64',
              id: 7,
              options: { packed: true },
            },
            name: { type: 'string', id: 8 },
            doc_string: { type: 'string', id: 12 },
            raw_data: { type: 'bytes', id: 9 },
            external_data: {
              rule: 'repeated',
              type: 'StringStringEntryProto',
              id: 13,
            },
            data_location: { type: 'DataLocation', id: 14 },
            double_data: {
              rule: 'repeated',
              type: 'double',
              id: 10,
              options: { packed: true },
            },
            uint64_data: {
              rule: 'repeated',
              type: 'uint64',
              id: 11,
              options: { packed: true },
            },
          },
          nested: {
            DataType: { values: { ...TensorDataType } },
            DataLocation: { values: { DEFAULT: 0, EXTERNAL: 1 } },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dimension', id: 1 },
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: { type: 'int64', id: 1 },
                dim_param: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: {
            value: { oneof: ['tensor_type', 'sequence_type', 'map_type'] },
          },
          fields: {
            tensor_type: { type: 'Tensor', id: 1 },
            sequence_type: { type: 'Sequence', id: 4 },
            map_type: { type: 'Map', id: 5 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
            Sequence: {
              fields: { elem_type: { type: 'TypeProto', id: 1 } },
            },
            Map: {
              fields: {
                key_type: { type: 'int32', id: 1 },
                value_type: { type: 'TypeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
};

/** Plain-object shapes of the messages, as protobufjs takes them (snake_case, like the spec). */
export interface StringStringEntry {
  key: string;
  value: string;
}
export interface OperatorSetId {
  domain?: string;
  version: number;
}
export interface TensorShapeDimension {
  dim_value?: number;
  dim_param?: string;
  denotation?: string;
}
export interface TypeProtoMessage {
  tensor_type?: {
    elem_type: number;
    shape?: { dim: TensorShapeDimension[] };
  };
  sequence_type?: { elem_type?: TypeProtoMessage };
  map_type?: { key_type: number; value_type?: TypeProtoMessage };
  denotation?: string;
}
export interface ValueInfo {
  name: string;
  type?: TypeProtoMessage;
  doc_string?: string;
}
export interface TensorMessage {
  name?: string;
  dims?: number[];
  data_type: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  raw_data?: Uint8Array;
  doc_string?: string;
}
export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  doc_string?: string;
}
export interface NodeMessage {
  name?: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: AttributeMessage[];
  doc_string?: string;
}
export interface GraphMessage {
  name?: string;
  node: NodeMessage[];
  initializer?: TensorMessage[];
  input: ValueInfo[];
  output: ValueInfo[];
  value_info?: ValueInfo[];
  doc_string?: string;
}
export interface ModelMessage {
  ir_version: number;
  opset_import: OperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph: GraphMessage;
  metadata_props?: StringStringEntry[];
}

let root: Root | undefined;

/** The protobufjs root of the subset, built once. */
export function onnxProtoRoot(): Root {
  if (!root) {
    root = Root.fromJSON(ONNX_PROTO_JSON);
  }
  return root;
}

/** One message type of the subset, e.g. onnxMessageType('ModelProto'). */
export function onnxMessageType(
  name:
    | 'ModelProto'
    | 'GraphProto'
    | 'NodeProto'
    | 'TensorProto'
    | 'ValueInfoProto'
    | 'TypeProto'
    | 'TensorShapeProto'
    | 'OperatorSetIdProto'
    | 'AttributeProto'
    | 'StringStringEntryProto',
): Type {
  return onnxProtoRoot().lookupType(`onnx.${name}`);
}
