import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { Request } from 'express';
import { createRequestAuth } from './http';

const readPermission = createPermission({
  name: 'test.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

const models: Record<string, { name: string; entityRef: string }> = {
  wine: { name: 'wine', entityRef: 'model:default/wine' },
};

function setup(allowed: string[]) {
  const httpAuth = mockServices.httpAuth({
    defaultCredentials: mockCredentials.user('user:default/alice'),
  });
  const verify = jest.spyOn(httpAuth, 'credentials');
  const asked: string[] = [];
  const auth = createRequestAuth({
    httpAuth,
    permissions: {
      authorize: async requests =>
        requests.map(r => {
          const ref = (r as { resourceRef: string }).resourceRef;
          asked.push(ref);
          return {
            result: allowed.includes(ref)
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
          };
        }),
      authorizeConditional: async () => [],
    },
    getModel: async name => {
      const model = models[name];
      if (!model) throw new NotFoundError(`No model ${name}`);
      return model;
    },
  });
  return { auth, verify, asked };
}

const request = (params: Record<string, string> = {}) =>
  ({ params, headers: {} } as unknown as Request);

describe('createRequestAuth', () => {
  it('looks up the model named in the path, then authorizes on its entity', async () => {
    const { auth, asked } = setup(['model:default/wine']);
    const { model, credentials } = await auth.authorizedModel(
      request({ name: 'wine' }),
      readPermission,
    );
    expect(model).toBe(models.wine);
    expect(credentials.principal).toEqual(
      expect.objectContaining({ userEntityRef: 'user:default/alice' }),
    );
    expect(asked).toEqual(['model:default/wine']);
  });

  it('takes the name from the body when given', async () => {
    const { auth } = setup(['model:default/wine']);
    const { model } = await auth.authorizedModel(
      request(),
      readPermission,
      'wine',
    );
    expect(model.name).toBe('wine');
  });

  it('refuses with 403 when the policy denies, and 404 for an unknown model', async () => {
    const { auth, asked } = setup([]);
    await expect(
      auth.authorizedModel(request({ name: 'wine' }), readPermission),
    ).rejects.toThrow(
      new NotAllowedError(
        'You are not allowed to test.read on model:default/wine',
      ),
    );
    await expect(
      auth.authorizedModel(request({ name: 'nope' }), readPermission),
    ).rejects.toThrow(NotFoundError);
    expect(asked).toEqual(['model:default/wine']);
  });

  it('hands services an authorizer bound to the permission and the caller', async () => {
    const { auth, asked } = setup(['model:default/a']);
    const { authorize } = await auth.entityAuthorizer(
      request(),
      readPermission,
    );
    await expect(authorize('model:default/a')).resolves.toBeUndefined();
    await expect(authorize('model:default/b')).rejects.toThrow(NotAllowedError);
    expect(asked).toEqual(['model:default/a', 'model:default/b']);
  });

  it('verifies the credentials of a request once', async () => {
    const { auth, verify } = setup(['model:default/wine']);
    const req = request({ name: 'wine' });
    const credentials = await auth.credentialsOf(req);
    await auth.authorizedModel(req, readPermission);
    await auth.authorize(credentials, readPermission, 'model:default/wine');
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await auth.isAllowed(credentials, readPermission, 'x:y/z')).toBe(
      false,
    );
  });
});
