import {
  CompoundEntityRef,
  parseEntityRef,
  RELATION_HAS_PART,
  RELATION_OWNED_BY,
  RELATION_OWNER_OF,
  RELATION_PART_OF,
} from '@backstage/catalog-model';
import {
  DATASET_KIND,
  isDatasetEntity,
  isModelEntity,
  isPipelineEntity,
  MlopsEntity,
  MODEL_KIND,
  PIPELINE_KIND,
} from './kinds';
import {
  RELATION_CONSUMES_DATASET,
  RELATION_DATASET_CONSUMED_BY,
  RELATION_DERIVED_FROM,
  RELATION_PRODUCED_BY,
  RELATION_PRODUCES,
  RELATION_SOURCE_OF,
  RELATION_TRAINED_ON,
  RELATION_USED_TO_TRAIN,
} from './relations';

/** One reference from a Loopline entity's spec to another entity. */
export interface MlopsReference {
  /** Where in the entity the reference is written, as a JSON pointer (`/spec/trainedOn/1`), like schema errors. */
  field: string;
  target: CompoundEntityRef;
  /** Relation from the entity to the target. */
  type: string;
  /** Relation from the target back to the entity. */
  inverse: string;
}

/** Raised when a reference is malformed or names a kind the field does not allow. */
export class MlopsReferenceError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field} ${message}`);
    this.name = 'MlopsReferenceError';
    this.field = field;
  }
}

interface FieldRule {
  path: string;
  values: string | string[] | undefined;
  /** Kind assumed when the reference does not name one; undefined means it must. */
  defaultKind?: string;
  allowedKinds: string[];
  type: string;
  inverse: string;
}

function fieldRules(entity: MlopsEntity): FieldRule[] {
  const common: FieldRule[] = [
    {
      path: '/spec/owner',
      values: entity.spec.owner,
      defaultKind: 'Group',
      allowedKinds: ['Group', 'User'],
      type: RELATION_OWNED_BY,
      inverse: RELATION_OWNER_OF,
    },
    {
      path: '/spec/system',
      values: entity.spec.system,
      defaultKind: 'System',
      allowedKinds: ['System'],
      type: RELATION_PART_OF,
      inverse: RELATION_HAS_PART,
    },
  ];
  if (isModelEntity(entity)) {
    return [
      ...common,
      {
        path: '/spec/trainedOn',
        values: entity.spec.trainedOn,
        defaultKind: DATASET_KIND,
        allowedKinds: [DATASET_KIND],
        type: RELATION_TRAINED_ON,
        inverse: RELATION_USED_TO_TRAIN,
      },
      {
        path: '/spec/producedBy',
        values: entity.spec.producedBy,
        defaultKind: PIPELINE_KIND,
        allowedKinds: [PIPELINE_KIND],
        type: RELATION_PRODUCED_BY,
        inverse: RELATION_PRODUCES,
      },
    ];
  }
  if (isDatasetEntity(entity)) {
    return [
      ...common,
      {
        path: '/spec/derivedFrom',
        values: entity.spec.derivedFrom,
        defaultKind: DATASET_KIND,
        allowedKinds: [DATASET_KIND],
        type: RELATION_DERIVED_FROM,
        inverse: RELATION_SOURCE_OF,
      },
    ];
  }
  if (isPipelineEntity(entity)) {
    return [
      ...common,
      {
        path: '/spec/consumes',
        values: entity.spec.consumes,
        defaultKind: DATASET_KIND,
        allowedKinds: [DATASET_KIND],
        type: RELATION_CONSUMES_DATASET,
        inverse: RELATION_DATASET_CONSUMED_BY,
      },
      {
        path: '/spec/produces',
        values: entity.spec.produces,
        allowedKinds: [MODEL_KIND, DATASET_KIND],
        type: RELATION_PRODUCES,
        inverse: RELATION_PRODUCED_BY,
      },
    ];
  }
  return common;
}

function sameKind(a: string, b: string) {
  return a.toLocaleLowerCase('en-US') === b.toLocaleLowerCase('en-US');
}

/**
 * The references a Loopline entity makes, resolved against its namespace,
 * each with the relation pair it stands for. Throws an
 * {@link MlopsReferenceError} naming the field for a malformed reference or
 * one that points at a kind the field does not allow.
 */
export function getMlopsReferences(entity: MlopsEntity): MlopsReference[] {
  const namespace = entity.metadata.namespace ?? 'default';
  const references: MlopsReference[] = [];
  for (const rule of fieldRules(entity)) {
    if (rule.values === undefined) {
      continue;
    }
    const list = Array.isArray(rule.values) ? rule.values : [rule.values];
    list.forEach((value, index) => {
      const field = Array.isArray(rule.values)
        ? `${rule.path}/${index}`
        : rule.path;
      let target: CompoundEntityRef;
      try {
        target = parseEntityRef(value, {
          defaultKind: rule.defaultKind,
          defaultNamespace: namespace,
        });
      } catch (error) {
        throw new MlopsReferenceError(
          field,
          rule.defaultKind
            ? `"${value}" is not a valid entity reference`
            : `"${value}" must name its kind, e.g. "${rule.allowedKinds[0].toLocaleLowerCase(
                'en-US',
              )}:${value}"`,
        );
      }
      const allowed = rule.allowedKinds.find(kind =>
        sameKind(kind, target.kind),
      );
      if (!allowed) {
        throw new MlopsReferenceError(
          field,
          `"${value}" must refer to a ${rule.allowedKinds.join(
            ' or ',
          )}, not a ${target.kind}`,
        );
      }
      references.push({
        field,
        target: { ...target, kind: allowed },
        type: rule.type,
        inverse: rule.inverse,
      });
    });
  }
  return references;
}
