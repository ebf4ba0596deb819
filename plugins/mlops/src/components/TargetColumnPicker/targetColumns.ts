import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { DatasetField, isDatasetEntity } from '@loopline/mlops-common';

/** The form field that holds the Dataset, unless `ui:options.datasetField` names another. */
export const DEFAULT_DATASET_FIELD = 'dataset';

/** The Dataset's schema fields, or undefined when `entity` is no Dataset. */
export function schemaFieldsOf(
  entity: Entity | undefined,
): DatasetField[] | undefined {
  if (!entity || !isDatasetEntity(entity)) return undefined;
  return entity.spec.schema?.fields ?? [];
}

/**
 * Why `column` cannot be the target of a model trained on `dataset`, or
 * undefined when it can: it must be a field of the Dataset's schema with
 * the role `target`.
 */
export function targetColumnProblem(
  column: string | undefined,
  datasetRef: string | undefined,
  dataset: Entity | undefined,
): string | undefined {
  if (!datasetRef) {
    return 'Choose the training Dataset first';
  }
  const fields = schemaFieldsOf(dataset);
  if (!dataset || !fields) {
    return `${datasetRef} is not a Dataset in the catalog`;
  }
  const name = stringifyEntityRef(dataset);
  const targets = fields.filter(field => field.role === 'target');
  if (targets.length === 0) {
    return `The Dataset ${name} has no schema field with the role "target"; add one to its schema (or choose another Dataset)`;
  }
  if (!column) {
    return 'Choose the target column';
  }
  const field = fields.find(f => f.name === column);
  if (!field) {
    return `"${column}" is not a field of ${name}`;
  }
  if (field.role !== 'target') {
    return `"${column}" has the role "${
      field.role ?? 'feature'
    }" in ${name}; the target is one of ${targets
      .map(t => `"${t.name}"`)
      .join(', ')}`;
  }
  return undefined;
}
