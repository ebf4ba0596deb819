import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { LooplinePermissionPolicy } from './LooplinePermissionPolicy';

/** Installs {@link LooplinePermissionPolicy} in the permission backend. */
export const permissionModuleLooplinePolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'loopline-policy',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        policy: policyExtensionPoint,
      },
      async init({ config, policy }) {
        policy.setPolicy(
          new LooplinePermissionPolicy({
            platformGroups:
              config.getOptionalStringArray(
                'loopline.permission.platformGroups',
              ) ?? [],
          }),
        );
      },
    });
  },
});
