import {
  Entity,
  entityKindSchemaValidator,
  getCompoundEntityRef,
  KindValidator,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  CatalogProcessor,
  CatalogProcessorEmit,
  processingResult,
} from '@backstage/plugin-catalog-node';
import { LocationSpec } from '@backstage/plugin-catalog-common';
import {
  datasetEntitySchema,
  getMlopsReferences,
  isMlopsEntity,
  modelEntitySchema,
  MlopsReferenceError,
  pipelineEntitySchema,
} from '@loopline/mlops-common';

/**
 * Validates `loopline.dev/v1alpha1` Model, Dataset and Pipeline entities
 * against their JSON Schemas and the kinds their references may name, and
 * emits their relations in both directions.
 */
export class MlopsEntitiesProcessor implements CatalogProcessor {
  private readonly validators: KindValidator[] = [
    modelEntitySchema,
    datasetEntitySchema,
    pipelineEntitySchema,
  ].map(schema => {
    const validate = entityKindSchemaValidator(schema);
    return {
      async check(entity: Entity) {
        return validate(entity) === entity;
      },
    };
  });

  getProcessorName(): string {
    return 'MlopsEntitiesProcessor';
  }

  async validateEntityKind(entity: Entity): Promise<boolean> {
    // entityKindSchemaValidator returns false for other kinds and throws,
    // naming the offending field, for an invalid entity of its own kind.
    let matched = false;
    for (const validator of this.validators) {
      try {
        if (await validator.check(entity)) {
          matched = true;
          break;
        }
      } catch (error) {
        throw new InputError(
          `${describe(entity)} is invalid: ${(error as Error).message}`,
        );
      }
    }
    if (!matched) {
      return false;
    }
    if (isMlopsEntity(entity)) {
      try {
        getMlopsReferences(entity);
      } catch (error) {
        if (error instanceof MlopsReferenceError) {
          throw new InputError(
            `${describe(entity)} is invalid: ${error.message}`,
          );
        }
        throw error;
      }
    }
    return true;
  }

  async postProcessEntity(
    entity: Entity,
    _location: LocationSpec,
    emit: CatalogProcessorEmit,
  ): Promise<Entity> {
    if (!isMlopsEntity(entity)) {
      return entity;
    }
    const self = getCompoundEntityRef(entity);
    for (const reference of getMlopsReferences(entity)) {
      emit(
        processingResult.relation({
          source: self,
          type: reference.type,
          target: reference.target,
        }),
      );
      emit(
        processingResult.relation({
          source: reference.target,
          type: reference.inverse,
          target: self,
        }),
      );
    }
    return entity;
  }
}

function describe(entity: Entity): string {
  const name = entity.metadata?.name;
  if (typeof name !== 'string') {
    return `${entity.kind} entity`;
  }
  return `${entity.kind} "${stringifyEntityRef({
    kind: entity.kind,
    namespace: entity.metadata.namespace,
    name,
  })}"`;
}
