import { Grid } from '@material-ui/core';
import {
  EntityAboutCard,
  EntityDependsOnComponentsCard,
  EntityDependsOnResourcesCard,
  EntityHasComponentsCard,
  EntityHasResourcesCard,
  EntityHasSubcomponentsCard,
  EntityHasSystemsCard,
  EntityLayout,
  EntityLinksCard,
  EntitySwitch,
  EntityOrphanWarning,
  EntityProcessingErrorsPanel,
  isKind,
  hasCatalogProcessingErrors,
  isOrphan,
  hasRelationWarnings,
  EntityRelationWarning,
} from '@backstage/plugin-catalog';
import {
  EntityUserProfileCard,
  EntityGroupProfileCard,
  EntityMembersListCard,
  EntityOwnershipCard,
} from '@backstage/plugin-org';
import {
  Direction,
  EntityCatalogGraphCard,
} from '@backstage/plugin-catalog-graph';
import {
  Entity,
  RELATION_DEPENDENCY_OF,
  RELATION_DEPENDS_ON,
  RELATION_HAS_PART,
  RELATION_PART_OF,
} from '@backstage/catalog-model';
import {
  EntityDependsOnModelsCard,
  EntityDatasetMonitorsCard,
  EntityLineageContent,
  EntityMlopsAuditCard,
  EntityMlopsGraphCard,
  EntityMlopsOverviewCard,
  EntityMlopsRelationsCard,
  EntityModelDeploymentsContent,
  EntityModelDriftContent,
  EntityPipelineRunsContent,
  EntityDatasetDataDocsContent,
  EntityModelExperimentsContent,
  EntityModelServingCard,
  EntityModelVersionsContent,
} from '@loopline/plugin-mlops';

const entityWarningContent = (
  <>
    <EntitySwitch>
      <EntitySwitch.Case if={isOrphan}>
        <Grid item xs={12}>
          <EntityOrphanWarning />
        </Grid>
      </EntitySwitch.Case>
    </EntitySwitch>

    <EntitySwitch>
      <EntitySwitch.Case if={hasRelationWarnings}>
        <Grid item xs={12}>
          <EntityRelationWarning />
        </Grid>
      </EntitySwitch.Case>
    </EntitySwitch>

    <EntitySwitch>
      <EntitySwitch.Case if={hasCatalogProcessingErrors}>
        <Grid item xs={12}>
          <EntityProcessingErrorsPanel />
        </Grid>
      </EntitySwitch.Case>
    </EntitySwitch>
  </>
);

const hasLinks = (entity: Entity) => Boolean(entity.metadata.links?.length);

/**
 * NOTE: This page is designed to work on small screens such as mobile devices.
 * This is based on Material UI Grid. If breakpoints are used, each grid item must set the `xs` prop to a column size or to `true`,
 * since this does not default. If no breakpoints are used, the items will equitably share the available space.
 * https://material-ui.com/components/grid/#basic-grid.
 */

const overviewContent = (
  <Grid container spacing={3} alignItems="stretch">
    {entityWarningContent}
    <Grid item md={6} xs={12}>
      <EntityAboutCard />
    </Grid>
    <Grid item md={6} xs={12}>
      <EntityCatalogGraphCard height={400} />
    </Grid>
    <Grid item md={4} xs={12}>
      <EntityLinksCard />
    </Grid>
    <Grid item md={8} xs={12}>
      <EntityHasSubcomponentsCard />
    </Grid>
  </Grid>
);

const componentPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      {overviewContent}
    </EntityLayout.Route>

    <EntityLayout.Route path="/dependencies" title="Dependencies">
      <Grid container spacing={3} alignItems="stretch">
        <Grid item md={6} xs={12}>
          <EntityDependsOnComponentsCard />
        </Grid>
        <Grid item md={6} xs={12}>
          <EntityDependsOnResourcesCard />
        </Grid>
        <Grid item md={6} xs={12}>
          <EntityDependsOnModelsCard />
        </Grid>
      </Grid>
    </EntityLayout.Route>
  </EntityLayout>
);

/** The overview of a Model, Dataset or Pipeline. */
const mlopsOverviewContent = (
  options: {
    auditTrail?: boolean;
    serving?: boolean;
    datasetMonitors?: boolean;
  } = {},
) => (
  <Grid container spacing={3} alignItems="stretch">
    {entityWarningContent}
    <Grid item md={6} xs={12}>
      <EntityAboutCard />
    </Grid>
    <Grid item md={6} xs={12}>
      <EntityMlopsGraphCard height={400} />
    </Grid>
    <Grid item md={8} xs={12}>
      <EntityMlopsOverviewCard />
    </Grid>
    <Grid item md={4} xs={12}>
      <EntityMlopsRelationsCard />
    </Grid>
    {options.serving && (
      <Grid item xs={12}>
        <EntityModelServingCard />
      </Grid>
    )}
    {options.datasetMonitors && (
      <Grid item xs={12}>
        <EntityDatasetMonitorsCard />
      </Grid>
    )}
    <EntitySwitch>
      <EntitySwitch.Case if={hasLinks}>
        <Grid item md={4} xs={12}>
          <EntityLinksCard />
        </Grid>
      </EntitySwitch.Case>
    </EntitySwitch>
    {options.auditTrail && (
      <Grid item xs={12}>
        <EntityMlopsAuditCard />
      </Grid>
    )}
  </Grid>
);

const modelPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      {mlopsOverviewContent({ auditTrail: true, serving: true })}
    </EntityLayout.Route>

    <EntityLayout.Route path="/versions" title="Versions">
      <EntityModelVersionsContent />
    </EntityLayout.Route>

    <EntityLayout.Route path="/experiments" title="Experiments">
      <EntityModelExperimentsContent />
    </EntityLayout.Route>

    <EntityLayout.Route path="/deployments" title="Deployments">
      <EntityModelDeploymentsContent />
    </EntityLayout.Route>

    <EntityLayout.Route path="/drift" title="Drift">
      <EntityModelDriftContent />
    </EntityLayout.Route>

    <EntityLayout.Route path="/lineage" title="Lineage">
      <EntityLineageContent />
    </EntityLayout.Route>
  </EntityLayout>
);

const datasetPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      {mlopsOverviewContent({ datasetMonitors: true })}
    </EntityLayout.Route>
    <EntityLayout.Route path="/data-docs" title="Data docs">
      <EntityDatasetDataDocsContent />
    </EntityLayout.Route>

    <EntityLayout.Route path="/lineage" title="Lineage">
      <EntityLineageContent />
    </EntityLayout.Route>
  </EntityLayout>
);

const pipelinePage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      {mlopsOverviewContent()}
    </EntityLayout.Route>
    <EntityLayout.Route path="/runs" title="Runs">
      <EntityPipelineRunsContent />
    </EntityLayout.Route>

    <EntityLayout.Route path="/lineage" title="Lineage">
      <EntityLineageContent />
    </EntityLayout.Route>
  </EntityLayout>
);

const userPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      <Grid container spacing={3}>
        {entityWarningContent}
        <Grid item xs={12} md={6}>
          <EntityUserProfileCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <EntityOwnershipCard />
        </Grid>
      </Grid>
    </EntityLayout.Route>
  </EntityLayout>
);

const groupPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      <Grid container spacing={3}>
        {entityWarningContent}
        <Grid item xs={12} md={6}>
          <EntityGroupProfileCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <EntityOwnershipCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <EntityMembersListCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <EntityLinksCard />
        </Grid>
      </Grid>
    </EntityLayout.Route>
  </EntityLayout>
);

const systemPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      <Grid container spacing={3} alignItems="stretch">
        {entityWarningContent}
        <Grid item md={6} xs={12}>
          <EntityAboutCard />
        </Grid>
        <Grid item md={6} xs={12}>
          <EntityCatalogGraphCard height={400} />
        </Grid>
        <Grid item md={4} xs={12}>
          <EntityLinksCard />
        </Grid>
        <Grid item md={8} xs={12}>
          <EntityHasComponentsCard />
        </Grid>
        <Grid item md={6} xs={12}>
          <EntityHasResourcesCard />
        </Grid>
      </Grid>
    </EntityLayout.Route>
    <EntityLayout.Route path="/diagram" title="Diagram">
      <EntityCatalogGraphCard
        direction={Direction.TOP_BOTTOM}
        title="System Diagram"
        height={700}
        relations={[
          RELATION_PART_OF,
          RELATION_HAS_PART,
          RELATION_DEPENDENCY_OF,
          RELATION_DEPENDS_ON,
        ]}
        unidirectional={false}
      />
    </EntityLayout.Route>
  </EntityLayout>
);

const domainPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      <Grid container spacing={3} alignItems="stretch">
        {entityWarningContent}
        <Grid item md={6} xs={12}>
          <EntityAboutCard />
        </Grid>
        <Grid item md={6} xs={12}>
          <EntityCatalogGraphCard height={400} />
        </Grid>
        <Grid item md={6} xs={12}>
          <EntityHasSystemsCard />
        </Grid>
      </Grid>
    </EntityLayout.Route>
  </EntityLayout>
);

const defaultEntityPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      {overviewContent}
    </EntityLayout.Route>
  </EntityLayout>
);

export const entityPage = (
  <EntitySwitch>
    <EntitySwitch.Case if={isKind('component')} children={componentPage} />
    <EntitySwitch.Case if={isKind('model')} children={modelPage} />
    <EntitySwitch.Case if={isKind('dataset')} children={datasetPage} />
    <EntitySwitch.Case if={isKind('pipeline')} children={pipelinePage} />
    <EntitySwitch.Case if={isKind('group')} children={groupPage} />
    <EntitySwitch.Case if={isKind('user')} children={userPage} />
    <EntitySwitch.Case if={isKind('system')} children={systemPage} />
    <EntitySwitch.Case if={isKind('domain')} children={domainPage} />

    <EntitySwitch.Case>{defaultEntityPage}</EntitySwitch.Case>
  </EntitySwitch>
);
