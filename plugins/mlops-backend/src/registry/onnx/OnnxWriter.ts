/*
 * Writes small, valid ONNX models (ModelProto, IR version 8, default-domain
 * opset 17) for linear and logistic regression, so the demo's trainers can
 * register real artifacts that onnxruntime loads and serves.
 *
 * Both graphs take one FP32 input [batch, nFeatures] (batch is the symbolic
 * dimension 'batch') of raw feature values, optionally standardise it inside
 * the graph (Sub mean, Div scale), then apply MatMul with a [nFeatures, 1]
 * coefficient initializer and Add an intercept.
 */
import { InputError } from '@backstage/errors';
import {
  AttributeMessage,
  AttributeType,
  GraphMessage,
  ModelMessage,
  NodeMessage,
  onnxMessageType,
  TensorDataType,
  TensorMessage,
  ValueInfo,
} from './onnxProto';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET_VERSION = 17;
export const ONNX_PRODUCER_NAME = 'loopline';

/** Metadata keys the writer sets in ModelProto.metadata_props. */
export const ONNX_METADATA_KEYS = {
  model: 'loopline.model',
  task: 'loopline.task',
  featureNames: 'loopline.feature_names',
  classLabels: 'loopline.class_labels',
  standardized: 'loopline.standardized',
} as const;

/** Per-feature standardisation done inside the graph: (x - mean) / scale. */
export interface OnnxScaler {
  mean: number[];
  scale: number[];
}

/** What both writers take. */
export interface OnnxLinearModelOptions {
  /** One coefficient per feature, in input column order (on the standardised scale if a scaler is given). */
  weights: number[];
  /** The intercept. */
  bias: number;
  /** Column names, stored in the input's doc string and in metadata. */
  featureNames?: string[];
  /** Standardise the input inside the graph before the linear part. */
  scaler?: OnnxScaler;
  /** Graph input name; default 'input'. */
  inputName?: string;
  /** Stored as metadata 'loopline.model' (e.g. the registered model's name). */
  modelName?: string;
  /** Extra metadata_props entries (they may not override the writer's own keys). */
  metadata?: Record<string, string>;
  /** ModelProto.doc_string. */
  docString?: string;
  /** ModelProto.producer_version. */
  producerVersion?: string;
  /** ModelProto.model_version (a positive integer). */
  modelVersion?: number;
  /** GraphProto.name; default 'linear_regression' / 'logistic_regression'. */
  graphName?: string;
}

export interface LinearRegressorOptions extends OnnxLinearModelOptions {
  /** Output name; default 'variable' (as skl2onnx names a regressor's output). FP32 [batch, 1]. */
  outputName?: string;
}

export interface LogisticRegressorOptions extends OnnxLinearModelOptions {
  /** Probabilities output; default 'probabilities'. FP32 [batch, 2] = [P(class 0), P(class 1)], or [batch, 1] = P(class 1). */
  probabilitiesName?: string;
  /** Label output; default 'label'. INT64 [batch]: 1 when P(class 1) > 0.5, else 0. */
  labelName?: string;
  /** 2 (default) or 1 probability columns. */
  probabilityColumns?: 1 | 2;
  /** Names of class 0 and class 1 (e.g. ['white', 'red']), stored in metadata. */
  classLabels?: [string, string];
}

/**
 * Linear regression: output = x · weights + bias (x standardised first when a
 * scaler is given). Input FP32 [batch, n], output FP32 [batch, 1].
 */
export function writeLinearRegressor(options: LinearRegressorOptions): Buffer {
  const outputName = options.outputName ?? 'variable';
  // The final Add writes the graph output directly.
  const { nodes, initializers, input } = linearPart(
    options,
    'linear',
    [[outputName, 'output name']],
    outputName,
  );

  const graph: GraphMessage = {
    name: options.graphName ?? 'linear_regression',
    node: nodes,
    initializer: initializers,
    input: [input],
    output: [tensorValueInfo(outputName, TensorDataType.FLOAT, ['batch', 1])],
  };
  return encodeModel(graph, options, 'regression', {});
}

/**
 * Binary logistic regression: p = sigmoid(x · weights + bias). Outputs the
 * probabilities (FP32 [batch, 2] as [1 - p, p], or [batch, 1] as p) and the
 * label (INT64 [batch], ArgMax over [1 - p, p], so 1 exactly when p > 0.5).
 */
export function writeLogisticRegressor(
  options: LogisticRegressorOptions,
): Buffer {
  const probabilitiesName = options.probabilitiesName ?? 'probabilities';
  const labelName = options.labelName ?? 'label';
  const columns = options.probabilityColumns ?? 2;
  if (columns !== 1 && columns !== 2) {
    throw new InputError(
      `probabilityColumns must be 1 or 2, got ${String(columns)}`,
    );
  }
  if (
    options.classLabels !== undefined &&
    (options.classLabels.length !== 2 ||
      options.classLabels.some(l => typeof l !== 'string'))
  ) {
    throw new InputError('classLabels must be two strings: [class 0, class 1]');
  }
  const { nodes, initializers, input, linearOutput, names } = linearPart(
    options,
    'logistic',
    [
      [probabilitiesName, 'probabilities output name'],
      [labelName, 'label output name'],
    ],
  );

  const p1 = columns === 1 ? probabilitiesName : uniqueName(names, 'p_class1');
  const p0 = uniqueName(names, 'p_class0');
  const both = columns === 2 ? probabilitiesName : uniqueName(names, 'p_both');
  const one = uniqueName(names, 'one');
  initializers.push(floatTensor(one, [1], [1]));
  nodes.push(
    node('Sigmoid', [linearOutput], [p1], 'sigmoid'),
    node('Sub', [one, p1], [p0], 'complement'),
    node('Concat', [p0, p1], [both], 'concat', [intAttribute('axis', 1)]),
    node('ArgMax', [both], [labelName], 'argmax', [
      intAttribute('axis', 1),
      intAttribute('keepdims', 0),
    ]),
  );

  const graph: GraphMessage = {
    name: options.graphName ?? 'logistic_regression',
    node: nodes,
    initializer: initializers,
    input: [input],
    output: [
      tensorValueInfo(probabilitiesName, TensorDataType.FLOAT, [
        'batch',
        columns,
      ]),
      tensorValueInfo(labelName, TensorDataType.INT64, ['batch']),
    ],
  };
  const extra: Record<string, string> = {};
  if (options.classLabels) {
    extra[ONNX_METADATA_KEYS.classLabels] = JSON.stringify(options.classLabels);
  }
  return encodeModel(graph, options, 'binary-classification', extra);
}

/** Decodes ONNX bytes with the same proto subset (int64s as numbers, bytes as Buffers). */
export function readOnnxModel(bytes: Uint8Array): ModelMessage {
  const type = onnxMessageType('ModelProto');
  const message = type.decode(bytes);
  return type.toObject(message, {
    longs: Number,
    bytes: Buffer,
    enums: Number,
    arrays: true,
    defaults: false,
    oneofs: false,
  }) as ModelMessage;
}

/** The metadata_props of ONNX bytes as a record. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = readOnnxModel(bytes);
  const result: Record<string, string> = {};
  for (const { key, value } of model.metadata_props ?? []) {
    result[key] = value;
  }
  return result;
}

// ---------------------------------------------------------------------------

interface LinearPart {
  nodes: NodeMessage[];
  initializers: TensorMessage[];
  input: ValueInfo;
  /** The Add node's output: x · weights + bias, FP32 [batch, 1]. */
  linearOutput: string;
  /** Every value name used so far (inputs, initializers, node outputs). */
  names: Set<string>;
}

/**
 * The (optional) scaler and the linear part. `outputs` are the caller-chosen
 * graph output names, reserved first so internal names never take them;
 * `linearOutputName` names the Add's output (default: an internal 'logit').
 */
function linearPart(
  options: OnnxLinearModelOptions,
  kind: string,
  outputs: Array<[name: string, what: string]>,
  linearOutputName?: string,
): LinearPart {
  const { weights, bias, featureNames, scaler } = options;
  if (!Array.isArray(weights) || weights.length === 0) {
    throw new InputError(`A ${kind} model needs at least one weight`);
  }
  checkFinite(weights, 'weights');
  checkFinite([bias], 'bias');
  const n = weights.length;
  if (featureNames !== undefined) {
    if (featureNames.length !== n) {
      throw new InputError(
        `featureNames has ${featureNames.length} names but there are ${n} weights`,
      );
    }
    if (new Set(featureNames).size !== n) {
      throw new InputError('featureNames must be distinct');
    }
  }
  const inputName = options.inputName ?? 'input';
  const names = new Set<string>();
  checkNewName(names, inputName, 'input name');
  for (const [name, what] of outputs) {
    checkNewName(names, name, what);
  }

  const nodes: NodeMessage[] = [];
  const initializers: TensorMessage[] = [];
  let x = inputName;
  if (scaler) {
    if (scaler.mean.length !== n || scaler.scale.length !== n) {
      throw new InputError(
        `The scaler needs ${n} means and ${n} scales, got ${scaler.mean.length} and ${scaler.scale.length}`,
      );
    }
    checkFinite(scaler.mean, 'scaler mean');
    checkFinite(scaler.scale, 'scaler scale');
    if (scaler.scale.some(s => s === 0)) {
      throw new InputError('The scaler scales must not be 0');
    }
    const mean = uniqueName(names, 'scaler_mean');
    const scale = uniqueName(names, 'scaler_scale');
    const centered = uniqueName(names, 'centered');
    const standardized = uniqueName(names, 'standardized');
    initializers.push(
      floatTensor(mean, [1, n], scaler.mean),
      floatTensor(scale, [1, n], scaler.scale),
    );
    nodes.push(
      node('Sub', [x, mean], [centered], 'scaler_sub'),
      node('Div', [centered, scale], [standardized], 'scaler_div'),
    );
    x = standardized;
  }
  const coefficients = uniqueName(names, 'coefficients');
  const intercept = uniqueName(names, 'intercept');
  const product = uniqueName(names, 'matmul_out');
  const linearOutput = linearOutputName ?? uniqueName(names, 'logit');
  initializers.push(
    floatTensor(coefficients, [n, 1], weights),
    floatTensor(intercept, [1], [bias]),
  );
  nodes.push(
    node('MatMul', [x, coefficients], [product], 'matmul'),
    node('Add', [product, intercept], [linearOutput], 'add_intercept'),
  );
  const input = tensorValueInfo(inputName, TensorDataType.FLOAT, ['batch', n]);
  if (featureNames) {
    input.doc_string = `Columns: ${featureNames.join(', ')}`;
  }
  return { nodes, initializers, input, linearOutput, names };
}

function encodeModel(
  graph: GraphMessage,
  options: OnnxLinearModelOptions,
  task: string,
  extra: Record<string, string>,
): Buffer {
  const own: Record<string, string> = {
    [ONNX_METADATA_KEYS.task]: task,
    [ONNX_METADATA_KEYS.standardized]: options.scaler ? 'in-graph' : 'no',
    ...extra,
  };
  if (options.modelName !== undefined) {
    own[ONNX_METADATA_KEYS.model] = options.modelName;
  }
  if (options.featureNames) {
    own[ONNX_METADATA_KEYS.featureNames] = JSON.stringify(options.featureNames);
  }
  for (const key of Object.keys(options.metadata ?? {})) {
    if (key in own || Object.values(ONNX_METADATA_KEYS).includes(key as any)) {
      throw new InputError(
        `metadata key "${key}" is set by the writer itself; pass it through the matching option`,
      );
    }
  }
  const metadata = { ...own, ...(options.metadata ?? {}) };
  if (
    options.modelVersion !== undefined &&
    !(Number.isSafeInteger(options.modelVersion) && options.modelVersion > 0)
  ) {
    throw new InputError(
      `modelVersion must be a positive integer, got ${options.modelVersion}`,
    );
  }

  const model: ModelMessage = {
    ir_version: ONNX_IR_VERSION,
    // No domain: the empty default is ONNX's own operator set (ai.onnx).
    opset_import: [{ version: ONNX_OPSET_VERSION }],
    producer_name: ONNX_PRODUCER_NAME,
    producer_version: options.producerVersion,
    model_version: options.modelVersion,
    doc_string: options.docString,
    graph,
    metadata_props: Object.keys(metadata)
      .sort()
      .map(key => ({ key, value: metadata[key] })),
  };
  const type = onnxMessageType('ModelProto');
  const problem = type.verify(model);
  if (problem) {
    // A bug in this file, not a caller's mistake.
    throw new Error(`Internal error building the ONNX model: ${problem}`);
  }
  return Buffer.from(type.encode(type.fromObject(model)).finish());
}

function tensorValueInfo(
  name: string,
  elemType: number,
  dims: Array<number | string>,
): ValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: {
          dim: dims.map(d =>
            typeof d === 'number' ? { dim_value: d } : { dim_param: d },
          ),
        },
      },
    },
  };
}

function floatTensor(
  name: string,
  dims: number[],
  values: number[],
): TensorMessage {
  const data = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => data.writeFloatLE(v, i * 4));
  return { name, dims, data_type: TensorDataType.FLOAT, raw_data: data };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  name: string,
  attribute: AttributeMessage[] = [],
): NodeMessage {
  return { op_type: opType, input, output, name, attribute };
}

function intAttribute(name: string, value: number): AttributeMessage {
  return { name, type: AttributeType.INT, i: value };
}

function checkFinite(values: number[], what: string) {
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(
        `${what}[${i}] must be a finite number, got ${String(v)}`,
      );
    }
  });
}

function checkNewName(names: Set<string>, name: string, what: string) {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InputError(`The ${what} must be a non-empty string`);
  }
  if (names.has(name)) {
    throw new InputError(
      `The ${what} "${name}" is already used by another value of the graph`,
    );
  }
  names.add(name);
}

/** A graph-internal name that does not clash with caller-chosen ones. */
function uniqueName(names: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; names.has(name); i++) {
    name = `${base}_${i}`;
  }
  names.add(name);
  return name;
}
