import type {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { isError, NotFoundError } from '@backstage/errors';
import {
  mlopsEntityReadPermission,
  modelVersionCreatePermission,
} from '@loopline/mlops-common';
import type { Experiment, RegisteredModel } from '@loopline/mlops-common';
import { authorizeEntity } from '../lib/authorize';
import type { RegistryService } from '../registry';
import type { TrackingService } from '../tracking';
import type { MlopsService } from './MlopsService';

/**
 * {@link MlopsService} over the plugin's own registry and tracking services,
 * authorized as the MLflow routes authorize the same calls.
 */
export class MlopsInProcessService implements MlopsService {
  constructor(
    private readonly options: {
      permissions: PermissionsService;
      registry: RegistryService;
      tracking: TrackingService;
    },
  ) {}

  async createRegisteredModel(
    request: {
      name: string;
      entityRef?: string;
      description?: string;
      tags?: Record<string, string>;
    },
    { credentials }: { credentials: BackstageCredentials },
  ): Promise<RegisteredModel> {
    const { permissions, registry } = this.options;
    const entityRef =
      request.entityRef ?? registry.entityRefFor(request.name, request.tags);
    // Registering a model for a catalog Model is the Model's owners' call.
    await authorizeEntity(
      permissions,
      modelVersionCreatePermission,
      entityRef,
      credentials,
    );
    return registry.createRegisteredModel({
      name: request.name,
      entityRef,
      description: request.description,
      tags: request.tags,
    });
  }

  async findRegisteredModel(
    name: string,
    { credentials }: { credentials: BackstageCredentials },
  ): Promise<RegisteredModel | undefined> {
    const model = await orUndefined(() =>
      this.options.registry.getRegisteredModel(name),
    );
    if (model) {
      await authorizeEntity(
        this.options.permissions,
        mlopsEntityReadPermission,
        model.entityRef,
        credentials,
      );
    }
    return model;
  }

  async createExperiment(
    request: { name: string; tags?: Record<string, string> },
    _options: { credentials: BackstageCredentials },
  ): Promise<Experiment> {
    // Any signed-in user or service may create experiments (as through MLflow).
    return this.options.tracking.createExperiment(request);
  }

  async findExperiment(
    name: string,
    _options: { credentials: BackstageCredentials },
  ): Promise<Experiment | undefined> {
    return orUndefined(() => this.options.tracking.getExperimentByName(name));
  }
}

async function orUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isError(error) && error.name === NotFoundError.name) {
      return undefined;
    }
    throw error;
  }
}
