import type { ModelVersion, Run } from '@loopline/mlops-common';
import {
  lineageIdFromLocation,
  LOOPLINE_LINEAGE_NAMESPACE,
  modelLineageId,
} from '@loopline/mlops-common';
import { LoggerService } from '@backstage/backend-plugin-api';
import { nameUuidFromBytes } from './model';
import type { EventDataset, RunEvent } from './types';

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
