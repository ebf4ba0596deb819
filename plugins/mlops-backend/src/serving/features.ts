/**
 * Where a served model's features are described when the ONNX file does not
 * name them (or to give their types): the catalog Dataset the model was
 * trained on, its `spec.schema.fields` with role `feature`, in schema order.
 */
import { AuthService } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { ServingFeature } from '@loopline/mlops-common';
import { TtlCache } from '../lib/TtlCache';

export interface FeatureSchemaSource {
  /**
   * The features of the Dataset `datasetRef` (when given, e.g. from the ONNX
   * metadata `loopline.dataset`), else of the first Dataset the Model entity
   * `entityRef` is trained on (`spec.trainedOn`); undefined when unknown.
   */
  featuresFor(request: {
    entityRef: string;
    datasetRef?: string;
  }): Promise<ServingFeature[] | undefined>;
}

export interface CatalogFeatureSchemaSourceOptions {
  catalog: CatalogService;
  /** For the plugin's own service credentials. */
  auth: AuthService;
  /** How long an answer is kept. Default 60000 ms. */
  cacheTtlMs?: number;
}

/** FeatureSchemaSource reading the catalog with the plugin's own credentials. */
export class CatalogFeatureSchemaSource implements FeatureSchemaSource {
  private readonly catalog: CatalogService;
  private readonly auth: AuthService;
  private readonly cache: TtlCache<ServingFeature[] | undefined>;

  constructor(options: CatalogFeatureSchemaSourceOptions) {
    this.catalog = options.catalog;
    this.auth = options.auth;
    this.cache = new TtlCache({
      ttlMs: options.cacheTtlMs ?? 60_000,
      maxEntries: 1000,
    });
  }

  featuresFor(request: {
    entityRef: string;
    datasetRef?: string;
  }): Promise<ServingFeature[] | undefined> {
    return this.cache.get(
      `${request.entityRef}\u0000${request.datasetRef ?? ''}`,
      () => this.lookup(request),
    );
  }

  private async lookup(request: {
    entityRef: string;
    datasetRef?: string;
  }): Promise<ServingFeature[] | undefined> {
    const credentials = await this.auth.getOwnServiceCredentials();
    let datasetRef = request.datasetRef
      ? normalizeRef(request.datasetRef, 'default')
      : undefined;
    if (!datasetRef) {
      const model = await this.catalog.getEntityByRef(request.entityRef, {
        credentials,
      });
      const trainedOn = (model?.spec as { trainedOn?: unknown } | undefined)
        ?.trainedOn;
      if (!Array.isArray(trainedOn) || typeof trainedOn[0] !== 'string') {
        return undefined;
      }
      datasetRef = normalizeRef(
        trainedOn[0],
        model?.metadata.namespace ?? 'default',
      );
    }
    if (!datasetRef) return undefined;
    const dataset = await this.catalog.getEntityByRef(datasetRef, {
      credentials,
    });
    return datasetFeatures(dataset?.spec);
  }
}

/** The `role: feature` fields of a Dataset spec, in order; undefined without a schema. */
export function datasetFeatures(spec: unknown): ServingFeature[] | undefined {
  const fields = (spec as { schema?: { fields?: unknown } } | undefined)?.schema
    ?.fields;
  if (!Array.isArray(fields)) return undefined;
  const features: ServingFeature[] = [];
  for (const field of fields) {
    if (
      field &&
      typeof field === 'object' &&
      typeof field.name === 'string' &&
      field.role === 'feature'
    ) {
      features.push({
        name: field.name,
        type: typeof field.type === 'string' ? field.type : 'float',
        ...(typeof field.description === 'string'
          ? { description: field.description }
          : {}),
        ...(field.constraints && typeof field.constraints === 'object'
          ? { constraints: field.constraints }
          : {}),
      });
    }
  }
  return features.length > 0 ? features : undefined;
}

function normalizeRef(ref: string, namespace: string): string | undefined {
  try {
    return stringifyEntityRef(
      parseEntityRef(ref, {
        defaultKind: 'dataset',
        defaultNamespace: namespace,
      }),
    ).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}
