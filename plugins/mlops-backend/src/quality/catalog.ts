import { AuthService } from '@backstage/backend-plugin-api';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  DatasetEntityV1alpha1,
  isDatasetEntity,
  isModelEntity,
  ModelEntityV1alpha1,
} from '@loopline/mlops-common';
import type { DatasetEntitySource } from './DatasetValidationService';
import type { ModelSource } from './GateService';

/** Models and Datasets as the catalog has them, read with the plugin's own credentials. */
export class CatalogQualitySource implements ModelSource, DatasetEntitySource {
  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
  ) {}

  async getModel(entityRef: string): Promise<ModelEntityV1alpha1 | undefined> {
    const entity = await this.catalog.getEntityByRef(entityRef, {
      credentials: await this.auth.getOwnServiceCredentials(),
    });
    return entity && isModelEntity(entity) ? entity : undefined;
  }

  async getDataset(
    entityRef: string,
  ): Promise<DatasetEntityV1alpha1 | undefined> {
    const entity = await this.catalog.getEntityByRef(entityRef, {
      credentials: await this.auth.getOwnServiceCredentials(),
    });
    return entity && isDatasetEntity(entity) ? entity : undefined;
  }
}
