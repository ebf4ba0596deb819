import { KServeTarget } from './KServeTarget';
import { kubernetesClient } from './kubernetesClient';
import type { InferenceServiceObject } from './inferenceService';
import {
  FakeKubeApiServer,
  startFakeKubeApiServer,
} from './__testUtils__/fakeKubeApiServer';
import { inferenceServiceValidator } from './__testUtils__/crdSchema';
import { describeWithSpecs, readSpecYaml } from '../../__testUtils__/specs';

const NAMESPACE = 'kserve-test';
const COLLECTION = `/apis/serving.kserve.io/v1beta1/namespaces/${NAMESPACE}/inferenceservices`;

/** A minimal valid InferenceService. */
function isvc(name: string, predictor: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'onnx' },
          storageUri: 's3://models/m/1/model.onnx',
        },
        ...predictor,
      },
    },
  };
}

describeWithSpecs('startFakeKubeApiServer', () => {
  let fake: FakeKubeApiServer;

  beforeAll(() => {
    // Compiling the 2 MB CRD schema takes a few seconds; do it once up front.
    inferenceServiceValidator();
  }, 120_000);

  beforeEach(async () => {
    fake = await startFakeKubeApiServer();
  });

  afterEach(async () => {
    await fake.close();
  });

  async function send(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ) {
    const response = await fetch(`${fake.url}${path}`, {
      method,
      ...(body !== undefined
        ? {
            headers: { 'content-type': contentType },
            body: JSON.stringify(body),
          }
        : {}),
    });
    return {
      status: response.status,
      body: (await response.json()) as any,
      warning: response.headers.get('warning'),
    };
  }

  function stored(name: string): InferenceServiceObject {
    const object = fake.objects(NAMESPACE).find(o => o.metadata.name === name);
    if (!object) throw new Error(`${name} is not stored`);
    return object;
  }

  describe('validation against the CRD schema', () => {
    it('refuses canaryTrafficPercent "ten" with 422 Invalid naming the field', async () => {
      const { status, body } = await send(
        'POST',
        COLLECTION,
        isvc('ten', { canaryTrafficPercent: 'ten' }),
      );
      expect(status).toBe(422);
      expect(body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Invalid',
        code: 422,
        details: {
          name: 'ten',
          kind: 'InferenceService',
          causes: [
            {
              reason: 'FieldValueTypeInvalid',
              field: 'spec.predictor.canaryTrafficPercent',
            },
          ],
        },
      });
      expect(body.message).toBe(
        'InferenceService.serving.kserve.io "ten" is invalid: spec.predictor.canaryTrafficPercent: ' +
          'Invalid value: "string": spec.predictor.canaryTrafficPercent in body must be of type integer: "ten"',
      );
      expect(fake.objects()).toEqual([]);
    });

    it('lists every failing path: wrong types, an unsupported enum value, a missing required field', async () => {
      const { status, body } = await send('POST', COLLECTION, {
        ...isvc('many'),
        spec: {
          predictor: {
            minReplicas: 1.5,
            model: { modelFormat: {}, storageUri: 42 },
            logger: { mode: 'everything', url: 'http://x' },
          },
        },
      });
      expect(status).toBe(422);
      const fields = body.details.causes.map((c: any) => c.field).sort();
      expect(fields).toEqual([
        'spec.predictor.logger.mode',
        'spec.predictor.minReplicas',
        'spec.predictor.model.modelFormat.name',
        'spec.predictor.model.storageUri',
      ]);
      expect(body.message).toContain(
        'spec.predictor.logger.mode: Unsupported value: "everything": supported values: "all", "request", "response"',
      );
      expect(body.message).toContain(
        'spec.predictor.model.modelFormat.name: Required value',
      );
      expect(body.message).toMatch(/^.* is invalid: \[.*\]$/);
    });

    it('refuses an object without the required spec.predictor', async () => {
      const { status, body } = await send('POST', COLLECTION, {
        ...isvc('empty'),
        spec: {},
      });
      expect(status).toBe(422);
      expect(body.details.causes).toEqual([
        {
          reason: 'FieldValueRequired',
          field: 'spec.predictor',
          message: 'Required value',
        },
      ]);
    });

    it('reports an int-or-string once, and checks quantities by their pattern', async () => {
      const { status, body } = await send(
        'POST',
        COLLECTION,
        isvc('quantities', {
          model: {
            modelFormat: { name: 'onnx' },
            resources: { limits: { cpu: true, memory: '1 GiB' } },
          },
        }),
      );
      expect(status).toBe(422);
      expect(body.details.causes).toEqual([
        expect.objectContaining({
          field: 'spec.predictor.model.resources.limits.cpu',
          message: expect.stringContaining('must be of type integer or string'),
        }),
        expect.objectContaining({
          field: 'spec.predictor.model.resources.limits.memory',
          message: expect.stringContaining('should match'),
        }),
      ]);
    });

    it('refuses duplicate keys in a list of type map', async () => {
      const { status, body } = await send(
        'POST',
        COLLECTION,
        isvc('dupes', {
          model: {
            modelFormat: { name: 'onnx' },
            env: [
              { name: 'A', value: '1' },
              { name: 'A', value: '2' },
            ],
          },
        }),
      );
      expect(status).toBe(422);
      expect(body.details.causes).toEqual([
        {
          reason: 'FieldValueDuplicate',
          field: 'spec.predictor.model.env[1]',
          message: 'Duplicate value: {"name":"A"}',
        },
      ]);
    });

    it('checks ObjectMeta: the name and label values', async () => {
      const badName = await send('POST', COLLECTION, isvc('Not_A_Name'));
      expect(badName.status).toBe(422);
      expect(badName.body.details.causes[0].field).toBe('metadata.name');

      const object = isvc('labelled');
      object.metadata.labels = { 'loopline.dev/model': 'has spaces' };
      const badLabel = await send('POST', COLLECTION, object);
      expect(badLabel.status).toBe(422);
      expect(badLabel.body.message).toContain(
        'metadata.labels: Invalid value: "has spaces"',
      );
    });

    it('prunes unknown fields with a warning, or refuses them with fieldValidation=Strict', async () => {
      const object = isvc('unknown', { replicaz: 3 });
      object.spec.extra = true;

      const strict = await send(
        'POST',
        `${COLLECTION}?fieldValidation=Strict`,
        object,
      );
      expect(strict.status).toBe(400);
      expect(strict.body.reason).toBe('BadRequest');
      expect(strict.body.message).toContain(
        'strict decoding error: unknown field "spec.extra", unknown field "spec.predictor.replicaz"',
      );

      const pruned = await send('POST', COLLECTION, object);
      expect(pruned.status).toBe(201);
      expect(pruned.warning).toContain(
        'unknown field \\"spec.predictor.replicaz\\"',
      );
      expect(stored('unknown').spec).not.toHaveProperty('extra');
      expect(stored('unknown').spec.predictor).not.toHaveProperty('replicaz');
    });

    it("plays KServe's validating webhook: names start with a letter, one predictor implementation", async () => {
      const digit = await send('POST', COLLECTION, isvc('1model'));
      expect(digit.status).toBe(403);
      expect(digit.body.message).toContain(
        'admission webhook "inferenceservice.kserve-webhook-server.validator" denied the request',
      );

      const two = await send(
        'POST',
        COLLECTION,
        isvc('two', { sklearn: { storageUri: 'gs://x' } }),
      );
      expect(two.status).toBe(403);
      expect(two.body.message).toContain('found model, sklearn');
    });

    it.each(['default', 'canary', 'pinned', 'promotion', 'logger'])(
      "accepts KServe's own sample %s.yaml",
      async sample => {
        const { status } = await send(
          'POST',
          COLLECTION,
          readSpecYaml(`kserve/${sample}.yaml`),
        );
        expect(status).toBe(201);
      },
    );
  });

  describe('as KServe', () => {
    it("rolls out KServe's samples: default, canary 10%, pinned 0%, promotion", async () => {
      const [defaults, canary, pinned, promotion] = [
        'default',
        'canary',
        'pinned',
        'promotion',
      ].map(sample => readSpecYaml(`kserve/${sample}.yaml`));
      const path = `${COLLECTION}/my-model`;

      expect((await send('POST', COLLECTION, defaults)).status).toBe(201);
      let object = (await send('GET', path)).body;
      expect(object.metadata.generation).toBe(1);
      expect(object.status.observedGeneration).toBe(1);
      expect(
        object.status.conditions.find((c: any) => c.type === 'Ready').status,
      ).toBe('True');
      expect(object.status.components.predictor.traffic).toEqual([
        {
          revisionName: 'my-model-predictor-00001',
          latestRevision: true,
          percent: 100,
        },
      ]);

      expect((await send('PUT', path, canary)).status).toBe(200);
      object = (await send('GET', path)).body;
      expect(object.metadata.generation).toBe(2);
      expect(object.status.components.predictor.traffic).toEqual([
        {
          revisionName: 'my-model-predictor-00002',
          latestRevision: true,
          percent: 10,
        },
        {
          tag: 'prev',
          revisionName: 'my-model-predictor-00001',
          latestRevision: false,
          percent: 90,
        },
      ]);

      // Only the share changed: no new revision, all traffic back on 00001.
      await send('PUT', path, pinned);
      object = (await send('GET', path)).body;
      expect(object.status.components.predictor.traffic).toEqual([
        expect.objectContaining({
          revisionName: 'my-model-predictor-00002',
          percent: 0,
        }),
        expect.objectContaining({
          revisionName: 'my-model-predictor-00001',
          percent: 100,
        }),
      ]);

      await send('PUT', path, promotion);
      object = (await send('GET', path)).body;
      expect(object.status.components.predictor).toMatchObject({
        latestRolledoutRevision: 'my-model-predictor-00002',
        previousRolledoutRevision: 'my-model-predictor-00001',
        traffic: [
          {
            revisionName: 'my-model-predictor-00002',
            latestRevision: true,
            percent: 100,
          },
        ],
      });
      // Every status the controller wrote is valid under the CRD as well.
      expect(
        inferenceServiceValidator().validate(structuredClone(object)),
      ).toEqual([]);
    });

    it('reports a revision that fails, keeping traffic on the last ready one', async () => {
      await send('POST', COLLECTION, isvc('failing'));
      fake.setReady('failing', false, 'model failed to load');
      await send(
        'PUT',
        `${COLLECTION}/failing`,
        isvc('failing', {
          canaryTrafficPercent: 10,
          model: {
            modelFormat: { name: 'onnx' },
            storageUri: 's3://models/m/2/model.onnx',
          },
        }),
      );
      const { status } = stored('failing');
      expect(status?.conditions?.find(c => c.type === 'Ready')).toMatchObject({
        status: 'False',
        reason: 'RevisionFailed',
        message:
          'Revision "failing-predictor-00002" failed with message: model failed to load.',
      });
      expect(status?.components?.predictor.latestCreatedRevision).toBe(
        'failing-predictor-00002',
      );
      expect(
        status?.components?.predictor.traffic?.map(t => t.revisionName),
      ).toEqual(['failing-predictor-00001', 'failing-predictor-00001']);

      fake.setReady('failing', true);
      const recovered = stored('failing').status;
      expect(recovered?.conditions?.find(c => c.type === 'Ready')?.status).toBe(
        'True',
      );
      expect(recovered?.components?.predictor.traffic?.[0]).toMatchObject({
        revisionName: 'failing-predictor-00002',
        percent: 10,
      });
    });
  });

  describe('as the API server', () => {
    it('answers 404 NotFound, 409 AlreadyExists, and deletes', async () => {
      const missing = await send('GET', `${COLLECTION}/nope`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({
        kind: 'Status',
        reason: 'NotFound',
        message: 'inferenceservices.serving.kserve.io "nope" not found',
        code: 404,
      });

      expect((await send('POST', COLLECTION, isvc('once'))).status).toBe(201);
      const again = await send('POST', COLLECTION, isvc('once'));
      expect(again.status).toBe(409);
      expect(again.body.reason).toBe('AlreadyExists');

      const list = await send('GET', COLLECTION);
      expect(list.body.kind).toBe('InferenceServiceList');
      expect(list.body.items.map((o: any) => o.metadata.name)).toEqual([
        'once',
      ]);

      expect((await send('DELETE', `${COLLECTION}/once`)).status).toBe(200);
      expect((await send('GET', `${COLLECTION}/once`)).status).toBe(404);
      expect((await send('DELETE', `${COLLECTION}/once`)).status).toBe(404);
    });

    it('refuses a PUT with a stale resourceVersion (409 Conflict) and keeps resourceVersion on a no-op', async () => {
      const created = (await send('POST', COLLECTION, isvc('versioned'))).body;
      const current = (await send('GET', `${COLLECTION}/versioned`)).body;
      expect(Number(current.metadata.resourceVersion)).toBeGreaterThan(
        Number(created.metadata.resourceVersion),
      );

      const stale = await send('PUT', `${COLLECTION}/versioned`, {
        ...created,
        spec: isvc('versioned', { minReplicas: 2 }).spec,
      });
      expect(stale.status).toBe(409);
      expect(stale.body.reason).toBe('Conflict');
      expect(stale.body.message).toContain('the object has been modified');

      const same = await send('PUT', `${COLLECTION}/versioned`, current);
      expect(same.status).toBe(200);
      expect(same.body.metadata.resourceVersion).toBe(
        current.metadata.resourceVersion,
      );
      expect(same.body.metadata.generation).toBe(1);

      const renamed = await send('PUT', `${COLLECTION}/versioned`, {
        ...current,
        metadata: { ...current.metadata, name: 'other' },
      });
      expect(renamed.status).toBe(400);
    });

    it('applies merge patches and JSON patches, validating the result', async () => {
      await send('POST', COLLECTION, isvc('patched'));
      const path = `${COLLECTION}/patched`;

      const merged = await send(
        'PATCH',
        path,
        { spec: { predictor: { canaryTrafficPercent: 20 } } },
        'application/merge-patch+json',
      );
      expect(merged.status).toBe(200);
      expect(merged.body.spec.predictor.canaryTrafficPercent).toBe(20);
      expect(merged.body.metadata.generation).toBe(2);

      const removed = await send(
        'PATCH',
        path,
        [
          {
            op: 'test',
            path: '/spec/predictor/canaryTrafficPercent',
            value: 20,
          },
          { op: 'remove', path: '/spec/predictor/canaryTrafficPercent' },
        ],
        'application/json-patch+json',
      );
      expect(removed.status).toBe(200);
      expect(removed.body.spec.predictor).not.toHaveProperty(
        'canaryTrafficPercent',
      );

      const invalid = await send(
        'PATCH',
        path,
        { spec: { predictor: { canaryTrafficPercent: 'ten' } } },
        'application/merge-patch+json',
      );
      expect(invalid.status).toBe(422);
      expect(invalid.body.details.causes[0].field).toBe(
        'spec.predictor.canaryTrafficPercent',
      );

      const strategic = await send(
        'PATCH',
        path,
        { spec: {} },
        'application/strategic-merge-patch+json',
      );
      expect(strategic.status).toBe(415);
    });

    it('works with @kubernetes/client-node, whose patches default to JSON patch', async () => {
      const { CustomObjectsApi, PatchStrategy, setHeaderOptions } =
        kubernetesClient();
      const api = fake.kubeConfig().makeApiClient(CustomObjectsApi);
      const coordinates = {
        group: 'serving.kserve.io',
        version: 'v1beta1',
        namespace: NAMESPACE,
        plural: 'inferenceservices',
      };
      await api.createNamespacedCustomObject({
        ...coordinates,
        body: isvc('client'),
      });
      await api.patchNamespacedCustomObject({
        ...coordinates,
        name: 'client',
        body: [
          { op: 'add', path: '/spec/predictor/canaryTrafficPercent', value: 5 },
        ],
      });
      await api.patchNamespacedCustomObject(
        {
          ...coordinates,
          name: 'client',
          body: { metadata: { labels: { team: 'ml' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const object = await api.getNamespacedCustomObject({
        ...coordinates,
        name: 'client',
      });
      expect(object.spec.predictor.canaryTrafficPercent).toBe(5);
      expect(object.metadata.labels).toEqual({ team: 'ml' });
      expect(fake.requests.map(r => [r.method, r.contentType])).toEqual([
        ['POST', 'application/json'],
        ['PATCH', 'application/json-patch+json'],
        ['PATCH', 'application/merge-patch+json'],
        ['GET', undefined],
      ]);
    });

    it('requires the bearer token when it has one', async () => {
      const guarded = await startFakeKubeApiServer({ token: 'secret' });
      try {
        const anonymous = await fetch(`${guarded.url}${COLLECTION}`);
        expect(anonymous.status).toBe(401);
        const { CustomObjectsApi } = kubernetesClient();
        const api = guarded.kubeConfig().makeApiClient(CustomObjectsApi);
        const list = await api.listNamespacedCustomObject({
          group: 'serving.kserve.io',
          version: 'v1beta1',
          namespace: NAMESPACE,
          plural: 'inferenceservices',
        });
        expect(list.items).toEqual([]);
      } finally {
        await guarded.close();
      }
    });
  });

  it('accepts every object KServeTarget writes through a rollout', async () => {
    const target = new KServeTarget({
      kubeConfig: fake.kubeConfig(),
      namespace: NAMESPACE,
      loggerUrl:
        'http://loopline.loopline.svc:7007/api/mlops/serving/kserve/logger',
      loggerToken: 's3cr3t',
    });
    const version = (n: number) => ({
      version: n,
      storageUri: `s3://models/wine-quality/${n}/model.onnx`,
    });
    const base = {
      modelName: 'wine-quality',
      entityRef: 'model:default/wine-quality',
      environment: 'production',
    };
    await target.apply({ ...base, stable: version(1), candidatePercent: 0 });
    for (const percent of [10, 25, 50]) {
      await target.apply({
        ...base,
        strategy: 'canary',
        stable: version(1),
        candidate: version(2),
        candidatePercent: percent,
      });
    }
    await target.apply({ ...base, stable: version(1), candidatePercent: 0 });
    await target.apply({
      ...base,
      strategy: 'blue-green',
      stable: version(1),
      candidate: version(3),
      candidatePercent: 100,
    });
    await target.apply({ ...base, stable: version(3), candidatePercent: 0 });

    const writes = fake.requests.filter(r => r.method !== 'GET');
    expect(writes.length).toBeGreaterThanOrEqual(6);
    expect(writes.every(r => r.status < 300)).toBe(true);
    expect(writes.every(r => r.query.fieldValidation === 'Strict')).toBe(true);
    // Each body the target sent is valid on its own, status aside.
    for (const write of writes) {
      const { status: _status, ...body } = write.body as any;
      expect(inferenceServiceValidator().unknownFields(body, false)).toEqual(
        [],
      );
      expect(inferenceServiceValidator().validate(body)).toEqual([]);
    }
  });
});
