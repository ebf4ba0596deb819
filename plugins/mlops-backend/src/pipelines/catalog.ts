import { AuthService } from '@backstage/backend-plugin-api';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  DatasetEntityV1alpha1,
  isDatasetEntity,
  isPipelineEntity,
  PIPELINE_KIND,
  PipelineEntityV1alpha1,
} from '@loopline/mlops-common';
import { PipelineSource } from './definitions';
import { DatasetSource } from './triggers';

/** Pipelines and Datasets as the catalog has them, read with the plugin's own credentials. */
export class CatalogPipelineSource implements PipelineSource, DatasetSource {
  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
  ) {}

  async get(name: string): Promise<PipelineEntityV1alpha1 | undefined> {
    const credentials = await this.auth.getOwnServiceCredentials();
    const { items } = await this.catalog.getEntities(
      { filter: { kind: PIPELINE_KIND, 'metadata.name': name } },
      { credentials },
    );
    const pipelines = items.filter(isPipelineEntity);
    // Names are unique per namespace; the default namespace wins a tie.
    return (
      pipelines.find(p => (p.metadata.namespace ?? 'default') === 'default') ??
      pipelines[0]
    );
  }

  async list(): Promise<PipelineEntityV1alpha1[]> {
    const credentials = await this.auth.getOwnServiceCredentials();
    const { items } = await this.catalog.getEntities(
      { filter: { kind: PIPELINE_KIND } },
      { credentials },
    );
    return items.filter(isPipelineEntity);
  }

  async getDataset(
    entityRef: string,
  ): Promise<DatasetEntityV1alpha1 | undefined> {
    const credentials = await this.auth.getOwnServiceCredentials();
    const entity = await this.catalog.getEntityByRef(entityRef, {
      credentials,
    });
    return entity && isDatasetEntity(entity) ? entity : undefined;
  }
}
