import type {
  Deployment,
  ModelVersion,
  RolloutAction,
  Run,
} from '@loopline/mlops-common';
import {
  lineageIdFromLocation,
  LOOPLINE_LINEAGE_NAMESPACE,
  modelLineageId,
} from '@loopline/mlops-common';
import { LoggerService } from '@backstage/backend-plugin-api';
import { nameUuidFromBytes } from './model';
import type { EventDataset, Facets, RunEvent } from './types';

/** The run tag naming the catalog Dataset a run trained on (the demo trainer sets it). */
export const RUN_DATASET_TAG = 'loopline.dev/dataset';
/**
 * The run tag giving the data's location (as a Dataset's `spec.location`),
 * used when the catalog does not know the Dataset (yet, at startup).
 */
export const RUN_DATASET_LOCATION_TAG = 'loopline.dev/dataset-location';
const PRODUCER =
  'https://github.com/loopline/loopline/tree/main/plugins/mlops-backend';
const SCHEMA_URL =
  'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const FACET_SCHEMA =
  'https://loopline.dev/spec/facets/1-0-0/ModelVersionFacet.json';
const DEPLOYMENT_FACET_SCHEMA =
  'https://loopline.dev/spec/facets/1-0-0/DeploymentFacet.json';
const RUN_IO_FACET_SCHEMA =
  'https://loopline.dev/spec/facets/1-0-0/MlflowRunFacet.json';

/** A dataset as MLflow's `runs/log-inputs` sends it (`DatasetInput`). */
export interface MlflowDatasetInput {
  dataset?: {
    name?: string;
    digest?: string;
    source_type?: string;
    /** JSON, e.g. `{"uri": "s3://bucket/key"}` or `{"url": ...}`. */
    source?: string;
    /** JSON, e.g. `{"mlflow_colspec": [{"name": "x", "type": "double"}]}`. */
    schema?: string;
  };
  tags?: Array<{ key: string; value: string }>;
}

/** The OpenLineage dataset where a deployment of a model to an environment is recorded. */
export function deploymentLineageId(model: string, environment: string) {
  return {
    namespace: LOOPLINE_LINEAGE_NAMESPACE,
    name: `deployments/${model}/${environment}`,
  };
}

/** A rollout's action as a run's event: started, going on, promoted or rolled back. */
const ROLLOUT_EVENT_TYPE: Record<RolloutAction, RunEvent['eventType']> = {
  start: 'START',
  step: 'RUNNING',
  switch: 'RUNNING',
  pause: 'RUNNING',
  resume: 'RUNNING',
  promote: 'COMPLETE',
  rollback: 'ABORT',
};

/** What the emitter needs of tracking, the catalog and the ingest. */
export interface LooplineEmitterDeps {
  getRun(runId: string): Promise<Run>;
  getExperimentName(experimentId: string): Promise<string>;
  datasetIdOf(
    entityRef: string,
  ): Promise<{ namespace: string; name: string } | undefined>;
  ingest(event: RunEvent): Promise<void>;
  logger: LoggerService;
  clock?: () => number;
}

/** An MLflow run id (32 hex digits) as the UUID OpenLineage requires. */
export function runUuidOf(mlflowRunId: string): string {
  const hex = mlflowRunId.toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex)) {
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(
      12,
      16,
    )}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return nameUuidFromBytes(`mlflow-run:${mlflowRunId}`);
}

/**
 * Loopline's own OpenLineage events, recorded in the same store as
 * everyone's: a registration is its source run (job `mlflow/<experiment>`)
 * reading the datasets the run names and writing a version of the model's
 * dataset (`loopline:models/<name>`, content hash = the artifact's sha256).
 */
export class LooplineEmitter {
  constructor(private readonly deps: LooplineEmitterDeps) {}

  /** Never throws: lineage must not fail a registration. */
  async versionRegistered(version: ModelVersion): Promise<void> {
    try {
      await this.deps.ingest(await this.registrationEvent(version));
    } catch (error) {
      this.deps.logger.warn(
        `Could not record the lineage of ${version.name} v${version.version}: ${error}`,
      );
    }
  }

  /**
   * MLflow's `runs/log-inputs`: the run (job `mlflow/<experiment>`) reads
   * these datasets. A RUNNING event, so the registration's COMPLETE later
   * versions the job with them. Never throws.
   */
  async inputsLogged(
    runId: string,
    datasets: MlflowDatasetInput[],
  ): Promise<void> {
    await this.emit(`the inputs of run ${runId}`, async () => {
      const run = await this.deps.getRun(runId);
      const inputs = datasets
        .map(d => mlflowDataset(d))
        .filter((d): d is EventDataset => !!d);
      return inputs.length > 0
        ? this.runEvent(run, 'RUNNING', { inputs })
        : undefined;
    });
  }

  /**
   * MLflow's `runs/outputs`: the run wrote these logged models (datasets
   * `loopline:mlflow/logged-models/<id>`). Never throws.
   */
  async outputsLogged(
    runId: string,
    models: Array<{ modelId: string; name?: string; step?: number }>,
  ): Promise<void> {
    await this.emit(`the outputs of run ${runId}`, async () => {
      const run = await this.deps.getRun(runId);
      const outputs: EventDataset[] = models.map(m => ({
        namespace: LOOPLINE_LINEAGE_NAMESPACE,
        name: `mlflow/logged-models/${m.modelId}`,
        facets: {
          loopline_loggedModel: this.facet(RUN_IO_FACET_SCHEMA, {
            modelId: m.modelId,
            ...(m.name ? { name: m.name } : {}),
            step: m.step ?? 0,
          }),
        },
      }));
      return outputs.length > 0
        ? this.runEvent(run, 'RUNNING', { outputs })
        : undefined;
    });
  }

  /**
   * A rollout's action: job `rollout/<model>/<environment>`, one run per
   * rollout, reading the model's dataset and writing the deployment's
   * (`loopline:deployments/<model>/<environment>`), whose
   * `loopline_deployment` facet names the version, arm weights and state.
   * Never throws.
   */
  async rolloutChanged(event: {
    deployment: Deployment;
    action: RolloutAction;
  }): Promise<void> {
    const { deployment, action } = event;
    const rollout = deployment.rollout;
    if (!rollout) return;
    await this.emit(`the rollout ${rollout.id}`, async () =>
      this.rolloutEvent(deployment, action),
    );
  }

  rolloutEvent(deployment: Deployment, action: RolloutAction): RunEvent {
    const rollout = deployment.rollout!;
    const now = (this.deps.clock ?? Date.now)();
    const model = modelLineageId(deployment.modelName);
    return {
      eventType: ROLLOUT_EVENT_TYPE[action] ?? 'OTHER',
      eventTime: new Date(now).toISOString(),
      producer: PRODUCER,
      schemaURL: SCHEMA_URL,
      run: {
        runId: nameUuidFromBytes(`rollout:${rollout.id}`),
        facets: {
          loopline_rollout: this.facet(DEPLOYMENT_FACET_SCHEMA, {
            rolloutId: rollout.id,
            strategy: rollout.strategy,
            state: rollout.state,
            action,
            candidateVersion: rollout.candidateVersion,
            ...(rollout.stableVersion !== undefined
              ? { stableVersion: rollout.stableVersion }
              : {}),
          }),
        },
      },
      job: {
        namespace: LOOPLINE_LINEAGE_NAMESPACE,
        name: `rollout/${deployment.modelName}/${deployment.environment}`,
        facets: {
          jobType: {
            _producer: PRODUCER,
            _schemaURL:
              'https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json',
            processingType: 'BATCH',
            integration: 'LOOPLINE',
            jobType: 'DEPLOYMENT',
          },
        },
      },
      inputs: [model],
      outputs: [
        {
          ...deploymentLineageId(deployment.modelName, deployment.environment),
          facets: {
            loopline_deployment: this.facet(DEPLOYMENT_FACET_SCHEMA, {
              deploymentId: deployment.id,
              model: deployment.modelName,
              entityRef: deployment.entityRef,
              environment: deployment.environment,
              target: deployment.target,
              candidateVersion: rollout.candidateVersion,
              ...(deployment.stableVersion !== undefined
                ? { stableVersion: deployment.stableVersion }
                : {}),
              weights: deployment.weights,
            }),
          },
        },
      ],
    };
  }

  private facet(schemaURL: string, body: Record<string, unknown>) {
    return { _producer: PRODUCER, _schemaURL: schemaURL, ...body };
  }

  private async emit(
    what: string,
    build: () => Promise<RunEvent | undefined>,
  ): Promise<void> {
    try {
      const event = await build();
      if (event) await this.deps.ingest(event);
    } catch (error) {
      this.deps.logger.warn(`Could not record the lineage of ${what}: ${error}`);
    }
  }

  /** An event of an MLflow run's job (`mlflow/<experiment>`). */
  private async runEvent(
    run: Run,
    eventType: RunEvent['eventType'],
    io: { inputs?: EventDataset[]; outputs?: EventDataset[] },
  ): Promise<RunEvent> {
    const now = (this.deps.clock ?? Date.now)();
    return {
      eventType,
      eventTime: new Date(now).toISOString(),
      producer: PRODUCER,
      schemaURL: SCHEMA_URL,
      run: { runId: runUuidOf(run.runId) },
      job: {
        namespace: LOOPLINE_LINEAGE_NAMESPACE,
        name: `mlflow/${await this.deps.getExperimentName(run.experimentId)}`,
      },
      inputs: io.inputs ?? [],
      outputs: io.outputs ?? [],
    };
  }

  async registrationEvent(version: ModelVersion): Promise<RunEvent> {
    const now = (this.deps.clock ?? Date.now)();
    const run = version.runId
      ? await this.deps.getRun(version.runId).catch(() => undefined)
      : undefined;
    const inputs: EventDataset[] = [];
    const datasetRef = run?.tags[RUN_DATASET_TAG];
    const location = run?.tags[RUN_DATASET_LOCATION_TAG];
    const id =
      (datasetRef
        ? await this.deps.datasetIdOf(datasetRef).catch(() => undefined)
        : undefined) ??
      (location ? lineageIdFromLocation(location) : undefined);
    if (id) {
      inputs.push({ namespace: id.namespace, name: id.name });
    }
    const facet = (body: Record<string, unknown>) => ({
      _producer: PRODUCER,
      _schemaURL: FACET_SCHEMA,
      ...body,
    });
    const jobName = run
      ? `mlflow/${await this.deps.getExperimentName(run.experimentId)}`
      : `registry/${version.name}`;
    const output: EventDataset = {
      ...modelLineageId(version.name),
      facets: {
        version: {
          _producer: PRODUCER,
          _schemaURL:
            'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
          datasetVersion: version.artifact?.sha256
            ? `sha256:${version.artifact.sha256}`
            : `v${version.version}`,
        },
        loopline_modelVersion: facet({
          model: version.name,
          version: version.version,
          entityRef: version.entityRef,
          source: version.source,
        }),
      },
    };
    return {
      eventType: 'COMPLETE',
      eventTime: new Date(run?.endTime ?? now).toISOString(),
      producer: PRODUCER,
      schemaURL: SCHEMA_URL,
      run: {
        runId: run
          ? runUuidOf(run.runId)
          : nameUuidFromBytes(
              `registration:${version.name}:${version.version}`,
            ),
        facets: run
          ? {
              loopline_mlflowRun: facet({
                runId: run.runId,
                runName: run.runName,
                params: run.params,
                metrics: Object.fromEntries(
                  run.metrics.map(m => [m.key, m.value]),
                ),
              }),
            }
          : undefined,
      },
      job: {
        namespace: LOOPLINE_LINEAGE_NAMESPACE,
        name: jobName,
        facets: {
          jobType: {
            _producer: PRODUCER,
            _schemaURL:
              'https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json',
            processingType: 'BATCH',
            integration: 'LOOPLINE',
            jobType: 'TRAINING',
          },
        },
      },
      inputs,
      outputs: [output],
    };
  }
}

/**
 * An MLflow dataset as OpenLineage's: named by its source's URI when it
 * has one (as a Dataset's `spec.location`), else `mlflow:<name>`; its
 * digest is the version, its colspec schema the schema facet.
 */
export function mlflowDataset(
  input: MlflowDatasetInput,
): EventDataset | undefined {
  const d = input.dataset;
  if (!d?.name && !d?.source) return undefined;
  const source = parseJson(d.source);
  const uri =
    typeof source?.uri === 'string'
      ? source.uri
      : typeof source?.url === 'string'
      ? source.url
      : typeof source?.path === 'string'
      ? source.path
      : undefined;
  const id = (uri ? lineageIdFromLocation(uri) : undefined) ?? {
    namespace: 'mlflow',
    name: d.name!,
  };
  const facets: Facets = {};
  if (d.digest) {
    facets.version = {
      _producer: PRODUCER,
      _schemaURL:
        'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
      datasetVersion: d.digest,
    };
  }
  const colspec = parseJson(d.schema)?.mlflow_colspec;
  if (Array.isArray(colspec)) {
    facets.schema = {
      _producer: PRODUCER,
      _schemaURL:
        'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json',
      fields: colspec
        .filter((c: any) => typeof c?.name === 'string')
        .map((c: any) => ({
          name: c.name,
          ...(typeof c.type === 'string' ? { type: c.type } : {}),
        })),
    };
  }
  const context = input.tags?.find(t => t.key === 'mlflow.data.context');
  if (context) {
    facets.loopline_mlflowDataset = {
      _producer: PRODUCER,
      _schemaURL: RUN_IO_FACET_SCHEMA,
      name: d.name,
      context: context.value,
    };
  }
  return { ...id, facets };
}

function parseJson(text: string | undefined): any {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
