import fs from 'node:fs/promises';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { isMlopsEntity, isModelEntity } from '@loopline/mlops-common';
import { MlopsEntitiesProcessor } from '@loopline/plugin-catalog-backend-module-mlops';
import { parseAllDocuments } from 'yaml';
import type { MlopsService } from '@loopline/plugin-mlops-backend';
import type { NewModelAuthorizer } from './authorizeNewModel';
import type { EntityLookup } from './createRegisteredModel';
import { resolveInWorkspace } from './workspace';

export const VALIDATE_ENTITIES_ID = 'mlops:entity:validate';

/**
 * `mlops:entity:validate`: the Model, Dataset and Pipeline documents in the
 * workspace, checked with the catalog module's own validator before anything
 * is published. With `checkPermissions`, also whether the user may create
 * the registered model of each Model (the policy's decision on the entity
 * as it will be), so a refusal comes before a repository exists. With
 * `checkConflicts`, whether the names are still free (the entities in the
 * catalog, the registered models and experiments), so a re-run with a taken
 * name stops before anything is made.
 */
export function createValidateEntitiesAction(options: {
  authorizeNewModel: NewModelAuthorizer;
  entityExists: EntityLookup;
  mlops: Pick<MlopsService, 'findRegisteredModel' | 'findExperiment'>;
}) {
  const processor = new MlopsEntitiesProcessor();
  return createTemplateAction({
    id: VALIDATE_ENTITIES_ID,
    description:
      'Validates the Loopline Model, Dataset and Pipeline entities in catalog files of the workspace with the catalog module’s validator; fails naming the entity and field',
    supportsDryRun: true,
    examples: [
      {
        description: 'Validate the generated catalog-info.yaml',
        example: [
          'steps:',
          '  - id: validate',
          '    name: Validate entities',
          '    action: mlops:entity:validate',
          '    input:',
          '      files: [catalog-info.yaml]',
        ].join('\n'),
      },
      {
        description:
          'Validate, and check that the user may register models for the new Model entities',
        example: [
          'steps:',
          '  - id: validate',
          '    action: mlops:entity:validate',
          '    input:',
          '      files: [catalog-info.yaml]',
          '      checkPermissions: true',
        ].join('\n'),
      },
      {
        description:
          'Validate, and fail with a conflict if a name is taken (entities, registered model, experiment)',
        example: [
          'steps:',
          '  - id: validate',
          '    action: mlops:entity:validate',
          '    input:',
          '      files: [catalog-info.yaml]',
          '      checkConflicts: true',
          '      experimentNames: [${{ parameters.name }}]',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        files: z =>
          z
            .array(z.string().min(1))
            .min(1)
            .optional()
            .describe(
              'Catalog files in the workspace (relative paths; default catalog-info.yaml); every document in them is read',
            ),
        checkPermissions: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Also check that the user may create the registered model of each Model entity (default false)',
            ),
        checkConflicts: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Also fail with a conflict when an entity of the files is in the catalog already, or a registered model named after a Model exists (default false)',
            ),
        experimentNames: z =>
          z
            .array(z.string().min(1))
            .optional()
            .describe(
              'With checkConflicts: experiments the template will create, which must not exist yet',
            ),
      },
      output: {
        entityRefs: z =>
          z
            .array(z.string())
            .describe('Every entity in the files, as entity refs'),
        modelRefs: z =>
          z.array(z.string()).describe('The Model entities, as entity refs'),
      },
    },
    async handler(ctx) {
      const entities: Array<{ entity: Entity; file: string }> = [];
      // The scaffolder validates input against the JSON Schema, which applies no defaults.
      const files = ctx.input.files ?? ['catalog-info.yaml'];
      for (const file of files) {
        const text = await fs.readFile(
          resolveInWorkspace(ctx.workspacePath, file),
          'utf8',
        );
        for (const document of parseAllDocuments(text)) {
          if (document.errors.length > 0) {
            throw new InputError(
              `${file} is not valid YAML: ${document.errors[0].message}`,
            );
          }
          const value = document.toJSON();
          if (value === null || value === undefined) continue;
          if (typeof value !== 'object' || Array.isArray(value)) {
            throw new InputError(`${file} holds a document that is no entity`);
          }
          entities.push({ entity: value as Entity, file });
        }
      }

      const entityRefs: string[] = [];
      const modelRefs: string[] = [];
      for (const { entity, file } of entities) {
        const ref = refOf(entity, file);
        if (isMlopsEntity(entity) || isLooplineKind(entity)) {
          // Throws an InputError naming the entity and the field.
          const known = await processor.validateEntityKind(entity);
          if (!known) {
            throw new InputError(
              `${file}: ${ref} is not a Loopline kind (Model, Dataset or Pipeline of loopline.dev/v1alpha1)`,
            );
          }
        }
        entityRefs.push(ref);
        if (isModelEntity(entity)) modelRefs.push(ref);
        ctx.logger.info(`${file}: ${ref} is valid`);
      }

      if (ctx.input.checkPermissions) {
        const credentials = await ctx.getInitiatorCredentials();
        for (const { entity } of entities) {
          if (!isModelEntity(entity)) continue;
          const allowed = await options.authorizeNewModel(entity, credentials);
          if (!allowed) {
            throw new NotAllowedError(
              `You are not allowed to create the registered model of ${refOf(
                entity,
                '',
              )}: the permission policy refuses loopline.model.version.create for it (is its owner one of your groups?)`,
            );
          }
        }
      }

      if (ctx.input.checkConflicts) {
        const credentials = await ctx.getInitiatorCredentials();
        for (const ref of entityRefs) {
          if (await options.entityExists(ref, credentials)) {
            throw new ConflictError(
              `${ref} is already in the catalog; choose another name`,
            );
          }
        }
        for (const { entity } of entities) {
          if (!isModelEntity(entity)) continue;
          const name = entity.metadata.name;
          if (await options.mlops.findRegisteredModel(name, { credentials })) {
            throw new ConflictError(
              `Registered model '${name}' already exists; choose another name`,
            );
          }
        }
        for (const name of ctx.input.experimentNames ?? []) {
          if (await options.mlops.findExperiment(name, { credentials })) {
            throw new ConflictError(
              `Experiment '${name}' already exists; choose another name`,
            );
          }
        }
      }

      ctx.output('entityRefs', entityRefs);
      ctx.output('modelRefs', modelRefs);
    },
  });
}

function isLooplineKind(entity: Entity): boolean {
  return (
    typeof entity.apiVersion === 'string' &&
    entity.apiVersion.startsWith('loopline.dev/')
  );
}

function refOf(entity: Entity, file: string): string {
  const kind = entity?.kind;
  const name = entity?.metadata?.name;
  if (typeof kind !== 'string' || typeof name !== 'string') {
    throw new InputError(
      `${file}: a document has no ${
        typeof kind !== 'string' ? 'kind' : 'metadata.name'
      }`,
    );
  }
  return stringifyEntityRef(
    parseEntityRef({ kind, namespace: entity.metadata.namespace, name }),
  );
}
