import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { LOOPLINE_API_VERSION, MODEL_KIND } from '@loopline/mlops-common';

/** A minimal Model entity, as the catalog would hold it. */
export function modelEntity(name: string, namespace = 'default'): Entity {
  return {
    apiVersion: LOOPLINE_API_VERSION,
    kind: MODEL_KIND,
    metadata: { name, namespace },
    spec: {
      type: 'regression',
      owner: 'group:default/ml',
      lifecycle: 'production',
    },
  };
}

/**
 * The catalog of a plugin-level test: a Model entity for each name, so that
 * MLflow's `registered-models/create` finds the Model it belongs to.
 */
export function mockModelCatalog(...names: string[]) {
  return catalogServiceMock.factory({
    entities: names.map(name => modelEntity(name)),
  });
}
