import type {
  OipInferRequest,
  ServingFeature,
  ServingModelInfo,
  TensorDatatype,
  TensorSpec,
} from '@loopline/mlops-common';

/*
 * The try-it form's logic, without React: which input each feature gets, how
 * a typed value is read, and the equivalent OIP request and curl command.
 */

/** How a feature is entered: a number, a whole number, yes/no or text. */
export type FeatureInputKind = 'float' | 'integer' | 'boolean' | 'text';

/** One field of the try-it form. */
export interface FeatureField {
  name: string;
  /** The feature's type as the backend names it, e.g. `float`. */
  type: string;
  description?: string;
  kind: FeatureInputKind;
  /** The datatype of the tensor the feature goes into, when known. */
  datatype?: TensorDatatype;
}

/** A feature's value, as the predict route takes it. */
export type FeatureValue = number | string | boolean;

const FLOAT_TYPES = new Set([
  'float',
  'double',
  'number',
  'real',
  'decimal',
  'numeric',
]);
const INTEGER_TYPES = new Set(['integer', 'int', 'long', 'short']);
const BOOLEAN_TYPES = new Set(['boolean', 'bool']);

function isIntegerDatatype(datatype: TensorDatatype): boolean {
  return datatype.startsWith('INT') || datatype.startsWith('UINT');
}

/** The kind a feature type alone suggests, if it names a known one. */
function kindOfType(type: string): FeatureInputKind | undefined {
  const normalized = type.trim().toLowerCase();
  if (FLOAT_TYPES.has(normalized) || /^(fp|float)\d+$/.test(normalized)) {
    return 'float';
  }
  if (INTEGER_TYPES.has(normalized) || /^u?int\d+$/.test(normalized)) {
    return 'integer';
  }
  if (BOOLEAN_TYPES.has(normalized)) {
    return 'boolean';
  }
  return normalized ? 'text' : undefined;
}

/**
 * The tensor a feature goes into: the only input, or the input named after
 * the feature when the model takes one input per feature.
 */
function inputOf(
  feature: ServingFeature,
  inputs: ReadonlyArray<TensorSpec>,
): TensorSpec | undefined {
  if (inputs.length === 1) {
    return inputs[0];
  }
  return inputs.find(input => input.name === feature.name);
}

/**
 * How each feature is entered. The tensor's datatype decides when known (a
 * feature of an FP32 tensor takes a number, whatever its Dataset type says);
 * the feature's type refines it (an `integer` column of an FP32 tensor takes
 * whole numbers) or decides alone when the signature is unknown.
 */
export function featureFields(info: ServingModelInfo): FeatureField[] {
  const inputs = info.signature?.inputs ?? [];
  return info.features.map(feature => {
    const datatype = inputOf(feature, inputs)?.datatype;
    const byType = kindOfType(feature.type);
    let kind: FeatureInputKind;
    if (!datatype) {
      kind = byType ?? 'text';
    } else if (datatype === 'BOOL') {
      kind = 'boolean';
    } else if (datatype === 'BYTES') {
      kind = 'text';
    } else if (isIntegerDatatype(datatype) || byType === 'integer') {
      kind = 'integer';
    } else {
      kind = 'float';
    }
    return {
      name: feature.name,
      type: feature.type,
      description: feature.description,
      kind,
      datatype,
    };
  });
}

/** A typed value read, or why it cannot be. */
export type ParsedValue =
  | { value: FeatureValue; error?: undefined }
  | { value?: undefined; error: string };

/** Reads what was typed into a feature's field. */
export function parseFeatureValue(
  field: FeatureField,
  raw: string,
): ParsedValue {
  const text = raw.trim();
  if (text === '') {
    return { error: 'Required' };
  }
  switch (field.kind) {
    case 'float': {
      const value = Number(text);
      return Number.isFinite(value) ? { value } : { error: 'Enter a number' };
    }
    case 'integer': {
      const value = Number(text);
      if (!Number.isSafeInteger(value)) {
        return { error: 'Enter a whole number' };
      }
      if (field.datatype?.startsWith('UINT') && value < 0) {
        return { error: 'Enter a number ≥ 0' };
      }
      return { value };
    }
    case 'boolean':
      if (text === 'true' || text === 'false') {
        return { value: text === 'true' };
      }
      return { error: 'Choose true or false' };
    default:
      // Text as typed: spaces may matter to a categorical value.
      return { value: raw };
  }
}

/** Every field's value read, and the errors by field name. */
export function parseFeatureValues(
  fields: ReadonlyArray<FeatureField>,
  raw: Readonly<Record<string, string>>,
): { values: Record<string, FeatureValue>; errors: Record<string, string> } {
  const values: Record<string, FeatureValue> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const parsed = parseFeatureValue(field, raw[field.name] ?? '');
    if (parsed.error !== undefined) {
      errors[field.name] = parsed.error;
    } else {
      values[field.name] = parsed.value;
    }
  }
  return { values, errors };
}

/** What stands in the request for a value not entered yet. */
export function placeholderValue(name: string): string {
  return `<${name}>`;
}

/** A row of `count` values in a tensor of the given spec, batch of one. */
function rowShape(spec: TensorSpec, count: number): number[] {
  return spec.shape.length === 1 ? [count] : [1, count];
}

/**
 * The Open Inference Protocol request equivalent to predicting one record:
 * the features, in the model's order, as one row of the input tensor (or one
 * tensor per feature when the model takes an input per feature). A value not
 * entered yet appears as `<name>`. Undefined when the signature does not say
 * how (unknown, or inputs that are not the features).
 */
export function buildInferRequest(
  info: ServingModelInfo,
  values: Readonly<Record<string, FeatureValue | undefined>>,
): OipInferRequest | undefined {
  const inputs = info.signature?.inputs ?? [];
  const features = info.features;
  if (inputs.length === 0 || features.length === 0) {
    return undefined;
  }
  const valueOf = (name: string) => values[name] ?? placeholderValue(name);
  if (inputs.length === 1) {
    const [input] = inputs;
    return {
      inputs: [
        {
          name: input.name,
          datatype: input.datatype,
          shape: rowShape(input, features.length),
          data: features.map(feature => valueOf(feature.name)),
        },
      ],
    };
  }
  const names = new Set(features.map(feature => feature.name));
  if (!inputs.every(input => names.has(input.name))) {
    return undefined;
  }
  return {
    inputs: inputs.map(input => ({
      name: input.name,
      datatype: input.datatype,
      shape: rowShape(input, 1),
      data: [valueOf(input.name)],
    })),
  };
}

/** The OIP infer route of a model, or of one version of it. */
export function inferUrl(
  baseUrl: string,
  modelName: string,
  version?: number,
): string {
  const model = `${baseUrl}/v2/models/${encodeURIComponent(modelName)}`;
  return version === undefined
    ? `${model}/infer`
    : `${model}/versions/${version}/infer`;
}

/** A string as one shell word, in single quotes. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The environment variable the curl command reads the token from. */
export const TOKEN_VARIABLE = 'BACKSTAGE_TOKEN';

/** A curl command posting the request to the URL, with a bearer token. */
export function curlCommand(url: string, request: OipInferRequest): string {
  return [
    `curl -sS -X POST ${shellQuote(url)}`,
    `  -H "Authorization: Bearer $${TOKEN_VARIABLE}"`,
    `  -H 'Content-Type: application/json'`,
    `  -d ${shellQuote(JSON.stringify(request))}`,
  ].join(' \\\n');
}

/** A request id for a request sent from the form, to find it in the log. */
export function tryItRequestId(): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `try-it-${Date.now().toString(36)}-${random}`;
}
