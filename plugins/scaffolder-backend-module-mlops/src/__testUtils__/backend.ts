import {
  BackstageCredentials,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import {
  AuthorizePermissionRequest,
  AuthorizeResult,
  QueryPermissionRequest,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import mlopsPlugin, {
  MlopsService,
  mlopsServiceRef,
} from '@loopline/plugin-mlops-backend';

/** The demo's rule for Loopline changes: a Model's owners only. */
export const OWNERSHIP: Record<string, string[]> = {
  'user:default/alice': ['user:default/alice', 'group:default/wine-science'],
  'user:default/bob': ['user:default/bob', 'group:default/customer-insights'],
};

/** The models each group owns, as the catalog would say. */
export const OWNED_MODELS: Record<string, string> = {
  'model:default/wine-new': 'group:default/wine-science',
  'model:default/wine-taken': 'group:default/wine-science',
};

function userOf(credentials: BackstageCredentials): string | undefined {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
  };
  return principal.type === 'user' ? principal.userEntityRef : undefined;
}

/**
 * A permission service that decides as the demo's policy does for Loopline
 * permissions: owners of the Model only (conditional on isEntityOwner);
 * reads for everyone.
 */
export function ownersOnlyPermissions(): PermissionsService {
  return {
    async authorize(requests: AuthorizePermissionRequest[], { credentials }) {
      const claims = OWNERSHIP[userOf(credentials) ?? ''] ?? [];
      return requests.map(({ permission, resourceRef }) => {
        if (permission.attributes.action === 'read') {
          return { result: AuthorizeResult.ALLOW };
        }
        const owner = resourceRef ? OWNED_MODELS[resourceRef] : undefined;
        return {
          result:
            owner && claims.includes(owner)
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
        };
      });
    },
    async authorizeConditional(
      requests: QueryPermissionRequest[],
      { credentials },
    ) {
      const claims = OWNERSHIP[userOf(credentials) ?? ''] ?? [];
      return requests.map(({ permission }) =>
        createCatalogConditionalDecision(
          permission as ResourcePermission<'catalog-entity'>,
          catalogConditions.isEntityOwner({ claims }),
        ),
      ) as any;
    },
  } as PermissionsService;
}

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/**
 * A backend with the real mlops plugin (SQLite) and a probe plugin that
 * receives {@link mlopsServiceRef} as the scaffolder module does.
 */
export async function startMlopsBackend(): Promise<{
  mlops: MlopsService;
  stop: () => Promise<void>;
}> {
  const knex = await databases.init('SQLITE_3');
  let mlops: MlopsService | undefined;
  const probe = createBackendPlugin({
    pluginId: 'probe',
    register(env) {
      env.registerInit({
        deps: { service: mlopsServiceRef },
        async init({ service }) {
          mlops = service;
        },
      });
    },
  });
  const backend = await startTestBackend({
    features: [
      mlopsPlugin,
      probe,
      mockServices.database.factory({ knex }),
      createServiceFactory({
        service: coreServices.permissions,
        deps: {},
        factory: () => ownersOnlyPermissions(),
      }),
    ],
  });
  return { mlops: mlops!, stop: () => backend.stop() };
}
