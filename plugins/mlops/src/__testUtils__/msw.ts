import { discoveryApiRef } from '@backstage/core-plugin-api';
import { mockApis, MockFetchApi } from '@backstage/test-utils';
import type { PermissionApi } from '@backstage/plugin-permission-react';
import { MlopsClient } from '../api';

/** Where the test backend answers the mlops plugin's routes (for msw). */
export const mlopsBaseUrl = 'http://backstage.test/api/mlops';

const discoveryApi = mockApis.discovery({ baseUrl: 'http://backstage.test' });

/** The real client, talking to msw handlers at {@link mlopsBaseUrl}. */
export function mswMlopsClient(): MlopsClient {
  return new MlopsClient({ discoveryApi, fetchApi: new MockFetchApi() });
}

/** The discovery API pair for `renderInCatalog`'s `apis`, matching msw's URL. */
export const discoveryApiPair = [discoveryApiRef, discoveryApi] as const;

type Decision = Awaited<ReturnType<PermissionApi['authorize']>>;

/**
 * A permission API that allows the permissions named (by their `name`) and
 * denies the others, recording what it was asked.
 */
export function fakePermissionApi(allowed: ReadonlyArray<string> = []) {
  return {
    authorize: jest.fn(
      async (request: Parameters<PermissionApi['authorize']>[0]) =>
        // AuthorizeResult's values, without importing its package here.
        ({
          result: allowed.includes(request.permission.name) ? 'ALLOW' : 'DENY',
        } as unknown as Decision),
    ),
  } satisfies PermissionApi;
}
