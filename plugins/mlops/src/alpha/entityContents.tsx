import { isKind } from '@backstage/plugin-catalog';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';

const isModel = isKind('model');
const isPipeline = isKind('pipeline');
const hasLineage = isKind(['model', 'dataset', 'pipeline']);

/**
 * The ML tabs of a Model's, Dataset's and Pipeline's page after the catalog's
 * Overview, in order. A new domain's tab is one more entry here.
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
  EntityContentBlueprint.make({
    name: 'model-drift',
    params: {
      path: '/drift',
      title: 'Drift',
      filter: isModel,
      loader: () =>
        import('../components/EntityModelDriftContent').then(m => (
          <m.EntityModelDriftContent />
        )),
    },
  }),
  EntityContentBlueprint.make({
    name: 'pipeline-runs',
    params: {
      path: '/runs',
      title: 'Runs',
      filter: isPipeline,
      loader: () =>
        import('../components/EntityPipelineRunsContent').then(m => (
          <m.EntityPipelineRunsContent />
        )),
    },
  }),
  EntityContentBlueprint.make({
    name: 'lineage',
    params: {
      path: '/lineage',
      title: 'Lineage',
      filter: hasLineage,
      loader: () =>
        import('../components/EntityLineageContent').then(m => (
          <m.EntityLineageContent />
        )),
    },
  }),
];
