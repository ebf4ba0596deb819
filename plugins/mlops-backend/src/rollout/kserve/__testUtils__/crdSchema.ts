/**
 * The InferenceService CRD's structural schema, enforced as the Kubernetes
 * API server does: unknown fields pruned (or refused with
 * `fieldValidation=Strict`), defaults applied, ObjectMeta checked, and every
 * schema violation reported as a Status cause naming its field.
 */
import { isDeepStrictEqual } from 'node:util';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { readSpecYaml } from '../../../__testUtils__/specs';

/** The CRD inside the specs folder (`__testUtils__/specs.ts`). */
export const KSERVE_CRD = 'kserve/serving.kserve.io_inferenceservices.yaml';

/** One cause of a 422 Invalid, as in `Status.details.causes`. */
export interface FieldCause {
  reason: string;
  message: string;
  field: string;
}

type Schema = Record<string, any>;
type ListCheck = ((items: unknown[]) => boolean) & {
  errors?: Partial<ErrorObject>[];
};

/** The `v1beta1` openAPIV3Schema of the CRD. */
export function inferenceServiceSchema(): Schema {
  const crd = readSpecYaml(KSERVE_CRD);
  const version = crd?.spec?.versions?.find(
    (v: { name?: string }) => v.name === 'v1beta1',
  );
  const schema = version?.schema?.openAPIV3Schema;
  if (!schema) {
    throw new Error(
      `${KSERVE_CRD} has no v1beta1 openAPIV3Schema; is it the InferenceService CRD?`,
    );
  }
  return schema;
}

/** The fields of ObjectMeta; the CRD only says `metadata: {type: object}`. */
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

export class CrdValidator {
  private readonly validateSchema: ValidateFunction;

  constructor(private readonly schema: Schema) {
    const ajv = new Ajv({
      allErrors: true,
      // Fails on keywords it does not know (e.g. CEL x-kubernetes-validations),
      // rather than silently not checking them.
      strict: true,
      strictTypes: false,
      useDefaults: true,
      verbose: true,
      formats: {
        int32: {
          type: 'number',
          validate: n =>
            Number.isInteger(n) && n >= -2147483648 && n <= 2147483647,
        },
        int64: { type: 'number', validate: n => Number.isInteger(n) },
        'date-time':
          /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/,
      },
    });
    for (const keyword of [
      'x-kubernetes-list-map-keys',
      'x-kubernetes-map-type',
      'x-kubernetes-int-or-string',
      'x-kubernetes-preserve-unknown-fields',
      'x-kubernetes-embedded-resource',
    ]) {
      ajv.addKeyword(keyword);
    }
    // Lists of type map (unique keys) and set (unique items), as the server checks them.
    ajv.addKeyword({
      keyword: 'x-kubernetes-list-type',
      type: 'array',
      schemaType: 'string',
      compile(listType: string, parentSchema: Schema) {
        const keys: string[] = parentSchema['x-kubernetes-list-map-keys'] ?? [];
        const identity = (item: any) =>
          listType === 'map'
            ? Object.fromEntries(keys.map(key => [key, item?.[key]]))
            : item;
        const check: ListCheck = (items: unknown[]): boolean => {
          if (listType !== 'map' && listType !== 'set') return true;
          const seen: unknown[] = [];
          const errors: Partial<ErrorObject>[] = [];
          items.forEach((item, index) => {
            const id = identity(item);
            if (seen.some(other => isDeepStrictEqual(other, id))) {
              errors.push({
                keyword: 'x-kubernetes-list-type',
                message: 'duplicate',
                params: { index, value: id },
              });
            }
            seen.push(id);
          });
          check.errors = errors;
          return errors.length === 0;
        };
        return check;
      },
      errors: true,
    });
    this.validateSchema = ajv.compile(schema);
  }

  /**
   * The fields the schema does not declare, as paths (`spec.predictor.foo`);
   * with `prune`, they are removed from `object` (the server's default).
   */
  unknownFields(object: Record<string, unknown>, prune: boolean): string[] {
    const found: string[] = [];
    for (const key of Object.keys(object)) {
      if (key === 'metadata') {
        const metadata = object.metadata;
        if (metadata && typeof metadata === 'object') {
          for (const field of Object.keys(metadata)) {
            if (!OBJECT_META_FIELDS.has(field)) {
              found.push(`metadata.${field}`);
              if (prune) delete (metadata as Record<string, unknown>)[field];
            }
          }
        }
      } else if (this.schema.properties?.[key]) {
        walkUnknown(
          object[key],
          this.schema.properties[key],
          key,
          found,
          prune,
        );
      } else {
        found.push(key);
        if (prune) delete object[key];
      }
    }
    return found.sort();
  }

  /** Schema and ObjectMeta violations; applies the schema's defaults to `object`. */
  validate(object: Record<string, unknown>): FieldCause[] {
    const causes = validateObjectMeta(object.metadata);
    if (!this.validateSchema(object)) {
      causes.push(...toCauses(this.validateSchema.errors ?? [], object));
    }
    return causes;
  }
}

let shared: CrdValidator | undefined;

/** The validator of the InferenceService CRD (compiled once per process: it is 2 MB of schema). */
export function inferenceServiceValidator(): CrdValidator {
  shared ??= new CrdValidator(inferenceServiceSchema());
  return shared;
}

function walkUnknown(
  value: unknown,
  schema: Schema | undefined,
  at: string,
  found: string[],
  prune: boolean,
): void {
  if (!schema || value === null || typeof value !== 'object') {
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) =>
      walkUnknown(item, schema.items, `${at}[${index}]`, found, prune),
    );
    return;
  }
  const record = value as Record<string, unknown>;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const additional =
    typeof schema.additionalProperties === 'object'
      ? schema.additionalProperties
      : undefined;
  for (const key of Object.keys(record)) {
    const child = schema.properties?.[key] ?? additional;
    const childPath = fieldPath(at, key);
    if (child) {
      walkUnknown(record[key], child, childPath, found, prune);
    } else if (!preserve && schema.additionalProperties !== true) {
      found.push(childPath);
      if (prune) delete record[key];
    }
  }
}

/** `spec.predictor.model`, `spec.containers[0]`, `metadata.labels[a.b/c]`. */
export function fieldPath(at: string, key: string | number): string {
  if (typeof key === 'number') return `${at}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) {
    return at ? `${at}.${key}` : key;
  }
  return `${at}[${key}]`;
}

function toCauses(
  errors: ErrorObject[],
  object: Record<string, unknown>,
): FieldCause[] {
  // An int-or-string's anyOf fails with one error per branch; report it once.
  const anyOf = errors
    .filter(error => error.keyword === 'anyOf')
    .map(error => `${error.schemaPath}/`);
  const reported = errors.filter(
    error => !anyOf.some(prefix => error.schemaPath.startsWith(prefix)),
  );
  // A value of the wrong type is reported for its type alone (not its format too).
  const mistyped = new Set(
    reported
      .filter(error => error.keyword === 'type')
      .map(error => error.instancePath),
  );
  return reported
    .filter(
      error => error.keyword === 'type' || !mistyped.has(error.instancePath),
    )
    .map(error => toCause(error, object));
}

function toCause(error: ErrorObject, object: unknown): FieldCause {
  const { field, value } = locate(error.instancePath, object);
  const shown = JSON.stringify(value);
  switch (error.keyword) {
    case 'type':
      return {
        reason: 'FieldValueTypeInvalid',
        field,
        message: `Invalid value: "${typeName(
          value,
        )}": ${field} in body must be of type ${error.params.type}: ${shown}`,
      };
    case 'required':
      return {
        reason: 'FieldValueRequired',
        field: fieldPath(field, error.params.missingProperty),
        message: 'Required value',
      };
    case 'enum':
      return {
        reason: 'FieldValueNotSupported',
        field,
        message: `Unsupported value: ${shown}: supported values: ${(
          error.params.allowedValues as unknown[]
        )
          .map(allowed => JSON.stringify(allowed))
          .join(', ')}`,
      };
    case 'pattern':
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${shown}: ${field} in body should match '${error.params.pattern}'`,
      };
    case 'format':
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${shown}: ${field} in body must be of type ${error.params.format}: ${shown}`,
      };
    case 'anyOf': {
      const types = ((error.schema as Schema[]) ?? [])
        .map(branch => branch.type)
        .filter(Boolean)
        .join(' or ');
      return {
        reason: 'FieldValueTypeInvalid',
        field,
        message: `Invalid value: "${typeName(
          value,
        )}": ${field} in body must be of type ${
          types || 'one of its alternatives'
        }: ${shown}`,
      };
    }
    case 'x-kubernetes-list-type':
      return {
        reason: 'FieldValueDuplicate',
        field: fieldPath(field, error.params.index),
        message: `Duplicate value: ${JSON.stringify(error.params.value)}`,
      };
    default:
      return {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${shown}: ${field} in body ${error.message}`,
      };
  }
}

/** The field path and value at a JSON pointer. */
function locate(
  pointer: string,
  object: unknown,
): { field: string; value: unknown } {
  let field = '';
  let value: unknown = object;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      field = fieldPath(field, Number(token));
      value = value[Number(token)];
    } else {
      field = fieldPath(field, token);
      value = (value as Record<string, unknown> | undefined)?.[token];
    }
  }
  return { field, value };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value;
}

const DNS_1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** What the API server checks of ObjectMeta for every object. */
export function validateObjectMeta(metadata: unknown): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
    return [
      {
        reason: 'FieldValueRequired',
        field: 'metadata',
        message: 'Required value',
      },
    ];
  }
  const meta = metadata as Record<string, unknown>;
  const name = meta.name;
  if (typeof name !== 'string' || name === '') {
    causes.push({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  } else if (name.length > 253) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": must be no more than 253 characters`,
    });
  } else if (!DNS_1123_SUBDOMAIN.test(name)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message:
        `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, ` +
        "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for " +
        "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    });
  }

  for (const kind of ['labels', 'annotations'] as const) {
    const map = meta[kind];
    if (map === undefined || map === null) continue;
    if (typeof map !== 'object' || Array.isArray(map)) {
      causes.push({
        reason: 'FieldValueTypeInvalid',
        field: `metadata.${kind}`,
        message: `Invalid value: "${typeName(
          map,
        )}": metadata.${kind} in body must be of type object`,
      });
      continue;
    }
    let bytes = 0;
    for (const [key, value] of Object.entries(map)) {
      const at = `metadata.${kind}`;
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: at,
          message: `Invalid value: "${key}": ${keyProblem}`,
        });
      }
      if (typeof value !== 'string') {
        causes.push({
          reason: 'FieldValueTypeInvalid',
          field: fieldPath(at, key),
          message: `Invalid value: "${typeName(value)}": ${fieldPath(
            at,
            key,
          )} in body must be of type string`,
        });
        continue;
      }
      bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
      if (kind === 'labels') {
        if (value.length > 63) {
          causes.push({
            reason: 'FieldValueInvalid',
            field: at,
            message: `Invalid value: "${value}": must be no more than 63 characters`,
          });
        } else if (!LABEL_VALUE.test(value)) {
          causes.push({
            reason: 'FieldValueInvalid',
            field: at,
            message:
              `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric ` +
              "characters, '-', '_' or '.', and must start and end with an alphanumeric character",
          });
        }
      }
    }
    if (kind === 'annotations' && bytes > MAX_ANNOTATIONS_BYTES) {
      causes.push({
        reason: 'FieldValueTooLong',
        field: 'metadata.annotations',
        message: `Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes`,
      });
    }
  }
  return causes;
}

/** Why `key` is not a qualified name (`prefix/name`), or undefined. */
function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0 || key.split('/').length > 2) {
      return "a qualified name must consist of an optional DNS subdomain prefix, '/' and a name";
    }
    if (prefix.length > 253 || !DNS_1123_SUBDOMAIN.test(prefix)) {
      return 'prefix part must be a lowercase RFC 1123 subdomain';
    }
  }
  if (name.length === 0 || name.length > 63) {
    return 'name part must be non-empty and no more than 63 characters';
  }
  if (!QUALIFIED_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}
