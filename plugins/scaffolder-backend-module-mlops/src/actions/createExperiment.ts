import { ConflictError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { MlopsService } from '@loopline/plugin-mlops-backend';

export const CREATE_EXPERIMENT_ID = 'mlops:tracking:create-experiment';

/**
 * `mlops:tracking:create-experiment`: the project's experiment in Loopline's
 * tracking server, created as the template's user, and the tracking URI its
 * MLflow client logs to.
 */
export function createCreateExperimentAction(options: {
  mlops: MlopsService;
  /** `MLFLOW_TRACKING_URI`: the portal's MLflow API as clients reach it. */
  trackingUri: () => Promise<string>;
}) {
  const { mlops, trackingUri } = options;
  return createTemplateAction({
    id: CREATE_EXPERIMENT_ID,
    description:
      'Creates an experiment in Loopline’s tracking server as the user running the template; outputs its id and the MLflow tracking URI',
    supportsDryRun: true,
    examples: [
      {
        description: 'Create the experiment of a new ML project',
        example: [
          'steps:',
          '  - id: experiment',
          '    name: Create the experiment',
          '    action: mlops:tracking:create-experiment',
          '    input:',
          '      name: ${{ parameters.name }}',
          '      tags:',
          '        loopline.dev/entity-ref: model:default/${{ parameters.name }}',
          '        owner: ${{ parameters.owner }}',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        name: z => z.string().min(1).describe('Name of the experiment'),
        tags: z =>
          z
            .record(z.string())
            .optional()
            .describe('Tags of the experiment, e.g. the project’s owner'),
      },
      output: {
        experimentId: z =>
          z
            .string()
            .describe(
              'The experiment’s id (MLFLOW_EXPERIMENT_ID); empty in a dry run',
            ),
        trackingUri: z =>
          z.string().describe('MLFLOW_TRACKING_URI for the project’s clients'),
      },
    },
    async handler(ctx) {
      const { name, tags } = ctx.input;
      const credentials = await ctx.getInitiatorCredentials();
      const uri = await trackingUri();
      if (ctx.isDryRun) {
        // A taken name fails the dry run as the real run would.
        const existing = await mlops.findExperiment(name, { credentials });
        if (existing) {
          throw new ConflictError(
            `Experiment with name '${name}' already exists (id ${existing.experimentId}); choose another name`,
          );
        }
        ctx.logger.info(`Dry run: would create the experiment '${name}'`);
        ctx.output('experimentId', '');
        ctx.output('trackingUri', uri);
        return;
      }
      const experimentId = await ctx.checkpoint({
        key: `mlops.tracking.create-experiment.${name}`,
        fn: async () =>
          (
            await mlops.createExperiment({ name, tags }, { credentials })
          ).experimentId,
      });
      ctx.logger.info(`Created the experiment '${name}' (id ${experimentId})`);
      ctx.output('experimentId', experimentId);
      ctx.output('trackingUri', uri);
    },
  });
}
