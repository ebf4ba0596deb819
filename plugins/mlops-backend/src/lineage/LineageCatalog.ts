import { AuthService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  LineageCatalogLink,
  lineageIdFromLocation,
  LOOPLINE_LINEAGE_NAMESPACE,
  modelLineageId,
  OPENLINEAGE_DATASET_ANNOTATION,
  OPENLINEAGE_JOB_ANNOTATION,
  parseLineageName,
} from '@loopline/mlops-common';
import { nodeIds } from './model';

/** What the catalog link needs of the registry. */
export interface RegisteredModelLookup {
  findByEntityRef(entityRef: string): Promise<Array<{ name: string }>>;
  getRegisteredModel(name: string): Promise<{ entityRef: string }>;
}

const CACHE_TTL_MS = 10_000;

/**
 * Links lineage nodes and catalog entities: a Dataset names its OpenLineage
 * dataset by the `openlineage.io/dataset` annotation (else its
 * `spec.location`, after OpenLineage's naming), a Pipeline its job by
 * `openlineage.io/job`, and a Model is the dataset its registered models'
 * versions are written to (`loopline:models/<name>`).
 */
export class LineageCatalog {
  private cached: { at: number; entities: Promise<Entity[]> } | undefined;

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private readonly registry: RegisteredModelLookup,
    private readonly clock: () => number = Date.now,
  ) {}

  private entities(): Promise<Entity[]> {
    const now = this.clock();
    if (!this.cached || now - this.cached.at > CACHE_TTL_MS) {
      const entities = (async () => {
        const credentials = await this.auth.getOwnServiceCredentials();
        const { items } = await this.catalog.getEntities(
          {
            filter: [
              { kind: 'Dataset' },
              { kind: 'Pipeline' },
              { kind: 'Model' },
            ],
            fields: [
              'kind',
              'metadata.name',
              'metadata.namespace',
              'metadata.annotations',
              'spec.owner',
              'spec.location',
            ],
          },
          { credentials },
        );
        return items;
      })();
      this.cached = { at: now, entities };
      entities.catch(() => {
        this.cached = undefined;
      });
    }
    return this.cached.entities;
  }

  /** The lineage node ids an entity stands for (none when it has no lineage name). */
  async nodeIdsOf(entityRef: string): Promise<string[]> {
    const ref = entityRef.toLocaleLowerCase('en-US');
    const entity = (await this.entities()).find(
      e => stringifyEntityRef(e).toLocaleLowerCase('en-US') === ref,
    );
    const kind = ref.split(':')[0];
    if (kind === 'model') {
      const models = await this.registry.findByEntityRef(ref);
      return models.map(m => nodeIds.dataset(modelLineageId(m.name)));
    }
    if (!entity) {
      return [];
    }
    const id = lineageNameOf(entity);
    if (!id) {
      return [];
    }
    return [entity.kind === 'Pipeline' ? nodeIds.job(id) : nodeIds.dataset(id)];
  }

  /** The OpenLineage dataset a Dataset entity names, if any. */
  async datasetIdOf(
    entityRef: string,
  ): Promise<{ namespace: string; name: string } | undefined> {
    const ref = entityRef.toLocaleLowerCase('en-US');
    const entity = (await this.entities()).find(
      e =>
        e.kind === 'Dataset' &&
        stringifyEntityRef(e).toLocaleLowerCase('en-US') === ref,
    );
    return entity ? lineageNameOf(entity) : undefined;
  }

  /** Each node's catalog entity and owner, or null ("not in the catalog"). */
  async linksFor(ids: string[]): Promise<LineageCatalogLink[]> {
    const entities = await this.entities();
    const byNode = new Map<string, Entity>();
    const byRef = new Map<string, Entity>();
    for (const entity of entities) {
      byRef.set(stringifyEntityRef(entity).toLocaleLowerCase('en-US'), entity);
      const id = lineageNameOf(entity);
      if (id) {
        byNode.set(
          entity.kind === 'Pipeline' ? nodeIds.job(id) : nodeIds.dataset(id),
          entity,
        );
      }
    }
    const modelPrefix = `dataset:${LOOPLINE_LINEAGE_NAMESPACE}:models/`;
    const links: LineageCatalogLink[] = [];
    for (const nodeId of ids) {
      let entity = byNode.get(nodeId);
      let entityRef = entity
        ? stringifyEntityRef(entity).toLocaleLowerCase('en-US')
        : null;
      if (!entity && nodeId.startsWith(modelPrefix)) {
        const name = nodeId.slice(modelPrefix.length);
        try {
          entityRef = (await this.registry.getRegisteredModel(name)).entityRef;
          entity = byRef.get(entityRef);
        } catch {
          entityRef = null; // a model dataset with no registered model
        }
      }
      const owner = (entity?.spec as { owner?: unknown } | undefined)?.owner;
      links.push({
        nodeId,
        entityRef,
        owner: typeof owner === 'string' ? owner : null,
      });
    }
    return links;
  }
}

/** The OpenLineage dataset or job an entity names, if any. */
export function lineageNameOf(
  entity: Entity,
): { namespace: string; name: string } | undefined {
  const annotations = entity.metadata.annotations ?? {};
  if (entity.kind === 'Pipeline') {
    const job = annotations[OPENLINEAGE_JOB_ANNOTATION];
    return job ? parseLineageName(job) : undefined;
  }
  if (entity.kind === 'Dataset') {
    const dataset = annotations[OPENLINEAGE_DATASET_ANNOTATION];
    if (dataset) {
      return parseLineageName(dataset);
    }
    const location = (entity.spec as { location?: unknown } | undefined)
      ?.location;
    return typeof location === 'string'
      ? lineageIdFromLocation(location)
      : undefined;
  }
  return undefined;
}
