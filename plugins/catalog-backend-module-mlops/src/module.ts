import { createBackendModule } from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { MlopsEntitiesProcessor } from './processor';

/**
 * Adds Loopline's Model, Dataset and Pipeline kinds to the catalog.
 *
 * @public
 */
export const catalogModuleMlopsEntityModel = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'mlops-entity-model',
  register(env) {
    env.registerInit({
      deps: { catalog: catalogProcessingExtensionPoint },
      async init({ catalog }) {
        catalog.addProcessor(new MlopsEntitiesProcessor());
      },
    });
  },
});
