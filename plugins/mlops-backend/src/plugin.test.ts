import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { mlopsPlugin } from './plugin';
import { AuditStore } from './audit';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('mlops backend plugin on %s', databaseId => {
  async function start(
    permissionResult:
      | AuthorizeResult.ALLOW
      | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  ) {
    const knex = await databases.init(databaseId);
    const { server } = await startTestBackend({
      features: [
        mlopsPlugin,
        mockServices.database.factory({ knex }),
        mockServices.permissions.factory({ result: permissionResult }),
      ],
    });
    return { server, knex };
  }

  it('runs its migrations and reports them on /info', async () => {
    const { server } = await start();
    const res = await request(server).get('/api/mlops/info');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      pluginId: 'mlops',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      database: {
        client: databaseId === 'SQLITE_3' ? 'better-sqlite3' : 'pg',
        migrations: [
          '20261122000000_audit_events.js',
          '20261123000100_tracking.js',
          '20261123000200_registry.js',
          '20261123000300_inference_log.js',
          '20261124000100_rollout.js',
          '20261207000100_monitoring.js',
          '20261207000200_lineage.js',
          '20261207000300_logged_models.js',
          '20261207000400_pipelines.js',
          '20261208000100_registry_artifact_folder.js',
          '20261208000400_monitoring_references.js',
          '20261208000500_quality_gates.js',
        ],
      },
      kinds: ['Model', 'Dataset', 'Pipeline'],
    });
    expect(res.body.permissions).toContain('loopline.model.stage.transition');
  });

  it('answers /info to services but not to anonymous callers', async () => {
    const { server } = await start();
    await request(server)
      .get('/api/mlops/info')
      .set('Authorization', mockCredentials.service.header())
      .expect(200);
    const res = await request(server)
      .get('/api/mlops/info')
      .set('Authorization', mockCredentials.none.header());
    expect(res.status).toBe(401);
    expect(res.body.error.name).toBe('AuthenticationError');
  });

  it('reads the audit trail of an entity, normalising its ref', async () => {
    const { server, knex } = await start();
    const store = new AuditStore(knex);
    await store.append({
      entityRef: 'model:default/wine-quality',
      action: 'registry.stage.transition',
      actor: 'user:default/alice',
      comment: 'promote v2',
      details: { version: 2 },
    });

    const res = await request(server)
      .get('/api/mlops/audit')
      .query({ entityRef: 'Model:default/Wine-Quality', limit: 5 });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        entityRef: 'model:default/wine-quality',
        actor: 'user:default/alice',
        comment: 'promote v2',
      }),
    ]);
  });

  it.each([
    [{}, /entityRef: Required/],
    [{ entityRef: 'wine-quality' }, /not an entity reference/],
    [{ entityRef: 'model:default/x', limit: '0' }, /limit/],
    [{ entityRef: 'model:default/x', limit: 'many' }, /limit/],
    [{ entityRef: 'model:default/x', before: '-3' }, /before/],
    [{ entityRef: 'model:default/x', unknown: '1' }, /Unrecognized key/],
  ])('rejects the audit query %j with a 400', async (query, message) => {
    const { server } = await start();
    const res = await request(server).get('/api/mlops/audit').query(query);
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toMatch(message);
  });

  it('refuses the audit trail when the policy denies reading the entity', async () => {
    const { server } = await start(AuthorizeResult.DENY);
    const res = await request(server)
      .get('/api/mlops/audit')
      .query({ entityRef: 'model:default/wine-quality' });
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
  });
});
