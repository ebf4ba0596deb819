import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { mockModelCatalog } from '../__testUtils__/catalog';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const API = '/api/mlops/mlflow/api/2.0/mlflow';

/** rename, delete, set-tag and delete-tag of models and versions; experiments/update. */
describe.each(databaseIds)(
  'MLflow registry and tracking changes on %s',
  databaseId => {
    let artifactDir: string;
    let knex: Knex;
    beforeEach(() => {
      artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-mlflow-'));
    });
    afterEach(() => {
      fs.rmSync(artifactDir, { recursive: true, force: true });
    });

    async function start(result: AuthorizeResult = AuthorizeResult.ALLOW) {
      knex = await databases.init(databaseId);
      const { server } = await startTestBackend({
        features: [
          mlopsPlugin,
          mockModelCatalog('wine', 'white-wine'),
          mockServices.database.factory({ knex }),
          mockServices.permissions.factory({
            result: result as AuthorizeResult.ALLOW,
          }),
          mockServices.rootConfig.factory({
            data: { mlops: { artifacts: { directory: artifactDir } } },
          }),
        ],
      });
      return request(server);
    }

    const expectError = (
      res: request.Response,
      status: number,
      code: string,
    ) => {
      expect({ status: res.status, code: res.body.error_code }).toEqual({
        status,
        code,
      });
    };

    it('deletes, renames and tags, audited, and never a version a deployment routes', async () => {
      const http = await start();
      await http
        .post(`${API}/registered-models/create`)
        .send({ name: 'wine' })
        .expect(200);
      for (let i = 0; i < 3; i += 1) {
        await http
          .post(`${API}/model-versions/create`)
          .send({ name: 'wine', source: 's3://bucket/wine' })
          .expect(200);
      }
      await http
        .post(`${API}/registered-models/alias`)
        .send({ name: 'wine', alias: 'champion', version: '3' })
        .expect(200);

      // Tags of the model and of a version.
      await http
        .post(`${API}/registered-models/set-tag`)
        .send({ name: 'wine', key: 'team', value: 'ml' })
        .expect(200);
      expect(
        (
          await http
            .get(`${API}/registered-models/get`)
            .query({ name: 'wine' })
            .expect(200)
        ).body.registered_model.tags,
      ).toEqual(expect.arrayContaining([{ key: 'team', value: 'ml' }]));
      await http
        .delete(`${API}/registered-models/delete-tag`)
        .send({ name: 'wine', key: 'team' })
        .expect(200);
      expectError(
        await http
          .delete(`${API}/registered-models/delete-tag`)
          .send({ name: 'wine', key: 'team' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      await http
        .post(`${API}/model-versions/set-tag`)
        .send({ name: 'wine', version: '2', key: 'checked', value: 'yes' })
        .expect(200);
      await http
        .delete(`${API}/model-versions/delete-tag`)
        .query({ name: 'wine', version: '2', key: 'checked' })
        .expect(200);
      expect(
        (
          await http
            .get(`${API}/model-versions/get`)
            .query({ name: 'wine', version: '2' })
            .expect(200)
        ).body.model_version.tags,
      ).toEqual([]);

      // A deployment (on any target) routes version 1.
      await knex('rollout_deployments').insert({
        id: 'd1',
        model_name: 'wine',
        entity_ref: 'model:default/wine',
        environment: 'production',
        target: 'kserve',
        stable_version: 1,
        revision: 0,
        created_at: 1,
        updated_at: 1,
      });
      expectError(
        await http
          .delete(`${API}/model-versions/delete`)
          .send({ name: 'wine', version: '1' }),
        409,
        'INVALID_STATE',
      );
      expectError(
        await http
          .delete(`${API}/registered-models/delete`)
          .send({ name: 'wine' }),
        409,
        'INVALID_STATE',
      );
      expectError(
        await http
          .post(`${API}/registered-models/rename`)
          .send({ name: 'wine', new_name: 'red-wine' }),
        409,
        'INVALID_STATE',
      );
      await http
        .get(`${API}/model-versions/get`)
        .query({ name: 'wine', version: '1' })
        .expect(200);

      // Version 2 is not routed: it goes, with the audit saying who and why.
      await http
        .delete(`${API}/model-versions/delete`)
        .send({ name: 'wine', version: '2', comment: 'bad data' })
        .expect(200);
      expectError(
        await http
          .get(`${API}/model-versions/get`)
          .query({ name: 'wine', version: '2' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      const audit = await http
        .get('/api/mlops/audit')
        .query({ entityRef: 'model:default/wine' })
        .expect(200);
      expect(audit.body.items[0]).toMatchObject({
        action: 'registry.version.delete',
        comment: 'bad data',
      });

      // No longer deployed: rename keeps versions and aliases, then delete.
      await knex('rollout_deployments').where({ id: 'd1' }).delete();
      const renamed = await http
        .post(`${API}/registered-models/rename`)
        .send({ name: 'wine', new_name: 'red-wine' })
        .expect(200);
      expect(renamed.body.registered_model).toMatchObject({
        name: 'red-wine',
        aliases: [{ alias: 'champion', version: '3' }],
      });
      expect(
        (
          await http
            .get(`${API}/model-versions/search`)
            .query({ filter: "name = 'red-wine'" })
            .expect(200)
        ).body.model_versions.map((v: any) => v.version),
      ).toEqual(['3', '1']);
      expectError(
        await http.get(`${API}/registered-models/get`).query({ name: 'wine' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      await http
        .post(`${API}/registered-models/create`)
        .send({ name: 'white-wine' })
        .expect(200);
      expectError(
        await http
          .post(`${API}/registered-models/rename`)
          .send({ name: 'red-wine', new_name: 'white-wine' }),
        400,
        'RESOURCE_ALREADY_EXISTS',
      );
      await http
        .delete(`${API}/registered-models/delete`)
        .send({ name: 'red-wine' })
        .expect(200);
      expectError(
        await http
          .get(`${API}/registered-models/get`)
          .query({ name: 'red-wine' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      const actions = (
        await http
          .get('/api/mlops/audit')
          .query({ entityRef: 'model:default/wine' })
          .expect(200)
      ).body.items.map((e: any) => e.action);
      expect(actions.slice(0, 2)).toEqual([
        'registry.model.delete',
        'registry.model.rename',
      ]);
    }, 120_000); // a whole backend on a shared machine

    it('refuses a registered model with no catalog Model, naming both ways to attach it', async () => {
      const http = await start();
      const unclaimed = await http
        .post(`${API}/registered-models/create`)
        .send({ name: 'unclaimed', tags: [{ key: 'team', value: 'ml' }] });
      expectError(unclaimed, 400, 'INVALID_PARAMETER_VALUE');
      expect(unclaimed.body.message).toContain('model:default/unclaimed');
      expect(unclaimed.body.message).toContain(
        "add a Model entity named 'unclaimed'",
      );
      expect(unclaimed.body.message).toContain('loopline.dev/entity-ref');
      expectError(
        await http
          .get(`${API}/registered-models/get`)
          .query({ name: 'unclaimed' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      // A tag naming a Model the catalog lacks is refused the same way ...
      expectError(
        await http.post(`${API}/registered-models/create`).send({
          name: 'unclaimed',
          tags: [
            { key: 'loopline.dev/entity-ref', value: 'model:default/nope' },
          ],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      // ... and a tag naming an existing Model attaches the model to it.
      const attached = await http
        .post(`${API}/registered-models/create`)
        .send({
          name: 'unclaimed',
          tags: [
            { key: 'loopline.dev/entity-ref', value: 'model:default/wine' },
          ],
        })
        .expect(200);
      expect(attached.body.registered_model.name).toBe('unclaimed');
      expect(
        (await http.get('/api/mlops/registry/models/unclaimed').expect(200))
          .body.entityRef,
      ).toBe('model:default/wine');
      expect(await knex('registry_models').pluck('name')).toEqual([
        'unclaimed',
      ]);
    });

    it('renames experiments as MLflow does', async () => {
      const http = await start();
      const id = (
        await http
          .post(`${API}/experiments/create`)
          .send({ name: 'a' })
          .expect(200)
      ).body.experiment_id;
      await http
        .post(`${API}/experiments/create`)
        .send({ name: 'b' })
        .expect(200);
      await http
        .post(`${API}/experiments/update`)
        .send({ experiment_id: id, new_name: 'a2' })
        .expect(200);
      expect(
        (await http.get(`${API}/experiments/get`).query({ experiment_id: id }))
          .body.experiment.name,
      ).toBe('a2');
      expectError(
        await http
          .post(`${API}/experiments/update`)
          .send({ experiment_id: id, new_name: 'b' }),
        400,
        'RESOURCE_ALREADY_EXISTS',
      );
      expectError(
        await http
          .post(`${API}/experiments/update`)
          .send({ experiment_id: id }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      await http
        .post(`${API}/experiments/delete`)
        .send({ experiment_id: id })
        .expect(200);
      expectError(
        await http
          .post(`${API}/experiments/update`)
          .send({ experiment_id: id, new_name: 'a3' }),
        409,
        'INVALID_STATE',
      );
    });

    it('needs the version-create permission to delete', async () => {
      const http = await start(AuthorizeResult.DENY);
      // The model exists (created straight in the database: creating is denied too).
      await knex('registry_models').insert({
        name: 'wine',
        entity_ref: 'model:default/wine',
        description: '',
        created_at: 1,
        updated_at: 1,
      });
      expectError(
        await http
          .delete(`${API}/registered-models/delete`)
          .send({ name: 'wine' }),
        403,
        'PERMISSION_DENIED',
      );
      expectError(
        await http
          .delete(`${API}/model-versions/delete`)
          .send({ name: 'wine', version: '1' }),
        403,
        'PERMISSION_DENIED',
      );
      expect(
        await knex('registry_models').where({ name: 'wine' }),
      ).toHaveLength(1);
    });
  },
);
