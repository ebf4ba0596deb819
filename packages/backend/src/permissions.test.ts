import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import mlopsCatalogModule from '@loopline/plugin-catalog-backend-module-mlops';
import mlopsPlugin from '@loopline/plugin-mlops-backend';
import {
  mlopsEntityReadPermission,
  modelStageTransitionPermission,
  pipelineRunPermission,
} from '@loopline/mlops-common';
import {
  authModuleDemoProvider,
  DEMO_USER_HEADER,
} from './modules/demoAuthProvider';
import { permissionModuleLooplinePolicy } from './modules/permissionPolicy';

jest.setTimeout(120_000);

const artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-policy-'));
afterAll(() => fs.rmSync(artifactDir, { recursive: true, force: true }));

/**
 * The whole chain with real tokens: the demo users sign in through the demo
 * auth provider (their groups come from the catalog), the permission backend
 * asks the Loopline policy, and the catalog applies its ownership conditions.
 */
describe('the demo policy, through the permission and catalog backends', () => {
  let server: Awaited<ReturnType<typeof startTestBackend>>['server'];

  const tokens: Record<string, string> = {};

  async function poll<T>(what: string, probe: () => Promise<T | undefined>) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline)
        throw new Error(`Timed out waiting for ${what}`);
      await new Promise(r => setTimeout(r, 250));
    }
  }

  async function signIn(name: string): Promise<string> {
    return poll(`${name} to sign in`, async () => {
      const res = await request(server)
        .get('/api/auth/demo/refresh')
        .set(DEMO_USER_HEADER, name);
      return res.status === 200
        ? (res.body.backstageIdentity.token as string)
        : undefined;
    });
  }

  beforeAll(async () => {
    ({ server } = await startTestBackend({
      features: [
        authServiceFactory,
        httpAuthServiceFactory,
        userInfoServiceFactory,
        authPlugin,
        authModuleDemoProvider,
        catalogPlugin,
        mlopsCatalogModule,
        permissionPlugin,
        permissionModuleLooplinePolicy,
        mlopsPlugin,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            auth: { environment: 'development', providers: { demo: {} } },
            permission: { enabled: true },
            loopline: {
              permission: { platformGroups: ['group:default/ml-platform'] },
            },
            mlops: {
              demo: { seed: true },
              artifacts: { directory: artifactDir },
            },
            catalog: {
              rules: [
                {
                  allow: [
                    'Component',
                    'System',
                    'Group',
                    'User',
                    'Location',
                    'Model',
                    'Dataset',
                    'Pipeline',
                  ],
                },
              ],
              locations: [
                {
                  type: 'file',
                  target: path.resolve(
                    __dirname,
                    '../../../examples/catalog.yaml',
                  ),
                },
              ],
            },
          },
        }),
      ],
    }));
    for (const name of ['alice', 'carol', 'pat']) {
      tokens[name] = await signIn(name);
    }
    // Conditions are applied to catalog entities, so wait for the demo to be in.
    await poll('the demo catalog', async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/pipeline/default/churn-training')
        .set('Authorization', `Bearer ${tokens.alice}`);
      return res.status === 200 && res.body.relations?.length
        ? true
        : undefined;
    });
  });

  async function decide(name: string, permission: object, resourceRef: string) {
    const res = await request(server)
      .post('/api/permission/authorize')
      .set('Authorization', `Bearer ${tokens[name]}`)
      .send({ items: [{ id: '1', permission, resourceRef }] });
    expect(res.status).toBe(200);
    return res.body.items[0].result;
  }

  it.each(
    [
      [
        'alice',
        'owner through wine-science',
        modelStageTransitionPermission,
        'model:default/wine-quality',
        'ALLOW',
      ],
      [
        'carol',
        'not an owner',
        modelStageTransitionPermission,
        'model:default/wine-quality',
        'DENY',
      ],
      [
        'carol',
        'owner through customer-insights',
        pipelineRunPermission,
        'pipeline:default/churn-training',
        'ALLOW',
      ],
      [
        'alice',
        'not an owner',
        pipelineRunPermission,
        'pipeline:default/churn-training',
        'DENY',
      ],
      [
        'pat',
        'platform group',
        modelStageTransitionPermission,
        'model:default/customer-churn',
        'ALLOW',
      ],
      [
        'carol',
        'everyone reads',
        mlopsEntityReadPermission,
        'model:default/wine-quality',
        'ALLOW',
      ],
      [
        'alice',
        'no such entity',
        modelStageTransitionPermission,
        'model:default/no-such-model',
        'DENY',
      ],
    ].map(([name, why, permission, ref, expected]) => ({
      name,
      why,
      permission,
      ref,
      expected,
    })),
  )(
    '$name ($why): $permission.name on $ref is $expected',
    async ({ name, permission, ref, expected }) => {
      await expect(
        decide(name as string, permission as object, ref as string),
      ).resolves.toBe(expected);
    },
  );

  it('applies the policy to the mlops routes too', async () => {
    const res = await request(server)
      .get('/api/mlops/audit')
      .query({ entityRef: 'model:default/wine-quality' })
      .set('Authorization', `Bearer ${tokens.carol}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(expect.any(Array));
  });

  it('lets an owner move a demo version to Production with a comment, and not a non-owner', async () => {
    const versionsUrl = '/api/mlops/registry/models/wine-quality/versions';
    // The demo versions are trained and registered just after startup.
    const versions = await poll('the seeded demo versions', async () => {
      const res = await request(server)
        .get(versionsUrl)
        .set('Authorization', `Bearer ${tokens.carol}`);
      return res.status === 200 && res.body.items.length >= 2
        ? (res.body.items as Array<{ version: number; stage: string }>)
        : undefined;
    });
    const staging = versions.find(v => v.stage === 'Staging')!;
    expect(versions.find(v => v.stage === 'Production')).toBeDefined();

    const denied = await request(server)
      .post(`${versionsUrl}/${staging.version}/stage`)
      .set('Authorization', `Bearer ${tokens.carol}`)
      .send({ stage: 'Production', comment: 'not mine to promote' });
    expect(denied.status).toBe(403);

    const promoted = await request(server)
      .post(`${versionsUrl}/${staging.version}/stage`)
      .set('Authorization', `Bearer ${tokens.alice}`)
      .send({
        stage: 'Production',
        comment: 'rmse better on the holdout',
        archiveExistingVersions: true,
      });
    expect(promoted.status).toBe(200);
    expect(promoted.body.stage).toBe('Production');

    const audit = await request(server)
      .get('/api/mlops/audit')
      .query({ entityRef: 'model:default/wine-quality' })
      .set('Authorization', `Bearer ${tokens.carol}`);
    expect(audit.body.items[0]).toMatchObject({
      actor: 'user:default/alice',
      comment: 'rmse better on the holdout',
    });
    expect(JSON.stringify(audit.body.items)).not.toContain('not mine to promote');
  });
});
