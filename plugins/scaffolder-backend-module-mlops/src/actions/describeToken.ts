import { createTemplateAction } from '@backstage/plugin-scaffolder-node';

export const DESCRIBE_TOKEN_ID = 'mlops:token:describe';

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `mlops:token:describe`: the environment the project's CI needs to log to
 * and register in the portal, as text for the result page. It names the
 * secret that holds the token and never reads or prints a value of it.
 */
export function createDescribeTokenAction(options: {
  trackingUri: () => Promise<string>;
}) {
  return createTemplateAction({
    id: DESCRIBE_TOKEN_ID,
    description:
      'Describes the environment variables the project’s CI needs (MLFLOW_TRACKING_URI, the token’s secret name, the experiment and model); never includes a secret’s value',
    supportsDryRun: true,
    examples: [
      {
        description: 'Tell the user which CI secret and variables to set',
        example: [
          'steps:',
          '  - id: token',
          '    name: Describe the CI environment',
          '    action: mlops:token:describe',
          '    input:',
          '      experimentName: ${{ parameters.name }}',
          '      registeredModelName: ${{ parameters.name }}',
          '      secretName: LOOPLINE_TOKEN',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        secretName: z =>
          z
            .string()
            .regex(SECRET_NAME, 'a CI secret name: letters, digits and _')
            .optional()
            .describe(
              'The CI secret that holds the portal token (an external-access token); only its name is used (default LOOPLINE_TOKEN)',
            ),
        experimentName: z =>
          z.string().optional().describe('MLFLOW_EXPERIMENT_NAME'),
        registeredModelName: z =>
          z
            .string()
            .optional()
            .describe('The registered model CI registers versions of'),
      },
      output: {
        text: z =>
          z.string().describe('Markdown describing the variables to set'),
        variables: z =>
          z
            .array(
              z.object({
                name: z.string(),
                value: z.string().optional(),
                fromSecret: z.string().optional(),
              }),
            )
            .describe(
              'The variables: a plain value, or the secret name it comes from',
            ),
      },
    },
    async handler(ctx) {
      const { experimentName, registeredModelName } = ctx.input;
      const secretName = ctx.input.secretName ?? 'LOOPLINE_TOKEN';
      const variables: Array<{
        name: string;
        value?: string;
        fromSecret?: string;
      }> = [
        { name: 'MLFLOW_TRACKING_URI', value: await options.trackingUri() },
        { name: 'MLFLOW_TRACKING_TOKEN', fromSecret: secretName },
      ];
      if (experimentName) {
        variables.push({
          name: 'MLFLOW_EXPERIMENT_NAME',
          value: experimentName,
        });
      }
      if (registeredModelName) {
        variables.push({
          name: 'LOOPLINE_REGISTERED_MODEL',
          value: registeredModelName,
        });
      }
      const lines = variables.map(v =>
        v.fromSecret
          ? `- \`${v.name}\`: from the CI secret \`${v.fromSecret}\``
          : `- \`${v.name}\`: \`${v.value}\``,
      );
      const text = [
        `Set the CI secret \`${secretName}\` to a portal token (an external-access token of \`backend.auth.externalAccess\`, limited to the mlops plugin). The workflow passes these to training:`,
        '',
        ...lines,
      ].join('\n');
      ctx.output('text', text);
      ctx.output('variables', variables);
    },
  });
}
