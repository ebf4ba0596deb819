import { ConflictError, InputError } from '@backstage/errors';
import type { DesiredDeployment, TargetVersion } from '../types';
import { KServeTarget, KubernetesApiError } from './KServeTarget';
import { inferenceServiceName, labelValue } from './inferenceService';
import { kubernetesClient } from './kubernetesClient';
import {
  FakeKubeApiServer,
  startFakeKubeApiServer,
} from './__testUtils__/fakeKubeApiServer';
import { inferenceServiceValidator } from './__testUtils__/crdSchema';
import { describeWithSpecs } from '../../__testUtils__/specs';

const NAMESPACE = 'kserve-test';
const LOGGER_URL =
  'http://loopline.loopline.svc:7007/api/mlops/serving/kserve/logger';
const NOW = Date.parse('2026-11-24T10:00:00Z');
const KSERVE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const version = (n: number): TargetVersion => ({
  version: n,
  storageUri: `s3://models/wine-quality/${n}/model.onnx`,
});

const deployment = {
  modelName: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  environment: 'production',
};

/** Stable only. */
const stableOnly = (n: number): DesiredDeployment => ({
  ...deployment,
  stable: version(n),
  candidatePercent: 0,
});

/** A rollout of `candidate` over `stable` at `percent`. */
const rollout = (
  stable: number,
  candidate: number,
  percent: number,
  strategy: DesiredDeployment['strategy'] = 'canary',
): DesiredDeployment => ({
  ...deployment,
  strategy,
  stable: version(stable),
  candidate: version(candidate),
  candidatePercent: percent,
});

describeWithSpecs('KServeTarget', () => {
  let fake: FakeKubeApiServer;
  let target: KServeTarget;
  let name: string;

  beforeAll(() => {
    inferenceServiceValidator();
  }, 120_000);

  beforeEach(async () => {
    fake = await startFakeKubeApiServer({ namespace: NAMESPACE });
    target = new KServeTarget({
      kubeConfig: fake.kubeConfig(),
      namespace: NAMESPACE,
      loggerUrl: LOGGER_URL,
      loggerToken: 's3cr3t',
      clock: () => NOW,
    });
    name = target.nameOf('wine-quality', 'production');
  });

  afterEach(async () => {
    await fake.close();
  });

  function stored() {
    const object = fake.objects(NAMESPACE).find(o => o.metadata.name === name);
    if (!object) throw new Error(`${name} is not stored`);
    return object;
  }
  const calls = () => fake.requests.map(r => `${r.method} ${r.status}`);
  const writes = () => fake.requests.filter(r => r.method !== 'GET');
  const revision = (n: number) =>
    `${name}-predictor-${String(n).padStart(5, '0')}`;

  it('runs canary and blue-green, not shadow or A/B', async () => {
    expect(target.kind).toBe('kserve');
    expect(target.strategies).toEqual(['canary', 'blue-green']);
    await expect(target.apply(rollout(1, 2, 10, 'shadow'))).rejects.toThrow(
      InputError,
    );
    await expect(target.apply(rollout(1, 2, 10, 'ab'))).rejects.toThrow(
      'The kserve target cannot run a ab rollout; it runs canary and blue-green',
    );
    expect(fake.requests).toEqual([]);
  });

  it('creates the InferenceService of a first stable version', async () => {
    const applied = await target.apply(stableOnly(1));

    expect(calls()).toEqual(['GET 404', 'POST 201']);
    const post = fake.requests[1];
    expect(post.query).toEqual({
      fieldManager: 'loopline',
      fieldValidation: 'Strict',
    });
    expect(post.body).toEqual({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: {
        name,
        namespace: NAMESPACE,
        labels: {
          'app.kubernetes.io/managed-by': 'loopline',
          'loopline.dev/model': 'wine-quality',
          'loopline.dev/environment': 'production',
        },
        annotations: {
          'loopline.dev/entity-ref': 'model:default/wine-quality',
          'loopline.dev/model-name': 'wine-quality',
          'loopline.dev/environment': 'production',
          'loopline.dev/stable-version': '1',
        },
      },
      spec: {
        predictor: {
          model: {
            modelFormat: { name: 'onnx' },
            storageUri: 's3://models/wine-quality/1/model.onnx',
          },
          logger: {
            mode: 'all',
            url: `${LOGGER_URL}?token=s3cr3t&model=wine-quality&version=1`,
          },
        },
      },
    });
    // The API server answers before KServe has seen the object.
    expect(applied).toEqual({
      ready: false,
      message: `KServe has not reconciled generation 1 of InferenceService ${NAMESPACE}/${name} yet`,
      resource: `${NAMESPACE}/${name}`,
      observedAt: '2026-11-24T10:00:00.000Z',
    });

    await expect(target.status('wine-quality', 'production')).resolves.toEqual({
      ready: true,
      resource: `${NAMESPACE}/${name}`,
      traffic: [{ name: revision(1), percent: 100, latest: true }],
      observedAt: '2026-11-24T10:00:00.000Z',
    });
  });

  it('steps a canary: the candidate gets canaryTrafficPercent, stable keeps the rest', async () => {
    await target.apply(stableOnly(1));
    await target.apply(rollout(1, 2, 10));

    const object = stored();
    expect(object.spec.predictor.canaryTrafficPercent).toBe(10);
    expect(object.spec.predictor.model?.storageUri).toBe(
      's3://models/wine-quality/2/model.onnx',
    );
    expect(object.metadata.annotations).toMatchObject({
      'loopline.dev/stable-version': '1',
      'loopline.dev/candidate-version': '2',
    });
    // The candidate's revision logs its own version.
    expect(object.spec.predictor.logger?.url).toBe(
      `${LOGGER_URL}?token=s3cr3t&model=wine-quality&version=2`,
    );
    expect(
      (await target.status('wine-quality', 'production'))?.traffic,
    ).toEqual([
      { name: revision(2), percent: 10, latest: true },
      { name: revision(1), percent: 90, latest: false },
    ]);

    // The next step changes the share only: the same revisions, 25/75.
    await target.apply(rollout(1, 2, 25));
    expect(stored().spec.predictor.canaryTrafficPercent).toBe(25);
    expect(
      (await target.status('wine-quality', 'production'))?.traffic,
    ).toEqual([
      { name: revision(2), percent: 25, latest: true },
      { name: revision(1), percent: 75, latest: false },
    ]);
    expect(writes().map(w => w.method)).toEqual(['POST', 'PUT', 'PUT']);
  });

  it('promotes by removing canaryTrafficPercent: the candidate takes all traffic', async () => {
    await target.apply(stableOnly(1));
    await target.apply(rollout(1, 2, 50));
    const promoted = await target.apply(stableOnly(2));

    const object = stored();
    expect(object.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(object.spec.predictor.model?.storageUri).toBe(
      's3://models/wine-quality/2/model.onnx',
    );
    expect(object.metadata.annotations).toMatchObject({
      'loopline.dev/stable-version': '2',
    });
    expect(object.metadata.annotations).not.toHaveProperty(
      'loopline.dev/candidate-version',
    );
    expect(promoted.ready).toBe(false); // generation 3 not reconciled when answered
    const status = await target.status('wine-quality', 'production');
    expect(status?.ready).toBe(true);
    expect(status?.traffic).toEqual([
      { name: expect.any(String), percent: 100, latest: true },
    ]);
    expect(object.status?.components?.predictor.latestRolledoutRevision).toBe(
      status?.traffic?.[0].name,
    );
  });

  it("rolls back as KServe does: the candidate pinned at 0%, stable's running revision gets everything", async () => {
    await target.apply(stableOnly(1));
    await target.apply(rollout(1, 2, 25));
    await target.apply(stableOnly(1));

    let object = stored();
    expect(object.spec.predictor.canaryTrafficPercent).toBe(0);
    expect(object.spec.predictor.model?.storageUri).toBe(
      's3://models/wine-quality/2/model.onnx',
    );
    expect(object.metadata.annotations).toMatchObject({
      'loopline.dev/stable-version': '1',
      'loopline.dev/rolled-back-version': '2',
    });
    expect(object.metadata.annotations).not.toHaveProperty(
      'loopline.dev/candidate-version',
    );
    const traffic = (await target.status('wine-quality', 'production'))
      ?.traffic;
    expect(traffic).toContainEqual({
      name: revision(1),
      percent: 100,
      latest: false,
    });
    expect(traffic?.find(t => t.latest)?.percent).toBe(0);

    // Applying the rolled-back state again writes nothing.
    const before = writes().length;
    await target.apply(stableOnly(1));
    expect(writes()).toHaveLength(before);

    // The next rollout starts from stable's revision again.
    await target.apply(rollout(1, 3, 10));
    object = stored();
    expect(object.spec.predictor.canaryTrafficPercent).toBe(10);
    expect(object.spec.predictor.model?.storageUri).toBe(
      's3://models/wine-quality/3/model.onnx',
    );
    expect(object.metadata.annotations).not.toHaveProperty(
      'loopline.dev/rolled-back-version',
    );
    expect(
      (await target.status('wine-quality', 'production'))?.traffic,
    ).toContainEqual({ name: revision(1), percent: 90, latest: false });
  });

  it("deploys a blue-green candidate beside stable, switches at once, and rolls back to stable's storageUri after the switch", async () => {
    await target.apply(stableOnly(1));
    await target.apply(rollout(1, 2, 0, 'blue-green'));
    expect(stored().spec.predictor.canaryTrafficPercent).toBe(0);
    expect(
      (await target.status('wine-quality', 'production'))?.traffic,
    ).toEqual([
      { name: revision(2), percent: 0, latest: true },
      { name: revision(1), percent: 100, latest: false },
    ]);

    await target.apply(rollout(1, 2, 100, 'blue-green'));
    expect(
      (await target.status('wine-quality', 'production'))?.traffic,
    ).toEqual([{ name: revision(2), percent: 100, latest: true }]);

    // KServe now counts the candidate as rolled out, so 0% would keep it
    // serving: stable's own storageUri is written instead.
    await target.apply(stableOnly(1));
    const object = stored();
    expect(object.spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(object.spec.predictor.model?.storageUri).toBe(
      's3://models/wine-quality/1/model.onnx',
    );
    expect(object.metadata.annotations).not.toHaveProperty(
      'loopline.dev/rolled-back-version',
    );
  });

  it("runs a first deployment's candidate alone and deletes it when that rollout is rolled back", async () => {
    await target.apply({
      ...deployment,
      strategy: 'canary',
      candidate: version(1),
      candidatePercent: 10,
    });
    // Nothing else could take the other 90%.
    expect(stored().spec.predictor).not.toHaveProperty('canaryTrafficPercent');
    expect(
      (await target.status('wine-quality', 'production'))?.traffic,
    ).toEqual([{ name: revision(1), percent: 100, latest: true }]);

    const rolledBack = await target.apply({
      ...deployment,
      candidatePercent: 0,
    });
    expect(rolledBack).toMatchObject({
      ready: false,
      message: `No version is deployed; InferenceService ${NAMESPACE}/${name} was deleted`,
    });
    expect(fake.objects()).toEqual([]);
    await expect(
      target.status('wine-quality', 'production'),
    ).resolves.toBeUndefined();
  });

  it('applies the same state twice without writing again', async () => {
    await target.apply(stableOnly(1));
    await target.apply(rollout(1, 2, 10));
    const resourceVersion = stored().metadata.resourceVersion;
    const before = fake.requests.length;

    const again = await target.apply(rollout(1, 2, 10));

    expect(fake.requests.slice(before).map(r => r.method)).toEqual(['GET']);
    expect(stored().metadata.resourceVersion).toBe(resourceVersion);
    expect(again.ready).toBe(true);
  });

  it("reports a candidate that fails to load as not ready, with KServe's message", async () => {
    await target.apply(stableOnly(1));
    fake.setReady(name, false, 'model failed to load: invalid ONNX file');
    await target.apply(rollout(1, 2, 10));

    const status = await target.status('wine-quality', 'production');
    expect(status).toMatchObject({
      ready: false,
      message:
        `InferenceService ${NAMESPACE}/${name} is not ready: Ready=False (RevisionFailed): ` +
        `Revision "${revision(
          2,
        )}" failed with message: model failed to load: invalid ONNX file.`,
    });
    // Knative keeps sending the candidate's share to the last ready revision.
    expect(status?.traffic?.map(t => t.name)).toEqual([
      revision(1),
      revision(1),
    ]);
  });

  it("keeps other writers' fields and retries once after a resourceVersion conflict", async () => {
    await target.apply(stableOnly(1));
    fake.changeBeforeNextWrite(name, object => {
      object.metadata.annotations = {
        ...object.metadata.annotations,
        'team.example.com/owner': 'ml-platform',
      };
      object.spec.predictor.minReplicas = 2;
    });
    const before = fake.requests.length;

    await target.apply(rollout(1, 2, 10));

    expect(
      fake.requests.slice(before).map(r => `${r.method} ${r.status}`),
    ).toEqual(['GET 200', 'PUT 409', 'GET 200', 'PUT 200']);
    const object = stored();
    expect(object.metadata.annotations?.['team.example.com/owner']).toBe(
      'ml-platform',
    );
    expect(object.spec.predictor.minReplicas).toBe(2);
    expect(object.spec.predictor.canaryTrafficPercent).toBe(10);
  });

  it('gives up after a second conflict and says so', async () => {
    await target.apply(stableOnly(1));
    const interfere = (object: { spec: { predictor: any } }) => {
      object.spec.predictor.minReplicas =
        (object.spec.predictor.minReplicas ?? 0) + 1;
      fake.changeBeforeNextWrite(name, interfere);
    };
    fake.changeBeforeNextWrite(name, interfere);

    const failure = target.apply(rollout(1, 2, 10));

    await expect(failure).rejects.toThrow(KubernetesApiError);
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^Kubernetes API refused to replace InferenceService ${NAMESPACE}/${name}: HTTP 409 Conflict: ` +
          'Operation cannot be fulfilled .* \\(still conflicting after a re-read and retry\\)$',
      ),
    );
  });

  it("turns a 422 Invalid into an error naming the object, the server's message and the field", async () => {
    // The API server caps annotations at 256 KiB.
    const failure = target.apply({
      ...stableOnly(1),
      entityRef: `model:default/${'x'.repeat(300 * 1024)}`,
    });

    await expect(failure).rejects.toMatchObject({
      name: 'KubernetesApiError',
      statusCode: 422,
      reason: 'Invalid',
      fields: ['metadata.annotations'],
    });
    await expect(failure).rejects.toThrow(
      `Kubernetes API refused to create InferenceService ${NAMESPACE}/${name}: HTTP 422 Invalid: ` +
        `InferenceService.serving.kserve.io "${name}" is invalid: metadata.annotations: ` +
        'Too long: must have at most 262144 bytes (fields: metadata.annotations)',
    );
  });

  it('names the object when the API server refuses the credentials or cannot be reached', async () => {
    const guarded = await startFakeKubeApiServer({ token: 'right' });
    try {
      const kubeConfig = new (kubernetesClient().KubeConfig)();
      kubeConfig.loadFromClusterAndUser(
        { name: 'guarded', server: guarded.url, skipTLSVerify: true },
        { name: 'anonymous', token: 'wrong' },
      );
      const anonymous = new KServeTarget({
        kubeConfig,
        namespace: NAMESPACE,
        loggerUrl: LOGGER_URL,
      });
      await expect(anonymous.apply(stableOnly(1))).rejects.toThrow(
        `Kubernetes API refused to read InferenceService ${NAMESPACE}/${name}: HTTP 401 Unauthorized`,
      );
    } finally {
      await guarded.close();
    }

    await fake.close();
    await expect(target.status('wine-quality', 'production')).rejects.toThrow(
      new RegExp(
        `^Could not read InferenceService ${NAMESPACE}/${name}: the Kubernetes API at ` +
          `${fake.url.replace(/\./g, '\\.')} failed: .*ECONNREFUSED`,
      ),
    );
    fake = await startFakeKubeApiServer(); // for afterEach
  });

  it('refuses to take over an InferenceService it does not manage', async () => {
    const response = await fetch(
      `${fake.url}/apis/serving.kserve.io/v1beta1/namespaces/${NAMESPACE}/inferenceservices`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'serving.kserve.io/v1beta1',
          kind: 'InferenceService',
          metadata: {
            name,
            labels: { 'app.kubernetes.io/managed-by': 'helm' },
          },
          spec: {
            predictor: { sklearn: { storageUri: 'gs://someone/else' } },
          },
        }),
      },
    );
    expect(response.status).toBe(201);

    await expect(target.apply(stableOnly(1))).rejects.toThrow(ConflictError);
    await expect(target.apply(stableOnly(1))).rejects.toThrow(
      `InferenceService ${NAMESPACE}/${name} exists and is not managed by Loopline (label app.kubernetes.io/managed-by is "helm")`,
    );
    expect(writes().map(w => w.method)).toEqual(['POST']);
  });

  it('refuses a candidate share outside 0..100 before writing', async () => {
    await expect(target.apply(rollout(1, 2, 150))).rejects.toThrow(
      'Invalid candidatePercent 150 for wine-quality in production: it must be an integer from 0 to 100',
    );
    await expect(target.apply(rollout(1, 2, 12.5))).rejects.toThrow(InputError);
    expect(writes()).toEqual([]);
  });

  it('writes a model whose name is no Kubernetes name under a valid, labelled object', async () => {
    const modelName = 'Modèle Qualité/vin ✓ (2024)';
    await target.apply({
      modelName,
      entityRef: 'model:default/modele-qualite',
      environment: 'staging',
      stable: version(1),
      candidatePercent: 0,
    });
    expect(writes().map(w => w.status)).toEqual([201]);
    const [object] = fake.objects();
    expect(object.metadata.name).toBe(target.nameOf(modelName, 'staging'));
    expect(object.metadata.labels?.['loopline.dev/model']).toBe(
      labelValue(modelName),
    );
    expect(object.metadata.annotations?.['loopline.dev/model-name']).toBe(
      modelName,
    );
    expect(object.spec.predictor.logger?.url).toBe(
      `${LOGGER_URL}?token=s3cr3t&model=Mod%C3%A8le+Qualit%C3%A9%2Fvin+%E2%9C%93+%282024%29&version=1`,
    );
  });
});

describe('inferenceServiceName', () => {
  it('is readable, stable and ends with a hash of the exact names', () => {
    const name = inferenceServiceName('wine-quality', 'production', NAMESPACE);
    expect(name).toMatch(/^wine-quality-production-[0-9a-f]{8}$/);
    expect(inferenceServiceName('wine-quality', 'production', NAMESPACE)).toBe(
      name,
    );
  });

  it('keeps names apart that slug or join alike', () => {
    const names = [
      inferenceServiceName('wine_quality', 'production'),
      inferenceServiceName('wine-quality', 'production'),
      inferenceServiceName('Wine Quality', 'production'),
      inferenceServiceName('a-b', 'c'),
      inferenceServiceName('a', 'b-c'),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['a long name', 'x'.repeat(200), 'production'],
    ['a long name in both parts', 'y'.repeat(80), 'z'.repeat(32)],
    ['a name of symbols only', '✓✓✓', 'staging'],
    ['a leading digit', '2024 forecast', 'prod'],
    ['digits only', '42', '7'],
    ['accents and slashes', 'Modèle Qualité/vin', 'production'],
  ])('gives a valid KServe name for %s', (_label, model, environment) => {
    const name = inferenceServiceName(model, environment, NAMESPACE);
    expect(name).toMatch(KSERVE_NAME);
    expect(name.length).toBeLessThanOrEqual(45);
    // KServe's host label <name>-predictor-<namespace> fits 63.
    expect(`${name}-predictor-${NAMESPACE}`.length).toBeLessThanOrEqual(63);
  });

  it('keeps the readable parts where it can', () => {
    expect(inferenceServiceName('2024 forecast', 'prod')).toMatch(
      /^m-2024-forecast-prod-[0-9a-f]{8}$/,
    );
    expect(inferenceServiceName('Modèle Qualité/vin', 'production')).toMatch(
      /^modele-qualite-vin-production-[0-9a-f]{8}$/,
    );
    expect(
      inferenceServiceName('x'.repeat(200), 'production', NAMESPACE),
    ).toMatch(/^x+-prod[a-z]*-[0-9a-f]{8}$/);
  });

  it('shortens names in a long namespace, down to 20 characters', () => {
    expect(
      inferenceServiceName('wine-quality', 'production', 'n'.repeat(30)).length,
    ).toBeLessThanOrEqual(63 - '-predictor-'.length - 30);
    expect(
      inferenceServiceName('wine-quality', 'production', 'n'.repeat(60)),
    ).toHaveLength(20);
  });
});

describe('labelValue', () => {
  it.each([
    ['wine-quality', 'wine-quality'],
    ['Wine_Quality.v2', 'Wine_Quality.v2'],
  ])('keeps the valid label value %s', (text, expected) => {
    expect(labelValue(text)).toBe(expected);
  });

  it.each(['Modèle Qualité/vin', 'x'.repeat(100), '-leading', '✓✓'])(
    'turns %s into a valid, distinct label value',
    text => {
      const value = labelValue(text);
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
      expect(value).not.toBe(labelValue(`${text}!`));
    },
  );
});
