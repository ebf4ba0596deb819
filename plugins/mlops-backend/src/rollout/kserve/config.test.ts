import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader, JsonObject } from '@backstage/config';
import { kubeConfigFor, readKServeConfig, storageUriFor } from './config';
import { KServeTarget } from './KServeTarget';
import {
  FakeKubeApiServer,
  startFakeKubeApiServer,
} from './__testUtils__/fakeKubeApiServer';
import { inferenceServiceValidator } from './__testUtils__/crdSchema';
import { describeWithSpecs } from '../../__testUtils__/specs';

const kserve = {
  namespace: 'kserve-test',
  storageUriTemplate: 's3://models/{model}/{version}/model.onnx',
  loggerUrl:
    'http://loopline.loopline.svc:7007/api/mlops/serving/kserve/logger',
};

const configWith = (section: JsonObject | undefined, serving?: JsonObject) =>
  new ConfigReader({
    mlops: {
      ...(section ? { rollout: { kserve: section } } : {}),
      ...(serving ? { serving } : {}),
    },
  });

describe('readKServeConfig', () => {
  it('is undefined without mlops.rollout.kserve', () => {
    expect(readKServeConfig(new ConfigReader({}))).toBeUndefined();
    expect(readKServeConfig(configWith(undefined))).toBeUndefined();
  });

  it('reads the section, an inline cluster, and the logger route token', () => {
    expect(
      readKServeConfig(
        configWith(
          {
            ...kserve,
            cluster: {
              url: 'https://10.0.0.1:6443',
              token: 'sa-token',
              skipTLSVerify: true,
              caData: 'Y2E=',
            },
          },
          { kserveLogger: { token: 's3cr3t' } },
        ),
      ),
    ).toEqual({
      ...kserve,
      loggerToken: 's3cr3t',
      cluster: {
        url: 'https://10.0.0.1:6443',
        token: 'sa-token',
        skipTLSVerify: true,
        caData: 'Y2E=',
      },
    });
    expect(
      readKServeConfig(
        configWith({ ...kserve, kubeconfig: '/etc/kube/config' }),
      ),
    ).toEqual({ ...kserve, kubeconfig: '/etc/kube/config' });
  });

  it.each([
    [
      'a namespace that is no DNS label',
      { namespace: 'KServe_Test' },
      'Invalid config mlops.rollout.kserve.namespace: "KServe_Test" is not a Kubernetes namespace name',
    ],
    [
      'an unknown placeholder',
      { storageUriTemplate: 's3://models/{name}/{version}' },
      'Invalid config mlops.rollout.kserve.storageUriTemplate: unknown placeholder {name}',
    ],
    [
      'a template that names no version',
      { storageUriTemplate: 's3://models/{model}/model.onnx' },
      'must contain {version} or {sha256}',
    ],
    [
      'a logger URL that is not http',
      { loggerUrl: 'ftp://loopline/logger' },
      'Invalid config mlops.rollout.kserve.loggerUrl: "ftp://loopline/logger" must be an http or https URL',
    ],
    [
      'both a kubeconfig and a cluster',
      { kubeconfig: '/k', cluster: { url: 'https://k8s' } },
      'give only one of them',
    ],
  ])('refuses %s', (_label, override, message) => {
    expect(() =>
      readKServeConfig(configWith({ ...kserve, ...override })),
    ).toThrow(message);
  });

  it("takes a cluster of the Backstage Kubernetes plugin's configuration by name", () => {
    const config = new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: 'dev',
                url: 'https://dev:6443',
                authProvider: 'serviceAccount',
              },
              {
                name: 'ml',
                url: 'https://ml:6443',
                authProvider: 'serviceAccount',
                serviceAccountToken: 'ml-token',
                caData: 'Y2E=',
              },
            ],
          },
        ],
      },
      mlops: { rollout: { kserve: { ...kserve, kubernetesCluster: 'ml' } } },
    });
    expect(readKServeConfig(config)).toMatchObject({
      cluster: { url: 'https://ml:6443', token: 'ml-token', caData: 'Y2E=' },
    });
    const unknown = new ConfigReader({
      mlops: { rollout: { kserve: { ...kserve, kubernetesCluster: 'prod' } } },
    });
    expect(() => readKServeConfig(unknown)).toThrow(
      /no cluster "prod" in kubernetes.clusterLocatorMethods/,
    );
    expect(() =>
      readKServeConfig(
        configWith({ ...kserve, kubernetesCluster: 'ml', kubeconfig: '/k' }),
      ),
    ).toThrow(/give only one of them/);
  });

  it('requires the namespace, the template and the logger URL', () => {
    expect(() =>
      readKServeConfig(configWith({ namespace: 'kserve-test' })),
    ).toThrow(/storageUriTemplate/);
  });
});

describe('kubeConfigFor', () => {
  it('builds a client configuration from an inline cluster', () => {
    const kubeConfig = kubeConfigFor({
      cluster: {
        url: 'https://10.0.0.1:6443',
        token: 'sa-token',
        caData: 'Y2E=',
      },
    });
    expect(kubeConfig.getCurrentCluster()).toMatchObject({
      server: 'https://10.0.0.1:6443',
      skipTLSVerify: false,
      caData: 'Y2E=',
    });
    expect(kubeConfig.getCurrentUser()).toMatchObject({ token: 'sa-token' });
  });

  it('reads a kubeconfig file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kserve-config-'));
    try {
      const file = path.join(dir, 'config');
      fs.writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '- name: lab',
          '  cluster: { server: "https://lab.example.com:6443" }',
          'users:',
          '- name: me',
          '  user: { token: abc }',
          'contexts:',
          '- name: lab',
          '  context: { cluster: lab, user: me }',
          'current-context: lab',
        ].join('\n'),
      );
      const kubeConfig = kubeConfigFor({ kubeconfig: file });
      expect(kubeConfig.getCurrentCluster()?.server).toBe(
        'https://lab.example.com:6443',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithSpecs('KServeTarget.fromConfig', () => {
  let fake: FakeKubeApiServer;

  beforeAll(async () => {
    inferenceServiceValidator();
    fake = await startFakeKubeApiServer({ token: 'sa-token' });
  }, 120_000);

  afterAll(async () => {
    await fake.close();
  });

  it('is undefined without the section', () => {
    expect(KServeTarget.fromConfig(new ConfigReader({}))).toBeUndefined();
  });

  it('talks to the configured cluster with its token, and sends the logger token', async () => {
    const target = KServeTarget.fromConfig(
      configWith(
        {
          ...kserve,
          // The client refuses plain http unless TLS checks are off.
          cluster: { url: fake.url, token: 'sa-token', skipTLSVerify: true },
        },
        { kserveLogger: { token: 's3cr3t' } },
      ),
    );
    await target!.apply({
      modelName: 'wine-quality',
      entityRef: 'model:default/wine-quality',
      environment: 'production',
      stable: {
        version: 1,
        storageUri: 's3://models/wine-quality/1/model.onnx',
      },
      candidatePercent: 0,
    });
    const [object] = fake.objects('kserve-test');
    expect(object.spec.predictor.logger?.url).toBe(
      `${kserve.loggerUrl}?token=s3cr3t&model=wine-quality&version=1`,
    );
  });
});

describe('storageUriFor', () => {
  it('fills the placeholders, encoding the model name', () => {
    expect(
      storageUriFor('s3://models/{model}/{version}/model.onnx', {
        modelName: 'wine quality/fr',
        version: 3,
      }),
    ).toBe('s3://models/wine%20quality%2Ffr/3/model.onnx');
    expect(
      storageUriFor('gs://artifacts/sha256/{sha256}', {
        modelName: 'm',
        version: 1,
        sha256: 'ab12',
      }),
    ).toBe('gs://artifacts/sha256/ab12');
  });

  it('refuses {sha256} for a version without a digest, and unknown placeholders', () => {
    expect(() =>
      storageUriFor('gs://a/{sha256}', { modelName: 'm', version: 2 }),
    ).toThrow(
      'Cannot build the storage URI of m version 2: the template "gs://a/{sha256}" needs {sha256} and the version has no artifact digest',
    );
    expect(() =>
      storageUriFor('gs://a/{stage}/{version}', { modelName: 'm', version: 2 }),
    ).toThrow('Unknown placeholder {stage}');
  });
});
