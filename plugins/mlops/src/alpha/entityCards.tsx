import { isKind } from '@backstage/plugin-catalog';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';

const isMlEntity = isKind(['model', 'dataset', 'pipeline']);
const isModel = isKind('model');

/**
 * The cards of the ML entities' Overview tab (the catalog's), and the Models
 * a Component depends on.
 */
export const mlopsEntityCards = [
  EntityCardBlueprint.make({
    name: 'overview',
    params: {
      filter: isMlEntity,
      type: 'content',
      loader: () =>
        import('../components/EntityMlopsOverviewCard').then(m => (
          <m.EntityMlopsOverviewCard />
        )),
    },
  }),
  EntityCardBlueprint.make({
    name: 'graph',
    params: {
      filter: isMlEntity,
      type: 'content',
      loader: () =>
        import('../components/EntityMlopsGraphCard').then(m => (
          <m.EntityMlopsGraphCard height={400} />
        )),
    },
  }),
  EntityCardBlueprint.make({
    name: 'relations',
    params: {
      filter: isMlEntity,
      type: 'info',
      loader: () =>
        import('../components/EntityMlopsRelationsCard').then(m => (
          <m.EntityMlopsRelationsCard />
        )),
    },
  }),
  EntityCardBlueprint.make({
    name: 'serving',
    params: {
      filter: isModel,
      type: 'content',
      loader: () =>
        import('../components/EntityModelServingCard').then(m => (
          <m.EntityModelServingCard />
        )),
    },
  }),
  EntityCardBlueprint.make({
    name: 'audit',
    params: {
      filter: isModel,
      type: 'content',
      loader: () =>
        import('../components/EntityMlopsAuditCard').then(m => (
          <m.EntityMlopsAuditCard />
        )),
    },
  }),
  EntityCardBlueprint.make({
    name: 'depends-on-models',
    params: {
      filter: isKind('component'),
      type: 'content',
      loader: () =>
        import('../components/EntityDependsOnModelsCard').then(m => (
          <m.EntityDependsOnModelsCard />
        )),
    },
  }),
  EntityCardBlueprint.make({
    name: 'dataset-monitors',
    params: {
      filter: isKind('dataset'),
      type: 'content',
      loader: () =>
        import('../components/EntityDatasetMonitorsCard').then(m => (
          <m.EntityDatasetMonitorsCard />
        )),
    },
  }),
];
