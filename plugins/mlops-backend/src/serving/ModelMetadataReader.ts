/**
 * What the serving routes say about a model without running it: its OIP
 * metadata (the signature from the registry), what is served and loaded
 * with its features, and the schema predict takes.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { OipModelMetadata, ServingModelInfo } from '@loopline/mlops-common';
import { FeatureLayouts } from './featureLayout';
import type { EntityAuthorizer } from '../lib/http';
import type { ServingModelSchema, ServingRegistry } from './InferenceService';
import type { ModelResolver } from './ModelResolver';
import type { ModelSessions } from './ModelSessions';
import type { TrafficRouter } from './TrafficRouter';

export class ModelMetadataReader {
  private readonly registry: Pick<ServingRegistry, 'listVersions'>;
  private readonly sessions: Pick<ModelSessions, 'get' | 'loadedVersions'>;
  private readonly trafficRouter: TrafficRouter;
  private readonly resolver: ModelResolver;
  private readonly layouts: FeatureLayouts;
  private readonly logger?: LoggerService;

  constructor(options: {
    registry: Pick<ServingRegistry, 'listVersions'>;
    sessions: Pick<ModelSessions, 'get' | 'loadedVersions'>;
    trafficRouter: TrafficRouter;
    resolver: ModelResolver;
    layouts: FeatureLayouts;
    logger?: LoggerService;
  }) {
    this.registry = options.registry;
    this.sessions = options.sessions;
    this.trafficRouter = options.trafficRouter;
    this.resolver = options.resolver;
    this.layouts = options.layouts;
    this.logger = options.logger;
  }

  /** `GET /v2/models/:name[/versions/:v]`: the signature from the registry, no load needed. */
  async modelMetadata(
    modelName: string,
    version?: number | string,
    authorize?: EntityAuthorizer,
  ): Promise<OipModelMetadata> {
    const model = await this.resolver.requireModel(modelName);
    await authorize?.(model.entityRef);
    const target = await this.resolver.routeVersion(model.name, version);
    const described = await this.resolver.requireVersion(
      model.name,
      target.version,
    );
    if (!described.signature) {
      throw new NotFoundError(
        `Model ${model.name} version ${target.version} has no model file to serve`,
      );
    }
    const servable = (await this.registry.listVersions(model.name))
      .filter(v => v.artifact)
      .map(v => v.version)
      .sort((a, b) => a - b)
      .map(String);
    return {
      name: model.name,
      versions: servable,
      platform: 'onnx_onnxv1',
      inputs: described.signature.inputs,
      outputs: described.signature.outputs,
    };
  }

  /** `GET /serving/models/:name/info`: what is served, what is loaded, the features. */
  async modelInfo(
    modelName: string,
    authorize?: EntityAuthorizer,
  ): Promise<ServingModelInfo> {
    const model = await this.resolver.requireModel(modelName);
    await authorize?.(model.entityRef);
    let servedVersion: number | undefined;
    try {
      servedVersion = (await this.trafficRouter.resolve(model.name)).version;
    } catch (error) {
      if ((error as Error)?.name !== 'NotFoundError') throw error;
    }
    const info: ServingModelInfo = {
      model: model.name,
      entityRef: model.entityRef,
      ...(servedVersion !== undefined ? { servedVersion } : {}),
      loadedVersions: [],
      features: [],
    };
    if (servedVersion !== undefined) {
      const described = await this.resolver.requireVersion(
        model.name,
        servedVersion,
      );
      if (described.signature) info.signature = described.signature;
      try {
        const loaded = await this.sessions.get(model.name, servedVersion);
        info.features = (
          await this.layouts.layoutOf(loaded, model.entityRef, false)
        ).features;
      } catch (error) {
        this.logger?.warn(
          `No features for model '${model.name}' version ${servedVersion}: ${
            (error as Error)?.message
          }`,
        );
        info.features =
          (await this.layouts.datasetFeatures(model.entityRef, undefined)) ??
          [];
      }
    } else {
      info.features =
        (await this.layouts.datasetFeatures(model.entityRef, undefined)) ?? [];
    }
    info.loadedVersions = this.sessions.loadedVersions(model.name);
    return info;
  }

  /** `GET /serving/models/:name/schema`: the features predict takes and the signature. */
  async modelSchema(
    modelName: string,
    version?: number | string,
    authorize?: EntityAuthorizer,
  ): Promise<ServingModelSchema> {
    const model = await this.resolver.requireModel(modelName);
    await authorize?.(model.entityRef);
    const target = await this.resolver.routeVersion(model.name, version);
    const loaded = await this.sessions.get(model.name, target.version);
    const layout = await this.layouts.layoutOf(loaded, model.entityRef, true);
    return {
      model: model.name,
      entityRef: model.entityRef,
      version: target.version,
      layout: layout.kind,
      features: layout.features,
      signature: {
        inputs: loaded.signature.inputs,
        outputs: loaded.signature.outputs,
      },
    };
  }
}
