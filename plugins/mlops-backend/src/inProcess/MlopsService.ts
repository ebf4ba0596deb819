import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Experiment, RegisteredModel } from '@loopline/mlops-common';

/**
 * What other plugins' modules in the same backend (the scaffolder's
 * `mlops:*` actions) may do with Loopline, on behalf of the credentials they
 * pass: every change is authorized by the permission policy exactly as the
 * HTTP routes authorize it.
 *
 * @public
 */
export interface MlopsService {
  /**
   * Creates the registered model for a Model entity. Needs
   * `loopline.model.version.create` on the entity (as MLflow's
   * `registered-models/create` does). ConflictError when the name is taken.
   */
  createRegisteredModel(
    request: {
      name: string;
      /** The Model entity; default `model:default/<name>` (or the `loopline.dev/entity-ref` tag). */
      entityRef?: string;
      description?: string;
      tags?: Record<string, string>;
    },
    options: { credentials: BackstageCredentials },
  ): Promise<RegisteredModel>;

  /** The registered model named `name`, or undefined; needs read on its entity. */
  findRegisteredModel(
    name: string,
    options: { credentials: BackstageCredentials },
  ): Promise<RegisteredModel | undefined>;

  /** Creates an experiment; ConflictError when the name is taken. */
  createExperiment(
    request: { name: string; tags?: Record<string, string> },
    options: { credentials: BackstageCredentials },
  ): Promise<Experiment>;

  /** The experiment named `name`, or undefined. */
  findExperiment(
    name: string,
    options: { credentials: BackstageCredentials },
  ): Promise<Experiment | undefined>;
}
