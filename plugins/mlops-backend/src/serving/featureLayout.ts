/**
 * How a model is called by feature name: its feature layout (one input
 * whose columns are the features, or one input per feature) read from the
 * ONNX metadata and the catalog's Dataset schema, and the conversion of
 * records to input tensors and of output tensors back to one answer per
 * record. No routing, no sessions: a data plane can reuse it as it is.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import {
  InputError,
  NotImplementedError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  OipTensor,
  ServingFeature,
  TensorDatatype,
  TensorSpec,
} from '@loopline/mlops-common';
import { describeValue, ServingTensorSpec } from './codec';
import { FeatureSchemaSource } from './features';
import { isMainOutputName } from './log/decode';
import type { LoadedModel } from './ModelSessions';

export /** How records map to a model's inputs. */
interface FeatureLayout {
  kind: 'columns' | 'inputs';
  features: ServingFeature[];
  /** The input whose columns the features are (columns layout). */
  input?: ServingTensorSpec;
  /** Feature name → its own input (inputs layout). */
  inputs?: Map<string, ServingTensorSpec>;
}

const FEATURE_TYPE_OF: Record<TensorDatatype, string> = {
  BOOL: 'boolean',
  UINT8: 'integer',
  UINT16: 'integer',
  UINT32: 'integer',
  UINT64: 'integer',
  INT8: 'integer',
  INT16: 'integer',
  INT32: 'integer',
  INT64: 'integer',
  FP16: 'float',
  FP32: 'float',
  FP64: 'float',
  BYTES: 'string',
};

/** Feature layouts of loaded models; those named by the model itself are cached per session. */
export class FeatureLayouts {
  private readonly cache = new WeakMap<LoadedModel, FeatureLayout>();
  private readonly featureSource?: FeatureSchemaSource;
  private readonly logger?: LoggerService;

  constructor(options: {
    featureSource?: FeatureSchemaSource;
    logger?: LoggerService;
  }) {
    this.featureSource = options.featureSource;
    this.logger = options.logger;
  }

  /**
   * How records map to a loaded model's inputs: one input [batch, n] whose
   * columns are the features (named by `loopline.feature_names`, else by the
   * Dataset schema), or one input per feature, named like it.
   */
  async layoutOf(
    loaded: LoadedModel,
    entityRef: string,
    strict: boolean,
  ): Promise<FeatureLayout> {
    const cached = this.cache.get(loaded);
    if (cached) return cached;
    const datasetRef = loaded.metadata['loopline.dataset'];
    const inputs = loaded.inputs;
    let layout: FeatureLayout | undefined;
    let problem: string | undefined;
    let fromCatalog = false;

    const single = inputs.length === 1 ? inputs[0] : undefined;
    if (
      single &&
      single.shape.length === 2 &&
      !isColumnVector(single, loaded)
    ) {
      let names = loaded.featureNames ? [...loaded.featureNames] : undefined;
      let dataset: ServingFeature[] | undefined;
      if (!names) {
        dataset = await this.datasetFeatures(entityRef, datasetRef, strict);
        fromCatalog = true;
        names = dataset?.map(f => f.name);
      } else if (this.featureSource) {
        dataset = await this.datasetFeatures(entityRef, datasetRef, false);
        fromCatalog = true;
      }
      const columns = single.shape[1];
      if (!names) {
        problem = `its input "${single.name}" ${formatSpec(
          single,
        )} has no feature names (ONNX metadata loopline.feature_names) and no Dataset schema names them`;
      } else if (columns >= 0 && columns !== names.length) {
        problem = `its input "${single.name}" has ${columns} columns but ${names.length} features are known`;
      } else {
        const types = new Map((dataset ?? []).map(f => [f.name, f]));
        layout = {
          kind: 'columns',
          input: single,
          features: names.map(name =>
            describedFeature(
              name,
              FEATURE_TYPE_OF[single.datatype],
              types.get(name),
            ),
          ),
        };
      }
    } else if (
      inputs.length > 0 &&
      inputs.every(
        input =>
          input.shape.length === 1 ||
          (input.shape.length === 2 && input.shape[1] === 1),
      )
    ) {
      const dataset = this.featureSource
        ? await this.datasetFeatures(entityRef, datasetRef, false)
        : undefined;
      fromCatalog = this.featureSource !== undefined;
      const types = new Map((dataset ?? []).map(f => [f.name, f]));
      layout = {
        kind: 'inputs',
        inputs: new Map(inputs.map(input => [input.name, input])),
        features: inputs.map(input =>
          describedFeature(
            input.name,
            FEATURE_TYPE_OF[input.datatype],
            types.get(input.name),
          ),
        ),
      };
    } else {
      problem = `its inputs (${inputs
        .map(i => `"${i.name}" ${formatSpec(i)}`)
        .join(
          ', ',
        )}) are neither one [batch, features] matrix nor one input per feature`;
    }
    if (!layout) {
      const message = `Model ${loaded.name} version ${loaded.version} cannot be called by feature name: ${problem}; use POST /v2/models/${loaded.name}/infer`;
      if (strict) throw new NotImplementedError(message);
      return { kind: 'columns', features: [] };
    }
    // Names from the model itself never change; catalog-derived ones may.
    if (!fromCatalog) this.cache.set(loaded, layout);
    return layout;
  }

  async datasetFeatures(
    entityRef: string,
    datasetRef: string | undefined,
    required = false,
  ): Promise<ServingFeature[] | undefined> {
    if (!this.featureSource) return undefined;
    try {
      return await this.featureSource.featuresFor({ entityRef, datasetRef });
    } catch (error) {
      this.logger?.warn(
        `Could not read the features of ${entityRef} from the catalog: ${
          (error as Error)?.message
        }`,
      );
      if (required) {
        throw new ServiceUnavailableError(
          `The features of ${entityRef} could not be read from the catalog`,
        );
      }
      return undefined;
    }
  }
}

/** An input [batch, 1] of a model with one feature is a column, not a matrix of named columns. */
function isColumnVector(
  input: ServingTensorSpec,
  loaded: LoadedModel,
): boolean {
  return input.shape[1] === 1 && !loaded.featureNames;
}

function formatSpec(spec: TensorSpec): string {
  return `${spec.datatype} [${spec.shape.join(', ')}]`;
}

/** The JSON type of a record value for an input datatype (numbers unless listed). */
const VALUE_KIND_OF: Partial<Record<TensorDatatype, [string, string]>> = {
  BYTES: ['string', 'a string'],
  BOOL: ['boolean', 'true or false'],
};

/** A layout's feature: its type, description and constraints from the Dataset schema when it has them. */
function describedFeature(
  name: string,
  fallbackType: string,
  fromDataset: ServingFeature | undefined,
): ServingFeature {
  return {
    name,
    type: fromDataset?.type ?? fallbackType,
    ...(fromDataset?.description
      ? { description: fromDataset.description }
      : {}),
    ...(fromDataset?.constraints
      ? { constraints: fromDataset.constraints }
      : {}),
  };
}

const patterns = new Map<string, RegExp | null>();
/** A constraint's pattern, compiled once; null when it is no valid expression (then not enforced). */
function patternOf(source: string): RegExp | null {
  let compiled = patterns.get(source);
  if (compiled === undefined) {
    try {
      compiled = new RegExp(source, 'u');
    } catch {
      compiled = null;
    }
    if (patterns.size > 1000) patterns.clear();
    patterns.set(source, compiled);
  }
  return compiled;
}

/**
 * The records' values against their features' constraints (from the Dataset
 * schema): an InputError (400) naming every failing field, or nothing.
 */
export function checkFeatureConstraints(
  records: Array<Record<string, unknown>>,
  features: ServingFeature[],
  batch: boolean,
): void {
  const constrained = features.filter(f => f.constraints);
  if (constrained.length === 0) return;
  const failures: string[] = [];
  records.forEach((record, i) => {
    for (const { name, constraints } of constrained) {
      const c = constraints!;
      const value = record[name];
      const field = batch ? `records.${i}.${name}` : name;
      const shown = describeValue(value);
      if (c.values && !c.values.some(allowed => allowed === value)) {
        failures.push(
          `${field}: ${shown} is not one of ${c.values
            .map(v => JSON.stringify(v))
            .join(', ')}`,
        );
        continue;
      }
      if (typeof value === 'number') {
        if (c.min !== undefined && value < c.min) {
          failures.push(`${field}: ${shown} is below the minimum ${c.min}`);
        } else if (c.max !== undefined && value > c.max) {
          failures.push(`${field}: ${shown} is above the maximum ${c.max}`);
        }
      }
      if (c.pattern !== undefined && typeof value === 'string') {
        const pattern = patternOf(c.pattern);
        if (pattern && !pattern.test(value)) {
          failures.push(`${field}: ${shown} does not match ${c.pattern}`);
        }
      }
    }
  });
  if (failures.length > 0) {
    throw new InputError(
      `Feature constraints not met (${failures.length}): ${failures
        .slice(0, 50)
        .join('; ')}${failures.length > 50 ? '; ...' : ''}`,
    );
  }
}

/** Records → the OIP input tensors of a layout, each value checked against its feature. */
export function recordsToTensors(
  records: Array<Record<string, number | string | boolean>>,
  layout: FeatureLayout,
  batch: boolean,
): OipTensor[] {
  const names = layout.features.map(f => f.name);
  const known = new Set(names);
  const n = records.length;
  const where = (i: number) => (batch ? `records.${i}: ` : '');
  for (let i = 0; i < n; i++) {
    const rec = records[i];
    for (const key of Object.keys(rec)) {
      if (!known.has(key)) {
        throw new InputError(
          `${where(i)}Unknown feature "${key}"; the model takes ${names.join(
            ', ',
          )}`,
        );
      }
    }
    for (const name of names) {
      if (!Object.prototype.hasOwnProperty.call(rec, name)) {
        throw new InputError(
          `${where(i)}Missing feature "${name}"; the model takes ${names.join(
            ', ',
          )}`,
        );
      }
    }
  }
  checkFeatureConstraints(records, layout.features, batch);
  const check = (
    i: number,
    feature: string,
    value: unknown,
    spec: ServingTensorSpec,
  ) => {
    const [kind, expected] = VALUE_KIND_OF[spec.datatype] ?? [
      'number',
      'a number',
    ];
    if (typeof value !== kind) {
      throw new InputError(
        `${where(
          i,
        )}Feature "${feature}" must be ${expected} (the model's input "${
          spec.name
        }" is ${spec.datatype}), got ${describeValue(value)}`,
      );
    }
  };
  if (layout.kind === 'columns') {
    const spec = layout.input!;
    const k = names.length;
    const data = new Array<unknown>(n * k);
    for (let i = 0; i < n; i++) {
      const rec = records[i];
      for (let j = 0; j < k; j++) {
        const value = rec[names[j]];
        check(i, names[j], value, spec);
        data[i * k + j] = value;
      }
    }
    return [{ name: spec.name, datatype: spec.datatype, shape: [n, k], data }];
  }
  return names.map(name => {
    const spec = layout.inputs!.get(name)!;
    const data = records.map((rec, i) => {
      check(i, name, rec[name], spec);
      return rec[name];
    });
    return {
      name: spec.name,
      datatype: spec.datatype,
      shape: spec.shape.length === 1 ? [n] : [n, 1],
      data,
    };
  });
}

/** Each record's share of the outputs, and its prediction. */
export function splitRecords(
  outputs: OipTensor[],
  n: number,
): Array<{ prediction: unknown; outputs: Record<string, unknown> }> {
  const main =
    outputs.find(o => isMainOutputName(o.name)) ??
    outputs[0];
  const result = [];
  for (let i = 0; i < n; i++) {
    const values: Record<string, unknown> = {};
    for (const output of outputs) {
      const batched = output.shape.length > 0 && output.shape[0] === n;
      if (!batched) {
        values[output.name] = output.data;
        continue;
      }
      const per = output.shape.slice(1).reduce((a, b) => a * b, 1);
      values[output.name] =
        per === 1 ? output.data[i] : output.data.slice(i * per, (i + 1) * per);
    }
    result.push({
      prediction: main ? values[main.name] : undefined,
      outputs: values,
    });
  }
  return result;
}
