import { stringifyEntityRef, parseEntityRef } from '@backstage/catalog-model';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { MlopsService } from '@loopline/plugin-mlops-backend';

export const CREATE_MODEL_ID = 'mlops:registry:create-model';

/** Whether the catalog has the entity yet (as the user sees it). */
export type EntityLookup = (
  entityRef: string,
  credentials: BackstageCredentials,
) => Promise<boolean>;

/**
 * `mlops:registry:create-model`: the registered model of a new Model entity,
 * created as the template's user: the policy decides on the entity, so the
 * action first waits for the catalog to have processed it.
 */
export function createCreateRegisteredModelAction(options: {
  mlops: MlopsService;
  entityExists: EntityLookup;
  /** Between two looks at the catalog. */
  pollIntervalMs?: number;
}) {
  const { mlops, entityExists } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  return createTemplateAction({
    id: CREATE_MODEL_ID,
    description:
      'Creates the registered model of a Model entity in Loopline’s registry, as the user running the template (the permission policy decides)',
    supportsDryRun: true,
    examples: [
      {
        description: 'Register the model of the new Model entity',
        example: [
          'steps:',
          '  - id: registered-model',
          '    name: Create the registered model',
          '    action: mlops:registry:create-model',
          '    input:',
          '      name: ${{ parameters.name }}',
          '      entityRef: model:default/${{ parameters.name }}',
          '      description: ${{ parameters.description }}',
          '      tags:',
          '        task: ${{ parameters.taskType }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        name: z =>
          z
            .string()
            .min(1)
            .describe('Name of the registered model (usually the entity name)'),
        entityRef: z =>
          z
            .string()
            .optional()
            .describe(
              'The Model entity it belongs to; default model:default/<name>',
            ),
        description: z =>
          z.string().optional().describe('Description of the registered model'),
        tags: z =>
          z
            .record(z.string())
            .optional()
            .describe('Tags of the registered model'),
        waitForEntitySeconds: z =>
          z
            .number()
            .int()
            .min(0)
            .max(600)
            .optional()
            .describe(
              'How long to wait for the catalog to process the new entity before giving up, in seconds (default 120)',
            ),
      },
      output: {
        name: z => z.string().describe('The registered model’s name'),
        entityRef: z => z.string().describe('The Model entity'),
      },
    },
    async handler(ctx) {
      const { name, description, tags } = ctx.input;
      // The scaffolder validates input against the JSON Schema, which applies no defaults.
      const waitForEntitySeconds = ctx.input.waitForEntitySeconds ?? 120;
      const entityRef = stringifyEntityRef(
        parseEntityRef(ctx.input.entityRef ?? name, {
          defaultKind: 'model',
          defaultNamespace: 'default',
        }),
      );
      const credentials = await ctx.getInitiatorCredentials();
      if (ctx.isDryRun) {
        // A taken name fails the dry run as the real run would (the service
        // refuses a second model with a ConflictError).
        if (await mlops.findRegisteredModel(name, { credentials })) {
          throw new ConflictError(
            `Registered model '${name}' already exists; choose another name`,
          );
        }
        ctx.logger.info(
          `Dry run: would create the registered model '${name}' for ${entityRef}`,
        );
        ctx.output('name', name);
        ctx.output('entityRef', entityRef);
        return;
      }

      await waitForEntity(
        () => entityExists(entityRef, credentials),
        entityRef,
        waitForEntitySeconds * 1000,
        pollIntervalMs,
        ctx.signal,
      );
      const model = await ctx.checkpoint({
        key: `mlops.registry.create-model.${name}`,
        fn: async () => {
          const created = await mlops.createRegisteredModel(
            { name, entityRef, description, tags },
            { credentials },
          );
          return { name: created.name, entityRef: created.entityRef };
        },
      });
      ctx.logger.info(
        `Created the registered model '${model.name}' for ${model.entityRef}`,
      );
      ctx.output('name', model.name);
      ctx.output('entityRef', model.entityRef);
    },
  });
}

async function waitForEntity(
  exists: () => Promise<boolean>,
  entityRef: string,
  timeoutMs: number,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await exists()) return;
    if (Date.now() >= deadline || signal?.aborted) {
      throw new NotFoundError(
        `${entityRef} is not in the catalog (waited ${Math.round(
          timeoutMs / 1000,
        )} s); was it registered?`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
