import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { ModelEntityV1alpha1 } from '@loopline/mlops-common';
import { mlopsPlugin } from '../plugin';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const MLFLOW = '/api/mlops/mlflow/api/2.0/mlflow';

const model: ModelEntityV1alpha1 = {
  apiVersion: 'loopline.dev/v1alpha1',
  kind: 'Model',
  metadata: { name: 'wine', namespace: 'default' },
  spec: {
    type: 'regression',
    owner: 'group:default/wine-science',
    lifecycle: 'production',
    gates: {
      metrics: [{ metric: 'rmse', max: 0.9 }],
      beatProduction: { metric: 'rmse', margin: 0 },
    },
  },
};

describe.each(databaseIds)('stage-transition gates on %s', databaseId => {
  let artifactDir: string;
  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-gates-'));
  });
  afterEach(() => fs.rmSync(artifactDir, { recursive: true, force: true }));

  it('refuse a worse version on both stage routes with the reasons; a platform group overrides with a comment, audited', async () => {
    const knex = await databases.init(databaseId);
    let platformMember = false;
    const decide = (name: string) =>
      name === 'loopline.model.gate.override' && !platformMember
        ? AuthorizeResult.DENY
        : AuthorizeResult.ALLOW;
    const { server } = await startTestBackend({
      features: [
        mlopsPlugin,
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [model] }),
        mockServices.permissions.mock({
          authorize: async (requests: any[]) =>
            requests.map(r => ({ result: decide(r.permission.name) })) as any,
          authorizeConditional: async (requests: any[]) =>
            requests.map(() => ({ result: AuthorizeResult.ALLOW })) as any,
        }).factory,
        mockServices.rootConfig.factory({
          data: { mlops: { artifacts: { directory: artifactDir } } },
        }),
      ],
    });
    const http = request(server);
    const { experiment_id } = (
      await http
        .post(`${MLFLOW}/experiments/create`)
        .send({ name: 'wine' })
        .expect(200)
    ).body;
    await http
      .post(`${MLFLOW}/registered-models/create`)
      .send({ name: 'wine' })
      .expect(200);
    const versionWith = async (rmse: number) => {
      const run = (
        await http
          .post(`${MLFLOW}/runs/create`)
          .send({ experiment_id, start_time: Date.now() })
          .expect(200)
      ).body.run.info.run_id;
      await http
        .post(`${MLFLOW}/runs/log-metric`)
        .send({ run_id: run, key: 'rmse', value: rmse, timestamp: Date.now() })
        .expect(200);
      return (
        await http
          .post(`${MLFLOW}/model-versions/create`)
          .send({ name: 'wine', source: `runs:/${run}/model`, run_id: run })
          .expect(200)
      ).body.model_version.version;
    };
    const toProduction = (version: string, extra: object = {}) =>
      http
        .post(`${MLFLOW}/model-versions/transition-stage`)
        .send({ name: 'wine', version, stage: 'production', ...extra });

    // The first version passes its bounds; there is no Production to beat.
    const v1 = await versionWith(0.7);
    await toProduction(v1).expect(200);

    // A worse one is refused on the MLflow route, in MLflow's error shape.
    const v2 = await versionWith(0.8);
    const refused = await toProduction(v2);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error_code: 'INVALID_STATE',
      message:
        'Version 2 of wine may not go to Production: rmse 0.8000 does not beat Production v1 (0.7000) by 0 (lower is better)',
    });
    // ... and on the portal's route, in Backstage's.
    const ui = await http
      .post('/api/mlops/registry/models/wine/versions/2/stage')
      .send({ stage: 'Production', comment: 'please' });
    expect(ui.status).toBe(409);
    expect(ui.body.error.message).toMatch(/does not beat Production v1/);
    // A bound broken too: both reasons.
    const v3 = await versionWith(1.2);
    expect((await toProduction(v3)).body.message).toMatch(
      /rmse 1\.2000 is above the maximum 0\.9; rmse 1\.2000 does not beat/,
    );
    // Other stages are not gated.
    await http
      .post(`${MLFLOW}/model-versions/transition-stage`)
      .send({ name: 'wine', version: v3, stage: 'Staging' })
      .expect(200);

    // Owners cannot override; a platform group can, with a comment.
    const denied = await toProduction(v2, {
      override_gates: true,
      comment: 'ship it',
    });
    expect([denied.status, denied.body.error_code]).toEqual([
      403,
      'PERMISSION_DENIED',
    ]);
    platformMember = true;
    const noComment = await http
      .post('/api/mlops/registry/models/wine/versions/2/stage')
      .send({ stage: 'Production', overrideGates: true });
    expect(noComment.status).toBe(400);
    expect(noComment.body.error.message).toMatch(/^comment:/);
    await http
      .post('/api/mlops/registry/models/wine/versions/2/stage')
      .send({
        stage: 'Production',
        overrideGates: true,
        archiveExistingVersions: true,
        comment: 'Hotfix: v1 mislabels red wines',
      })
      .expect(200);
    const stages = (
      await http.get('/api/mlops/registry/models/wine/versions').expect(200)
    ).body.items.map((v: any) => [v.version, v.stage]);
    expect(stages).toEqual(
      expect.arrayContaining([
        [1, 'Archived'],
        [2, 'Production'],
        [3, 'Staging'],
      ]),
    );

    // Every decision is stored for the Versions tab, and audited.
    const results = (
      await http.get('/api/mlops/gates/models/wine/results').expect(200)
    ).body.items;
    expect(results[0]).toMatchObject({
      version: 2,
      context: 'transition',
      passed: false,
      overriddenBy: 'user:default/mock',
      comment: 'Hotfix: v1 mislabels red wines',
    });
    expect(
      results
        .map((r: any) => `${r.version}:${r.passed}:${r.overriddenBy ?? '-'}`)
        .sort(),
    ).toEqual([
      '1:true:-',
      '2:false:-',
      '2:false:-',
      '2:false:-',
      '2:false:user:default/mock',
      '3:false:-',
    ]);
    const audit = (
      await http
        .get('/api/mlops/audit')
        .query({ entityRef: 'model:default/wine', limit: 50 })
        .expect(200)
    ).body.items.map((e: any) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining([
        'model.gate.passed',
        'model.gate.refused',
        'model.gate.override',
      ]),
    );
    const override = (
      await http
        .get('/api/mlops/audit')
        .query({ entityRef: 'model:default/wine', limit: 50 })
    ).body.items.find((e: any) => e.action === 'model.gate.override');
    expect(override).toMatchObject({
      actor: 'user:default/mock',
      comment: 'Hotfix: v1 mislabels red wines',
    });
  });
});
