import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { createHash } from 'node:crypto';
import {
  DatasetEntityV1alpha1,
  DatasetVersionPayload,
  MonitoringAlertEvent,
  PipelineEntityV1alpha1,
} from '@loopline/mlops-common';
import { PipelineSource, schedulesOf } from './definitions';
import { PipelineService } from './PipelineService';
import { PipelineStore } from './PipelineStore';
import { dueFireTime } from './schedule';

/** Reads Dataset entities, to notice when one changes. */
export interface DatasetSource {
  getDataset(entityRef: string): Promise<DatasetEntityV1alpha1 | undefined>;
}

export interface PipelineTriggersOptions {
  service: PipelineService;
  pipelines: PipelineSource;
  store: PipelineStore;
  datasets?: DatasetSource;
  serviceCredentials(): Promise<BackstageCredentials>;
  logger: LoggerService;
  /** A slot missed by more than this is not run (only the latest missed slot runs). */
  maxLatenessMs?: number;
  now?: () => number;
}

/** `kind:namespace/name`, lower-cased, with the kind and namespace defaulted. */
export function normalizeRef(ref: string, defaultKind: string): string {
  return stringifyEntityRef(
    parseEntityRef(ref, { defaultKind, defaultNamespace: 'default' }),
  ).toLocaleLowerCase('en-US');
}

/**
 * Turns schedules, monitoring alerts and dataset changes into runs. Every
 * trigger gives its run a key (the cron slot, the alert id, the dataset
 * version), so a trigger seen by several backends, or twice, starts one run.
 */
export class PipelineTriggers {
  private readonly now: () => number;
  private readonly maxLatenessMs: number;

  constructor(private readonly options: PipelineTriggersOptions) {
    this.now = options.now ?? Date.now;
    this.maxLatenessMs = options.maxLatenessMs ?? 3_600_000;
  }

  /**
   * One idempotent tick (the scheduler runs it once at a time across
   * instances): starts the due slot of every schedule and notices changed
   * Dataset entities. Returns the runs it created.
   */
  async tick(): Promise<string[]> {
    const created: string[] = [];
    const now = this.now();
    for (const pipeline of await this.options.pipelines.list()) {
      for (const cron of schedulesOf(pipeline)) {
        let due: number | undefined;
        try {
          due = dueFireTime(cron, now, this.maxLatenessMs);
        } catch (error) {
          this.options.logger.warn(
            `Pipeline ${pipeline.metadata.name} has an invalid schedule ${cron}: ${error}`,
          );
          continue;
        }
        if (due === undefined) continue;
        const slot = new Date(due).toISOString();
        const id = await this.start(pipeline, {
          type: 'schedule',
          cause: `Schedule ${cron}, slot ${slot}`,
          key: `schedule:${slot}`,
        });
        if (id) created.push(id);
      }
      created.push(...(await this.checkDatasets(pipeline)));
    }
    return created;
  }

  /** A `loopline.monitoring.alert` event: pipelines with a drift trigger on the Model retrain. */
  async onMonitoringAlert(alert: MonitoringAlertEvent): Promise<string[]> {
    const model = safeNormalize(alert.entityRef, 'model');
    if (!model) {
      this.options.logger.warn(
        `Ignored a monitoring alert with the invalid model ref ${alert.entityRef}`,
      );
      return [];
    }
    // Retraining answers drift and falling quality, not a slow or failing
    // server (serving alerts: p95 latency, error rate).
    if (alert.kind === 'serving') return [];
    const created: string[] = [];
    for (const pipeline of await this.options.pipelines.list()) {
      const matches = (pipeline.spec.triggers ?? []).some(
        t => t.type === 'drift' && safeNormalize(t.model, 'model') === model,
      );
      if (!matches) continue;
      // An alert while an alert's retraining is still queued or running
      // joins it: one drift episode (drift, quality and concept-drift alerts
      // come together) retrains once.
      const underway = await this.options.store.unfinishedRunOf(
        pipeline.metadata.name,
        'drift',
      );
      if (underway) {
        this.options.logger.info(
          `Pipeline ${pipeline.metadata.name}: the ${alert.kind} alert on ${model} joins run ${underway}, already under way`,
        );
        continue;
      }
      const parameters: Record<string, string> = {
        alert_kind: alert.kind,
        alert_model: model,
        alert_version: alert.version,
        alert_severity: alert.severity,
        alert_summary: alert.summary,
        alert_raised_at: alert.raisedAt,
        ...(alert.reportId ? { alert_report_id: alert.reportId } : {}),
        ...(alert.shareOfDriftedColumns !== undefined
          ? { alert_drift_share: String(alert.shareOfDriftedColumns) }
          : {}),
        ...(alert.driftedFeatures
          ? { alert_drifted_features: alert.driftedFeatures.join(',') }
          : {}),
      };
      const id = await this.start(
        pipeline,
        {
          type: 'drift',
          cause: `Monitoring alert (${alert.kind}) on ${model}: ${alert.summary}`,
          // One run per alert: its report, else the time it was raised.
          key: `alert:${model}:${alert.kind}:${
            alert.reportId ?? alert.raisedAt
          }`,
        },
        parameters,
      );
      if (id) created.push(id);
    }
    return created;
  }

  /**
   * A new Dataset version from lineage: pipelines with a dataset-update
   * trigger on it run. The event names the catalog Dataset (`entityRef`)
   * when lineage matched one, else only its OpenLineage namespace and name,
   * which are matched with the watched Datasets' locations.
   */
  async onDatasetVersion(
    event: Partial<DatasetVersionPayload>,
  ): Promise<string[]> {
    const byRef = event.entityRef
      ? safeNormalize(event.entityRef, 'dataset')
      : undefined;
    if (!byRef && !(event.namespace && event.name)) return [];
    if (typeof event.version !== 'string' || event.version === '') return [];
    const created: string[] = [];
    for (const pipeline of await this.options.pipelines.list()) {
      let dataset: string | undefined;
      for (const watched of datasetTriggers(pipeline)) {
        if (
          byRef ? watched === byRef : await this.locatedAt(watched, event)
        ) {
          dataset = watched;
          break;
        }
      }
      if (!dataset) continue;
      const id = await this.start(
        pipeline,
        {
          type: 'dataset-update',
          cause: `New version ${event.version} of ${dataset}`,
          key: `dataset:${dataset}@${event.version}`,
        },
        { dataset, dataset_version: event.version },
      );
      if (id) created.push(id);
    }
    return created;
  }

  /** Whether a watched Dataset's location is the OpenLineage dataset `namespace` + `name`. */
  private async locatedAt(
    dataset: string,
    event: Partial<DatasetVersionPayload>,
  ): Promise<boolean> {
    const entity = await this.options.datasets?.getDataset(dataset);
    if (!entity) return false;
    return sameLocation(entity.spec.location, event.namespace!, event.name!);
  }

  /** Runs the pipeline when a Dataset it watches changed in the catalog since the last tick. */
  private async checkDatasets(
    pipeline: PipelineEntityV1alpha1,
  ): Promise<string[]> {
    const { datasets, store } = this.options;
    if (!datasets) return [];
    const created: string[] = [];
    for (const dataset of datasetTriggers(pipeline)) {
      const entity = await datasets.getDataset(dataset);
      if (!entity) continue;
      const hash = createHash('sha256')
        .update(JSON.stringify(entity.spec))
        .digest('hex')
        .slice(0, 16);
      const trigger = `dataset-entity:${dataset}`;
      const seen = await store.getTriggerState(pipeline.metadata.name, trigger);
      await store.setTriggerState(
        pipeline.metadata.name,
        trigger,
        hash,
        this.now(),
      );
      // The first sight is a baseline, not a change.
      if (seen === undefined || seen === hash) continue;
      const id = await this.start(
        pipeline,
        {
          type: 'dataset-update',
          cause: `The Dataset ${dataset} changed in the catalog`,
          key: `dataset:${dataset}#${hash}`,
        },
        { dataset },
      );
      if (id) created.push(id);
    }
    return created;
  }

  private async start(
    pipeline: PipelineEntityV1alpha1,
    trigger: {
      type: 'schedule' | 'drift' | 'dataset-update';
      cause: string;
      key: string;
    },
    parameters: Record<string, string> = {},
  ): Promise<string | undefined> {
    try {
      const { created, run } = await this.options.service.startRun({
        pipeline: pipeline.metadata.name,
        parameters,
        trigger,
        credentials: await this.options.serviceCredentials(),
      });
      return created ? run.id : undefined;
    } catch (error) {
      this.options.logger.warn(
        `Could not start pipeline ${pipeline.metadata.name} (${trigger.cause}): ${error}`,
      );
      return undefined;
    }
  }
}

function safeNormalize(ref: string, kind: string): string | undefined {
  try {
    return normalizeRef(ref, kind);
  } catch {
    return undefined;
  }
}

/**
 * A Dataset `location` against OpenLineage's naming (namespace `file` with
 * a path, or `s3://bucket` with a key, ...): the same place when the URIs
 * agree, or, for relative `file:` locations, when the path ends with it.
 */
export function sameLocation(
  location: string,
  namespace: string,
  name: string,
): boolean {
  const trim = (s: string) => s.replace(/\/+$/, '');
  const target = trim(location);
  if (!(namespace === 'file' || namespace.startsWith('file:'))) {
    return target === trim(`${trim(namespace)}/${name.replace(/^\/+/, '')}`);
  }
  // A file: a relative location (`file:x/y.csv`, `x/y.csv`) is a path's tail.
  const isFile =
    target.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:/i.test(target);
  if (!isFile) return false;
  const path = target.replace(/^file:(\/\/)?/, '').replace(/^\.\//, '');
  const other = trim(name.replace(/^file:(\/\/)?/, ''));
  return path.startsWith('/')
    ? path === other
    : other === path || other.endsWith(`/${path}`);
}

function datasetTriggers(pipeline: PipelineEntityV1alpha1): string[] {
  return (pipeline.spec.triggers ?? [])
    .filter(t => t.type === 'dataset-update')
    .map(t => safeNormalize((t as { dataset: string }).dataset, 'dataset'))
    .filter((r): r is string => r !== undefined);
}
