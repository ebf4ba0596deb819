import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { createScaffolderFieldExtension } from '@backstage/plugin-scaffolder-react';
import { mlopsApiRef, MlopsClient } from './api';
import {
  TargetColumnPicker,
  validateTargetColumn,
} from './components/TargetColumnPicker';
import { NamePicker, validateName } from './components/NamePicker';
import { rootRouteRef } from './routes';

/** Loopline's frontend plugin: the ML overview page and the ML entity cards. */
export const mlopsPlugin = createPlugin({
  id: 'mlops',
  apis: [
    createApiFactory({
      api: mlopsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new MlopsClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: {
    root: rootRouteRef,
  },
});

/** The ML overview page: counts and a filterable list of ML entities. */
export const MlopsPage = mlopsPlugin.provide(
  createRoutableExtension({
    name: 'MlopsPage',
    component: () => import('./components/MlopsPage').then(m => m.MlopsPage),
    mountPoint: rootRouteRef,
  }),
);

/** The spec of the current Model, Dataset or Pipeline. */
export const EntityMlopsOverviewCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityMlopsOverviewCard',
    component: {
      lazy: () =>
        import('./components/EntityMlopsOverviewCard').then(
          m => m.EntityMlopsOverviewCard,
        ),
    },
  }),
);

/** The current entity's relations, grouped by relation. */
export const EntityMlopsRelationsCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityMlopsRelationsCard',
    component: {
      lazy: () =>
        import('./components/EntityMlopsRelationsCard').then(
          m => m.EntityMlopsRelationsCard,
        ),
    },
  }),
);

/** The catalog graph around the current entity, following ML relations. */
export const EntityMlopsGraphCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityMlopsGraphCard',
    component: {
      lazy: () =>
        import('./components/EntityMlopsGraphCard').then(
          m => m.EntityMlopsGraphCard,
        ),
    },
  }),
);

/** The Models the current entity depends on. */
export const EntityDependsOnModelsCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityDependsOnModelsCard',
    component: {
      lazy: () =>
        import('./components/EntityDependsOnModelsCard').then(
          m => m.EntityDependsOnModelsCard,
        ),
    },
  }),
);

/** The Models whose drift is measured against the current Dataset. */
export const EntityDatasetMonitorsCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityDatasetMonitorsCard',
    component: {
      lazy: () =>
        import('./components/EntityDatasetMonitorsCard').then(
          m => m.EntityDatasetMonitorsCard,
        ),
    },
  }),
);

/** The current entity's audit trail. */
export const EntityMlopsAuditCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityMlopsAuditCard',
    component: {
      lazy: () =>
        import('./components/EntityMlopsAuditCard').then(
          m => m.EntityMlopsAuditCard,
        ),
    },
  }),
);

/**
 * The current Model's registered versions (stage, aliases, metrics,
 * signature), stage and alias actions for those allowed, and their history.
 */
export const EntityModelVersionsContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityModelVersionsContent',
    component: {
      lazy: () =>
        import('./components/EntityModelVersionsContent').then(
          m => m.EntityModelVersionsContent,
        ),
    },
  }),
);

/** The current Model's runs, and a chart comparing their metric histories. */
export const EntityModelExperimentsContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityModelExperimentsContent',
    component: {
      lazy: () =>
        import('./components/EntityModelExperimentsContent').then(
          m => m.EntityModelExperimentsContent,
        ),
    },
  }),
);

/**
 * How the current Model is served: the version requests go to and why, live
 * request rate, error rate and latency percentiles, and a form to try it
 * (with the equivalent Open Inference Protocol request as a curl command).
 */
export const EntityModelServingCard = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityModelServingCard',
    component: {
      lazy: () =>
        import('./components/EntityModelServingCard').then(
          m => m.EntityModelServingCard,
        ),
    },
  }),
);

/**
 * The current Model's deployments per environment: stable and candidate
 * versions, traffic split, steps, SLO analyses and timeline, refreshed as
 * rollouts advance; and, for those allowed, the rollout controls.
 */
export const EntityModelDeploymentsContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityModelDeploymentsContent',
    component: {
      lazy: () =>
        import('./components/EntityModelDeploymentsContent').then(
          m => m.EntityModelDeploymentsContent,
        ),
    },
  }),
);

/**
 * A Model's Drift tab: the latest drift report per feature, scores over time,
 * reference-vs-current distributions, quality against ground truth with its
 * SLO and change points, and "Run now" for those allowed.
 *
 * @public
 */
export const EntityModelDriftContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityModelDriftContent',
    component: {
      lazy: () =>
        import('./components/EntityModelDriftContent').then(
          m => m.EntityModelDriftContent,
        ),
    },
  }),
);

/**
 * The current Pipeline's runs: trigger, state and duration, the next
 * scheduled time, "Run" with its parameters for those allowed, and each
 * run's steps, outputs and live log.
 */
export const EntityPipelineRunsContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityPipelineRunsContent',
    component: {
      lazy: () =>
        import('./components/EntityPipelineRunsContent').then(
          m => m.EntityPipelineRunsContent,
        ),
    },
  }),
);

/**
 * The Data docs tab of a Dataset: the latest validation of its expectations
 * on its data, expectation by expectation, and the history of validations.
 */
export const EntityDatasetDataDocsContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityDatasetDataDocsContent',
    component: {
      lazy: () =>
        import('./components/EntityDatasetDataDocsContent').then(
          m => m.EntityDatasetDataDocsContent,
        ),
    },
  }),
);

/**
 * The Lineage tab of a Model, Dataset or Pipeline: the OpenLineage graph
 * around it, a side panel per node, column lineage, impact analysis, and a
 * Dataset's versions.
 */
export const EntityLineageContent = mlopsPlugin.provide(
  createComponentExtension({
    name: 'EntityLineageContent',
    component: {
      lazy: () =>
        import('./components/EntityLineageContent').then(
          m => m.EntityLineageContent,
        ),
    },
  }),
);

/**
 * The scaffolder form field `MlopsTargetColumnPicker`: the target column of
 * a new model, from the schema of the Dataset picked in the same form
 * (`ui:options.datasetField`, default `dataset`). Add it inside the
 * ScaffolderPage's `<ScaffolderFieldExtensions>`.
 */
export const MlopsTargetColumnPickerFieldExtension = mlopsPlugin.provide(
  createScaffolderFieldExtension({
    name: 'MlopsTargetColumnPicker',
    component: TargetColumnPicker,
    validation: validateTargetColumn,
  }),
);

/**
 * The scaffolder form field `MlopsNamePicker`: the name of a new project,
 * refused while taken by an entity the template would create
 * (`ui:options.entityRefs`) or, with `registeredModel`, a registered model.
 */
export const MlopsNamePickerFieldExtension = mlopsPlugin.provide(
  createScaffolderFieldExtension({
    name: 'MlopsNamePicker',
    component: NamePicker,
    validation: validateName,
  }),
);
