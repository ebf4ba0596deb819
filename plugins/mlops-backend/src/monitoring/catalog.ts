import type { AuthService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { MonitoringConfig as ModelMonitoringSpec } from '@loopline/mlops-common';
import type {
  ModelDirectory,
  MonitoredDataset,
  MonitoredModel,
} from './MonitoringService';

function toModel(entity: Entity): MonitoredModel {
  const spec = (entity.spec ?? {}) as {
    type?: string;
    trainedOn?: string[];
    monitoring?: ModelMonitoringSpec;
  };
  return {
    // The registered model's name is the Model entity's name.
    name: entity.metadata.name,
    entityRef: stringifyEntityRef(entity),
    ...(spec.type ? { type: spec.type } : {}),
    ...(Array.isArray(spec.trainedOn) ? { trainedOn: spec.trainedOn } : {}),
    ...(spec.monitoring ? { monitoring: spec.monitoring } : {}),
  };
}

/** Models and Datasets from the catalog, read with the plugin's own credentials. */
export class CatalogModelDirectory implements ModelDirectory {
  constructor(
    private readonly options: { catalog: CatalogService; auth: AuthService },
  ) {}

  private async credentials() {
    return this.options.auth.getOwnServiceCredentials();
  }

  async getModel(name: string): Promise<MonitoredModel | undefined> {
    const { items } = await this.options.catalog.getEntities(
      { filter: { kind: 'Model', 'metadata.name': name } },
      { credentials: await this.credentials() },
    );
    return items[0] ? toModel(items[0]) : undefined;
  }

  async listModels(): Promise<MonitoredModel[]> {
    const { items } = await this.options.catalog.getEntities(
      { filter: { kind: 'Model' } },
      { credentials: await this.credentials() },
    );
    return items.map(toModel);
  }

  async getDataset(entityRef: string): Promise<MonitoredDataset | undefined> {
    const entity = await this.options.catalog.getEntityByRef(entityRef, {
      credentials: await this.credentials(),
    });
    if (!entity || entity.kind.toLowerCase() !== 'dataset') return undefined;
    const spec = (entity.spec ?? {}) as {
      location?: string;
      format?: string;
      schema?: { fields?: Array<{ name: string; role?: string }> };
    };
    if (!spec.location) return undefined;
    const fields = spec.schema?.fields ?? [];
    const target = fields.find(f => f.role === 'target')?.name;
    return {
      entityRef: stringifyEntityRef(entity),
      location: spec.location,
      ...(spec.format ? { format: spec.format } : {}),
      features: fields.filter(f => f.role === 'feature').map(f => f.name),
      ...(target ? { target } : {}),
    };
  }
}
