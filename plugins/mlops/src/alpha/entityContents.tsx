import { isKind } from '@backstage/plugin-catalog';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';

const isModel = isKind('model');

/**
 * The tabs of a Model's page after the catalog's Overview, in order. A new
 * domain's tab is one more entry here.
 */
export const mlopsEntityContents = [
  EntityContentBlueprint.make({
    name: 'model-versions',
    params: {
      path: '/versions',
      title: 'Versions',
      filter: isModel,
      loader: () =>
        import('../components/EntityModelVersionsContent').then(m => (
          <m.EntityModelVersionsContent />
        )),
    },
  }),
  EntityContentBlueprint.make({
    name: 'model-experiments',
    params: {
      path: '/experiments',
      title: 'Experiments',
      filter: isModel,
      loader: () =>
        import('../components/EntityModelExperimentsContent').then(m => (
          <m.EntityModelExperimentsContent />
        )),
    },
  }),
  EntityContentBlueprint.make({
    name: 'model-deployments',
    params: {
      path: '/deployments',
      title: 'Deployments',
      filter: isModel,
      loader: () =>
        import('../components/EntityModelDeploymentsContent').then(m => (
          <m.EntityModelDeploymentsContent />
        )),
    },
  }),
];
