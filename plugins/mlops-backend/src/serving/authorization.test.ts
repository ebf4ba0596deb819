import { mockCredentials } from '@backstage/backend-test-utils';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  mlopsEntityReadPermission,
  modelInvokePermission,
} from '@loopline/mlops-common';
import { PermissionDecisionCache, principalKey } from './authorization';

function setup(allowed: (principal: string, ref: string) => boolean) {
  let now = 0;
  const authorize = jest.fn(async (requests: any[], options: any) =>
    requests.map(r => ({
      result: allowed(principalKey(options.credentials), r.resourceRef)
        ? AuthorizeResult.ALLOW
        : AuthorizeResult.DENY,
    })),
  );
  const permissions = {
    authorize,
    authorizeConditional: jest.fn(),
  } as unknown as PermissionsService;
  const cache = new PermissionDecisionCache({
    permissions,
    ttlMs: 5000,
    clock: () => now,
  });
  return { cache, authorize, advance: (ms: number) => void (now += ms) };
}

const alice = mockCredentials.user('user:default/alice');
const bob = mockCredentials.user('user:default/bob');
const ci = mockCredentials.service('external:ci');

describe('PermissionDecisionCache', () => {
  it('asks the policy once per caller, permission and entity within the TTL', async () => {
    const { cache, authorize, advance } = setup(
      p => p !== 'user:user:default/bob',
    );
    await Promise.all(
      Array.from({ length: 50 }, () =>
        cache.authorize(modelInvokePermission, 'model:default/wine', alice),
      ),
    );
    expect(authorize).toHaveBeenCalledTimes(1);
    await expect(
      cache.authorize(modelInvokePermission, 'model:default/wine', bob),
    ).rejects.toThrow(
      'You are not allowed to loopline.model.invoke on model:default/wine',
    );
    await expect(
      cache.authorize(modelInvokePermission, 'model:default/wine', bob),
    ).rejects.toThrow();
    await cache.authorize(modelInvokePermission, 'model:default/wine', ci);
    await cache.authorize(
      mlopsEntityReadPermission,
      'model:default/wine',
      alice,
    );
    await cache.authorize(modelInvokePermission, 'model:default/churn', alice);
    expect(authorize).toHaveBeenCalledTimes(5);
    advance(5001);
    await cache.authorize(modelInvokePermission, 'model:default/wine', alice);
    expect(authorize).toHaveBeenCalledTimes(6);
  });

  it('does not keep a failed policy call', async () => {
    const { cache, authorize } = setup(() => true);
    authorize.mockRejectedValueOnce(new Error('permission backend down'));
    await expect(
      cache.authorize(modelInvokePermission, 'model:default/wine', alice),
    ).rejects.toThrow('permission backend down');
    await cache.authorize(modelInvokePermission, 'model:default/wine', alice);
    expect(authorize).toHaveBeenCalledTimes(2);
  });

  it('filters many entities with one policy call, reusing cached decisions', async () => {
    const { cache, authorize } = setup((_p, ref) => ref !== 'model:default/b');
    await cache.authorize(modelInvokePermission, 'model:default/a', alice);
    const allowed = await cache.filterAllowed(
      modelInvokePermission,
      [
        'model:default/a',
        'model:default/b',
        'model:default/c',
        'model:default/c',
      ],
      alice,
    );
    expect([...allowed].sort()).toEqual(['model:default/a', 'model:default/c']);
    expect(authorize).toHaveBeenCalledTimes(2);
    expect(authorize.mock.calls[1][0].map((r: any) => r.resourceRef)).toEqual([
      'model:default/b',
      'model:default/c',
    ]);
    expect(await cache.filterAllowed(modelInvokePermission, [], alice)).toEqual(
      new Set(),
    );
  });
});
