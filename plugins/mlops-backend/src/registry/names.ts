import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { MODEL_STAGES, ModelStage } from '@loopline/mlops-common';

/** Limits of names and values, MLflow's where it has one. */
export const REGISTRY_LIMITS = {
  modelNameLength: 256,
  aliasLength: 255,
  tagKeyLength: 250,
  tagValueLength: 5000,
  runIdLength: 64,
  sourceLength: 4096,
  descriptionLength: 65536,
} as const;

/**
 * A registered model tag that names its catalog Model when it is not
 * `model:default/<name>` (e.g. set by `mlflow.register_model(..., tags=...)`).
 */
export const ENTITY_REF_TAG = 'loopline.dev/entity-ref';

/**
 * A registered model's name: it is also a folder of the artifact store and
 * a segment of `models:/<name>/<version>` URIs, so no `/`, `\`, control
 * characters, leading dot or surrounding spaces.
 */
export function validateModelName(name: unknown): string {
  const refuse = (why: string): never => {
    throw new InputError(
      `Invalid registered model name ${JSON.stringify(name)}: ${why}`,
    );
  };
  if (typeof name !== 'string' || name.length === 0) {
    return refuse('it must be a non-empty string');
  }
  if (name.length > REGISTRY_LIMITS.modelNameLength) {
    refuse(`it is longer than ${REGISTRY_LIMITS.modelNameLength} characters`);
  }
  if (name.trim() !== name) refuse('it starts or ends with white space');
  if (name.includes('/') || name.includes('\\')) {
    refuse('it contains a slash or a backslash');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    refuse('it contains a control character');
  if (name.startsWith('.')) refuse('it starts with a dot');
  return name;
}

/**
 * MLflow's alias rules: letters, digits, `_` and `-`; `latest` and `v<digits>`
 * (any case) are reserved because they already name versions.
 */
export function validateAliasName(alias: unknown): string {
  const refuse = (why: string): never => {
    throw new InputError(`Invalid alias ${JSON.stringify(alias)}: ${why}`);
  };
  if (typeof alias !== 'string' || alias.length === 0) {
    return refuse('it must be a non-empty string');
  }
  if (alias.length > REGISTRY_LIMITS.aliasLength) {
    refuse(`it is longer than ${REGISTRY_LIMITS.aliasLength} characters`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(alias)) {
    refuse('only letters, digits, "_" and "-" are allowed');
  }
  if (alias.toLowerCase() === 'latest') {
    refuse('"latest" is reserved (it always means the newest version)');
  }
  if (/^v\d+$/i.test(alias)) {
    refuse('names of the form v<number> are reserved for version numbers');
  }
  return alias;
}

/** A stage by MLflow's name, matched without regard to case ("production" → "Production"). */
export function canonicalStage(stage: unknown): ModelStage {
  const found =
    typeof stage === 'string'
      ? MODEL_STAGES.find(s => s.toLowerCase() === stage.trim().toLowerCase())
      : undefined;
  if (!found) {
    throw new InputError(
      `Invalid stage ${JSON.stringify(
        stage,
      )}: expected one of ${MODEL_STAGES.join(', ')}`,
    );
  }
  return found;
}

/** Checks tag keys and values; `what` names the owner in messages. */
export function validateTags(
  tags: Record<string, string> | undefined,
  what: string,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags ?? {})) {
    validateTag(key, value, what);
    result[key] = value;
  }
  return result;
}

export function validateTag(key: unknown, value: unknown, what: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InputError(
      `Invalid tag on ${what}: the key must be a non-empty string`,
    );
  }
  if (key.length > REGISTRY_LIMITS.tagKeyLength) {
    throw new InputError(
      `Invalid tag "${key.slice(
        0,
        40,
      )}..." on ${what}: the key is longer than ${
        REGISTRY_LIMITS.tagKeyLength
      } characters`,
    );
  }
  if (typeof value !== 'string') {
    throw new InputError(
      `Invalid tag "${key}" on ${what}: the value must be a string`,
    );
  }
  if (value.length > REGISTRY_LIMITS.tagValueLength) {
    throw new InputError(
      `Invalid tag "${key}" on ${what}: the value is longer than ${REGISTRY_LIMITS.tagValueLength} characters`,
    );
  }
}

/** A catalog entity ref in full, lower-cased form, as the catalog and the audit trail store them. */
export function normalizeEntityRef(entityRef: string): string {
  let parsed;
  try {
    parsed = parseEntityRef(entityRef, {
      defaultKind: 'model',
      defaultNamespace: 'default',
    });
  } catch (error) {
    throw new InputError(
      `Invalid entity ref ${JSON.stringify(entityRef)}: ${
        (error as Error).message
      }`,
    );
  }
  if (parsed.kind.toLowerCase() !== 'model') {
    throw new InputError(
      `Invalid entity ref ${JSON.stringify(
        entityRef,
      )}: a registered model belongs to a Model entity, not a ${parsed.kind}`,
    );
  }
  return stringifyEntityRef(parsed).toLocaleLowerCase('en-US');
}
