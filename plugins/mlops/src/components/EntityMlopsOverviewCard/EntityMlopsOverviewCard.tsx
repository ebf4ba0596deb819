import { InfoCard, WarningPanel } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  isDatasetEntity,
  isModelEntity,
  isPipelineEntity,
} from '@loopline/mlops-common';
import { DatasetOverview } from './DatasetOverview';
import { ModelOverview } from './ModelOverview';
import { PipelineOverview } from './PipelineOverview';

/** Props of {@link EntityMlopsOverviewCard}. */
export interface EntityMlopsOverviewCardProps {
  /** Defaults to "Model details", "Dataset details" or "Pipeline details". */
  title?: string;
}

function Overview() {
  const { entity } = useEntity();
  if (isModelEntity(entity)) {
    return <ModelOverview entity={entity} />;
  }
  if (isDatasetEntity(entity)) {
    return <DatasetOverview entity={entity} />;
  }
  if (isPipelineEntity(entity)) {
    return <PipelineOverview entity={entity} />;
  }
  return (
    <WarningPanel
      title="Not an ML entity"
      message={`This card shows Models, Datasets and Pipelines, not a ${entity.kind}.`}
    />
  );
}

/** The spec of the current Model, Dataset or Pipeline, laid out for people. */
export function EntityMlopsOverviewCard(props: EntityMlopsOverviewCardProps) {
  const { entity } = useEntity();
  return (
    <InfoCard
      title={props.title ?? `${entity.kind} details`}
      variant="gridItem"
    >
      <Overview />
    </InfoCard>
  );
}
