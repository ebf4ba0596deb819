import {
  BackstageCredentials,
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  KSERVE_LOGGER_PATH,
  mlopsServiceRef,
  readKServeConfig,
  readRolloutConfig,
} from '@loopline/plugin-mlops-backend';
import {
  createCreateExperimentAction,
  createCreateRegisteredModelAction,
  createDescribeTokenAction,
  createRenderServingManifestsAction,
  createPublishLocalAction,
  createValidateEntitiesAction,
  newModelAuthorizer,
} from './actions';
import {
  createLocalGitRouter,
  LocalGitRepositories,
  readLocalGitConfig,
} from './localGit';

/**
 * The scaffolder's `mlops:*` actions. They call Loopline's registry and
 * tracking in process through `mlopsServiceRef` (so the mlops plugin must
 * run in the same backend), as the template's user.
 *
 * @public
 */
export const scaffolderModuleMlops = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'mlops',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        discovery: coreServices.discovery,
        permissions: coreServices.permissions,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        catalog: catalogServiceRef,
        mlops: mlopsServiceRef,
      },
      async init({
        scaffolder,
        config,
        discovery,
        permissions,
        httpAuth,
        httpRouter,
        catalog,
        mlops,
      }) {
        const mlopsBaseUrl = () => discovery.getExternalBaseUrl('mlops');
        const trackingUri = async () => `${await mlopsBaseUrl()}/mlflow`;
        const entityExists = async (
          entityRef: string,
          credentials: BackstageCredentials,
        ) => Boolean(await catalog.getEntityByRef(entityRef, { credentials }));
        scaffolder.addActions(
          createValidateEntitiesAction({
            authorizeNewModel: newModelAuthorizer(permissions),
            entityExists,
            mlops,
          }),
          createCreateRegisteredModelAction({ mlops, entityExists }),
          createCreateExperimentAction({ mlops, trackingUri }),
          createRenderServingManifestsAction({
            defaults: async () => {
              const kserve = readKServeConfig(config);
              const rollout = readRolloutConfig(config);
              return {
                namespace: kserve?.namespace,
                storageUriTemplate: kserve?.storageUriTemplate,
                loggerUrl:
                  kserve?.loggerUrl ??
                  `${await mlopsBaseUrl()}${KSERVE_LOGGER_PATH}`,
                canarySteps: rollout.defaultSteps.canary,
                slo: Object.fromEntries(
                  Object.entries(rollout.defaultSlo).filter(
                    (entry): entry is [string, number] =>
                      entry[1] !== undefined,
                  ),
                ),
              };
            },
          }),
          createDescribeTokenAction({ trackingUri }),
        );

        // The embedded demo publishes to the portal's own git server.
        const localGit = readLocalGitConfig(config);
        if (localGit) {
          const repositories = new LocalGitRepositories(localGit);
          scaffolder.addActions(createPublishLocalAction({ repositories }));
          httpRouter.use(createLocalGitRouter({ httpAuth, repositories }));
        }
      },
    });
  },
});
