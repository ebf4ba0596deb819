import fs from 'node:fs/promises';
import path from 'node:path';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  InferenceServiceObject,
  inferenceServiceManifest,
  inferenceServiceName,
  storageUriFor,
} from '@loopline/plugin-mlops-backend';
import { stringify } from 'yaml';
import { resolveInWorkspace } from './workspace';

export const RENDER_MANIFESTS_ID = 'mlops:serving:render-manifests';

/** What the portal's config says about KServe and rollouts (all optional). */
export interface ServingDefaults {
  namespace?: string;
  storageUriTemplate?: string;
  /** The portal's KServe logger route, without its token. */
  loggerUrl: string;
  canarySteps: number[];
  slo: Record<string, number>;
}

/**
 * The InferenceService Loopline's KServe target writes for the first
 * deployment of `version` (stable only), built by the target's own code.
 * The logger URL never carries the route's token: the target adds it when
 * it applies the object, so the repository holds no secret.
 */
export function renderInferenceService(options: {
  modelName: string;
  entityRef: string;
  environment: string;
  namespace: string;
  storageUri: string;
  loggerUrl: string;
  version: number;
}): InferenceServiceObject {
  const loggerUrl = new URL(options.loggerUrl);
  loggerUrl.searchParams.delete('token');
  const manifest = inferenceServiceManifest(
    {
      modelName: options.modelName,
      entityRef: options.entityRef,
      environment: options.environment,
      stable: { version: options.version, storageUri: options.storageUri },
      candidatePercent: 0,
    },
    {
      name: inferenceServiceName(
        options.modelName,
        options.environment,
        options.namespace,
      ),
      namespace: options.namespace,
      existing: undefined,
      loggerUrl: loggerUrl.toString(),
    },
  );
  if (!manifest) {
    // Only without a version to run, and one is always given here.
    throw new Error(`No InferenceService for ${options.modelName}`);
  }
  return manifest;
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * `mlops:serving:render-manifests`: writes `serving/inference-service.yaml`
 * (the KServe InferenceService of the model's first version) into the
 * workspace and outputs the canary settings rollouts will use.
 */
export function createRenderServingManifestsAction(options: {
  defaults: () => Promise<ServingDefaults>;
}) {
  return createTemplateAction({
    id: RENDER_MANIFESTS_ID,
    description:
      'Renders the KServe InferenceService that Loopline’s KServe target writes for the model (ONNX predictor, request logger pointed at the portal, storage URI from the template) and outputs the canary settings',
    supportsDryRun: true,
    examples: [
      {
        description: 'Render serving/inference-service.yaml for a new model',
        example: [
          'steps:',
          '  - id: manifests',
          '    name: Render the serving manifests',
          '    action: mlops:serving:render-manifests',
          '    input:',
          '      modelName: ${{ parameters.name }}',
          '      namespace: models',
          "      storageUriTemplate: 's3://models/{model}/{version}/model.onnx'",
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        modelName: z =>
          z.string().min(1).describe('The registered model’s name'),
        entityRef: z =>
          z
            .string()
            .optional()
            .describe('The Model entity; default model:default/<modelName>'),
        environment: z =>
          z
            .string()
            .min(1)
            .optional()
            .describe(
              'The environment the InferenceService serves (default production)',
            ),
        namespace: z =>
          z
            .string()
            .optional()
            .describe(
              'Kubernetes namespace; default mlops.rollout.kserve.namespace, else "models"',
            ),
        storageUriTemplate: z =>
          z
            .string()
            .optional()
            .describe(
              'Storage URI with {model}, {version} and {sha256} placeholders; default mlops.rollout.kserve.storageUriTemplate, else s3://models/{model}/{version}/model.onnx',
            ),
        version: z =>
          z
            .number()
            .int()
            .min(1)
            .optional()
            .describe('The registry version the manifest serves (default 1)'),
        targetPath: z =>
          z
            .string()
            .optional()
            .describe(
              'Where in the workspace the manifest is written (default serving/inference-service.yaml)',
            ),
      },
      output: {
        name: z => z.string().describe('The InferenceService’s name'),
        path: z => z.string().describe('The manifest’s path in the workspace'),
        storageUriTemplate: z =>
          z.string().describe('The storage URI template used'),
        manifest: z =>
          z.record(z.unknown()).describe('The InferenceService object'),
        canary: z =>
          z
            .object({
              strategy: z.literal('canary'),
              steps: z.array(z.number()),
              firstStepPercent: z.number(),
              slo: z.record(z.number()),
            })
            .describe(
              'The canary settings Loopline’s KServe target applies: canaryTrafficPercent per step and the SLO each step is analysed against',
            ),
      },
    },
    async handler(ctx) {
      const defaults = await options.defaults();
      // The scaffolder validates input against the JSON Schema, which applies no defaults.
      const environment = ctx.input.environment ?? 'production';
      const version = ctx.input.version ?? 1;
      const targetPath =
        ctx.input.targetPath ?? 'serving/inference-service.yaml';
      const modelName = ctx.input.modelName;
      const entityRef = stringifyEntityRef(
        parseEntityRef(ctx.input.entityRef ?? modelName, {
          defaultKind: 'model',
          defaultNamespace: 'default',
        }),
      );
      const namespace = ctx.input.namespace ?? defaults.namespace ?? 'models';
      if (namespace.length > 63 || !DNS_1123_LABEL.test(namespace)) {
        throw new InputError(
          `namespace "${namespace}" is not a Kubernetes namespace name (lower-case letters, digits and dashes, at most 63)`,
        );
      }
      const storageUriTemplate =
        ctx.input.storageUriTemplate ??
        defaults.storageUriTemplate ??
        's3://models/{model}/{version}/model.onnx';
      if (storageUriTemplate.includes('{sha256}')) {
        throw new InputError(
          `The storage URI template "${storageUriTemplate}" needs {sha256}, which a version has only once its artifact is uploaded; use {model} and {version}`,
        );
      }
      let storageUri: string;
      try {
        storageUri = storageUriFor(storageUriTemplate, {
          modelName,
          version: version,
        });
      } catch (error) {
        throw new InputError((error as Error).message);
      }
      const manifest = renderInferenceService({
        modelName,
        entityRef,
        environment,
        namespace,
        storageUri,
        loggerUrl: defaults.loggerUrl,
        version: version,
      });

      const file = resolveInWorkspace(ctx.workspacePath, targetPath);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(
        file,
        `# The InferenceService Loopline's KServe target writes for ${modelName} v${version} in ${environment}.\n` +
          `# Rollouts change storageUri and canaryTrafficPercent through the portal; the logger's token is added there.\n` +
          stringify(manifest),
        'utf8',
      );
      ctx.logger.info(
        `Wrote ${targetPath}: InferenceService ${manifest.metadata.name} in ${namespace}`,
      );

      ctx.output('name', manifest.metadata.name);
      ctx.output('path', targetPath);
      ctx.output('storageUriTemplate', storageUriTemplate);
      ctx.output('manifest', manifest as any);
      ctx.output('canary', {
        strategy: 'canary',
        steps: defaults.canarySteps,
        firstStepPercent: defaults.canarySteps[0],
        slo: defaults.slo,
      });
    },
  });
}
