import fs from 'node:fs';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { parse } from 'yaml';
import type { JsonObject } from '@backstage/types';
import { inferenceServiceName } from '@loopline/plugin-mlops-backend';
import {
  describeWithSpecs,
  inferenceServiceValidator,
} from '@loopline/plugin-mlops-backend/testUtils';
import {
  createRenderServingManifestsAction,
  ServingDefaults,
} from './renderServingManifests';

const NAMESPACE = 'kserve-test';
const LOGGER_URL =
  'http://loopline.loopline.svc:7007/api/mlops/serving/kserve/logger';
const DEFAULTS: ServingDefaults = {
  namespace: NAMESPACE,
  storageUriTemplate: 's3://models/{model}/{version}/model.onnx',
  loggerUrl: LOGGER_URL,
  canarySteps: [10, 25, 50, 100],
  slo: { minRequests: 30, maxErrorRate: 0.02, maxLatencyP99Ms: 250 },
};

const mockDir = createMockDirectory();

function context(input: JsonObject, dryRun = false) {
  mockDir.setContent({ workspace: {} });
  return {
    ...createMockActionContext({
      input,
      workspacePath: mockDir.resolve('workspace'),
    }),
    isDryRun: dryRun,
  };
}

function outputs(ctx: { output: unknown }): Record<string, any> {
  return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
}

function action(defaults: Partial<ServingDefaults> = {}) {
  return createRenderServingManifestsAction({
    defaults: async () => ({ ...DEFAULTS, ...defaults }),
  });
}

describeWithSpecs('mlops:serving:render-manifests', () => {
  beforeAll(() => {
    inferenceServiceValidator(); // 2 MB of schema, compiled once
  }, 120_000);

  it('writes the InferenceService the KServe target writes, valid against the CRD', async () => {
    const ctx = context({
      modelName: 'wine-new',
      environment: 'production',
      version: 1,
      targetPath: 'serving/inference-service.yaml',
    });
    await action().handler(ctx as any);
    const { manifest, name, path, storageUriTemplate, canary } = outputs(ctx);

    const written = parse(
      fs.readFileSync(mockDir.resolve('workspace', path), 'utf8'),
    );
    expect(written).toEqual(manifest);
    expect(storageUriTemplate).toBe('s3://models/{model}/{version}/model.onnx');
    expect(canary).toEqual({
      strategy: 'canary',
      steps: [10, 25, 50, 100],
      firstStepPercent: 10,
      slo: DEFAULTS.slo,
    });

    // The CRD's structural schema accepts it, with no field it would prune.
    const validator = inferenceServiceValidator();
    const copy = structuredClone(manifest);
    expect(validator.unknownFields(copy, false)).toEqual([]);
    expect(validator.validate(copy)).toEqual([]);

    // What the KServe target's builder gives a first deployment of v1
    // (the same function: the logger token is added only when it applies).
    expect(name).toBe(
      inferenceServiceName('wine-new', 'production', NAMESPACE),
    );
    expect(manifest).toEqual({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: {
        name,
        namespace: NAMESPACE,
        labels: {
          'app.kubernetes.io/managed-by': 'loopline',
          'loopline.dev/model': 'wine-new',
          'loopline.dev/environment': 'production',
        },
        annotations: {
          'loopline.dev/entity-ref': 'model:default/wine-new',
          'loopline.dev/model-name': 'wine-new',
          'loopline.dev/environment': 'production',
          'loopline.dev/stable-version': '1',
        },
      },
      spec: {
        predictor: {
          model: {
            modelFormat: { name: 'onnx' },
            storageUri: 's3://models/wine-new/1/model.onnx',
          },
          logger: {
            mode: 'all',
            url: `${LOGGER_URL}?model=wine-new&version=1`,
          },
        },
      },
    });
  });

  it('keeps the logger token out of the repository', async () => {
    const ctx = context({ modelName: 'wine-new' });
    await action({ loggerUrl: `${LOGGER_URL}?token=s3cr3t` }).handler(
      ctx as any,
    );
    const text = fs.readFileSync(
      mockDir.resolve('workspace', 'serving/inference-service.yaml'),
      'utf8',
    );
    expect(text).not.toContain('s3cr3t');
    expect(outputs(ctx).manifest.spec.predictor.logger.url).toBe(
      `${LOGGER_URL}?model=wine-new&version=1`,
    );
  });

  it('renders in a dry run too (the workspace is the dry run’s own)', async () => {
    const ctx = context({ modelName: 'wine-new', namespace: 'models' }, true);
    await action().handler(ctx as any);
    expect(outputs(ctx).manifest.metadata.namespace).toBe('models');
    expect(
      validatorCauses(outputs(ctx).manifest as Record<string, unknown>),
    ).toEqual([]);
  });

  it('refuses a namespace Kubernetes refuses, and a template needing {sha256}', async () => {
    await expect(
      action().handler(
        context({ modelName: 'wine-new', namespace: 'Models_1' }) as any,
      ),
    ).rejects.toThrow(/namespace "Models_1" is not a Kubernetes namespace/);
    await expect(
      action().handler(
        context({
          modelName: 'wine-new',
          storageUriTemplate: 's3://models/{sha256}.onnx',
        }) as any,
      ),
    ).rejects.toThrow(/needs \{sha256\}/);
    await expect(
      action().handler(
        context({
          modelName: 'wine-new',
          storageUriTemplate: 's3://models/{name}.onnx',
        }) as any,
      ),
    ).rejects.toThrow(/Unknown placeholder \{name\}/);
  });
});

function validatorCauses(manifest: Record<string, unknown>) {
  return inferenceServiceValidator().validate(structuredClone(manifest));
}
