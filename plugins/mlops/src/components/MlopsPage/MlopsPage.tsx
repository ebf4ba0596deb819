import { Content, PageWithHeader } from '@backstage/core-components';
import { configApiRef, useApi } from '@backstage/core-plugin-api';
import {
  CatalogTable,
  CatalogTableColumnsFunc,
} from '@backstage/plugin-catalog';
import {
  CatalogFilterLayout,
  EntityKindPicker,
  EntityLifecyclePicker,
  EntityListProvider,
  EntityOwnerPicker,
  EntityTagPicker,
  EntityTypePicker,
} from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import { MLOPS_KINDS, MODEL_KIND } from '@loopline/mlops-common';
import { KindSummary } from './KindSummary';
import { modelSummaryColumns, ModelSummariesProvider } from './ModelSummaries';

const { columns: catalogColumns } = CatalogTable;

const columns: CatalogTableColumnsFunc = ({ filters }) => {
  const models =
    filters.kind?.value.toLocaleLowerCase('en-US') ===
    MODEL_KIND.toLocaleLowerCase('en-US');
  return [
    catalogColumns.createNameColumn({ defaultKind: filters.kind?.value }),
    { title: 'Kind', field: 'entity.kind' },
    catalogColumns.createSpecTypeColumn(),
    catalogColumns.createOwnerColumn(),
    ...(models
      ? modelSummaryColumns()
      : [
          catalogColumns.createSpecLifecycleColumn(),
          catalogColumns.createSystemColumn(),
        ]),
    catalogColumns.createMetadataDescriptionColumn(),
  ];
};

/**
 * The ML overview: the catalog's Models, Datasets and Pipelines, counted and
 * listed with the catalog's own filters and table; Models with their
 * Production version, request rate, drift badge and latest quality.
 */
export function MlopsPage() {
  const organization =
    useApi(configApiRef).getOptionalString('organization.name') ?? 'Backstage';
  return (
    <PageWithHeader
      themeId="tool"
      title="Machine learning"
      subtitle={`Models, datasets and pipelines of ${organization}`}
      pageTitleOverride="ML"
    >
      <Content>
        <EntityListProvider>
          <Box mb={3}>
            <KindSummary />
          </Box>
          <CatalogFilterLayout>
            <CatalogFilterLayout.Filters>
              <EntityKindPicker
                allowedKinds={[...MLOPS_KINDS]}
                initialFilter={MODEL_KIND.toLocaleLowerCase('en-US')}
              />
              <EntityTypePicker />
              <EntityOwnerPicker />
              <EntityLifecyclePicker />
              <EntityTagPicker />
            </CatalogFilterLayout.Filters>
            <CatalogFilterLayout.Content>
              <ModelSummariesProvider>
                <CatalogTable columns={columns} />
              </ModelSummariesProvider>
            </CatalogFilterLayout.Content>
          </CatalogFilterLayout>
        </EntityListProvider>
      </Content>
    </PageWithHeader>
  );
}
