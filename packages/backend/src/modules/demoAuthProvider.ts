import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { AuthenticationError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';

/** The header the demo sign-in page sends with the chosen user's name. */
export const DEMO_USER_HEADER = 'x-loopline-demo-user';

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/**
 * Lets the demo portal act as any User of the catalog, so permissions can be
 * seen at work. It trusts a header, so it is enabled only where
 * `auth.providers.demo` is configured and `auth.environment` is
 * `development` (the embedded demo), never in production.
 */
const demoAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async (result: { userName: string }) => ({
    profile: { displayName: result.userName },
  }),
  initialize() {},
  async authenticate({ req }) {
    const userName = req.header(DEMO_USER_HEADER);
    if (!userName || !USER_NAME.test(userName)) {
      throw new AuthenticationError(
        `Demo sign-in needs the ${DEMO_USER_HEADER} header naming a catalog User`,
      );
    }
    return { result: { userName } };
  },
});

export const authModuleDemoProvider = createBackendModule({
  pluginId: 'auth',
  moduleId: 'demo-provider',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        providers: authProvidersExtensionPoint,
      },
      async init({ config, logger, providers }) {
        const environment =
          config.getOptionalString('auth.environment') ?? 'development';
        if (environment !== 'development') {
          logger.info(
            `Demo sign-in disabled: auth.environment is ${environment}`,
          );
          return;
        }
        providers.registerProvider({
          providerId: 'demo',
          factory: createProxyAuthProviderFactory({
            authenticator: demoAuthenticator,
            // Sign in as the catalog User of that name, with the groups the
            // catalog gives it; unknown names are refused.
            async signInResolver({ result }, ctx) {
              return ctx.signInWithCatalogUser({
                entityRef: { name: result.userName },
              });
            },
          }),
        });
      },
    });
  },
});
