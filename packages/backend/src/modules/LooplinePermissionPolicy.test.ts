import { mockCredentials } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import { taskCreatePermission } from '@backstage/plugin-scaffolder-common/alpha';
import {
  mlopsEntityReadPermission,
  mlopsPermissions,
  modelInvokePermission,
  modelStageTransitionPermission,
  pipelineRunPermission,
} from '@loopline/mlops-common';
import { LooplinePermissionPolicy } from './LooplinePermissionPolicy';

const policy = new LooplinePermissionPolicy({
  platformGroups: ['group:default/ML-Platform'],
});

function user(name: string, groups: string[]) {
  const userEntityRef = `user:default/${name}`;
  return {
    credentials: mockCredentials.user(userEntityRef),
    info: {
      userEntityRef,
      ownershipEntityRefs: [
        userEntityRef,
        ...groups.map(g => `group:default/${g}`),
      ],
    },
  };
}

const alice = user('alice', ['wine-science']);
const pat = user('pat', ['ml-platform']);

describe('LooplinePermissionPolicy', () => {
  it('lets platform group members do everything, whatever the case of the configured ref', async () => {
    for (const permission of [
      ...mlopsPermissions,
      catalogEntityDeletePermission,
      catalogLocationDeletePermission,
    ]) {
      await expect(policy.handle({ permission }, pat)).resolves.toEqual({
        result: AuthorizeResult.ALLOW,
      });
    }
  });

  it('lets everyone signed in read, invoke models, scaffold and register entities', async () => {
    for (const permission of [
      catalogEntityReadPermission,
      mlopsEntityReadPermission,
      modelInvokePermission,
      taskCreatePermission,
      catalogLocationCreatePermission,
    ]) {
      await expect(policy.handle({ permission }, alice)).resolves.toEqual({
        result: AuthorizeResult.ALLOW,
      });
    }
  });

  it.each([
    modelStageTransitionPermission,
    pipelineRunPermission,
    catalogEntityDeletePermission,
  ])('leaves $name to the entity owners', async permission => {
    await expect(policy.handle({ permission }, alice)).resolves.toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: {
          claims: ['user:default/alice', 'group:default/wine-science'],
        },
      },
    });
  });

  it('denies what no rule grants, and anonymous requests', async () => {
    const unknown = createPermission({
      name: 'other.thing.delete',
      attributes: { action: 'delete' },
    });
    await expect(
      policy.handle({ permission: unknown }, alice),
    ).resolves.toEqual({
      result: AuthorizeResult.DENY,
    });
    await expect(
      policy.handle({ permission: catalogLocationDeletePermission }, alice),
    ).resolves.toEqual({ result: AuthorizeResult.DENY });
    await expect(
      policy.handle({ permission: catalogEntityReadPermission }, undefined),
    ).resolves.toEqual({ result: AuthorizeResult.DENY });
  });

  it('grants nothing extra when no platform group is configured', async () => {
    const strict = new LooplinePermissionPolicy({ platformGroups: [] });
    await expect(
      strict.handle({ permission: catalogLocationDeletePermission }, pat),
    ).resolves.toEqual({ result: AuthorizeResult.DENY });
  });
});
