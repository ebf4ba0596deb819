import { LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import { PipelineEntityV1alpha1, PipelineRun } from '@loopline/mlops-common';
import type { PipelineRunListener } from './PipelineService';
import { normalizeRef } from './triggers';

/** Tells a pipeline's owners when one of its runs fails. */
export function pipelineNotifier(options: {
  notifications: NotificationService;
  logger: LoggerService;
}): PipelineRunListener {
  return {
    async runFinished(run) {
      if (run.state !== 'failed') return;
      const { namespace, name } = parseEntityRef(run.entityRef);
      try {
        await options.notifications.send({
          recipients: { type: 'entity', entityRef: run.entityRef },
          payload: {
            title: `Pipeline ${run.pipeline}: run failed`,
            description: `${run.trigger.cause}. ${run.reason ?? ''}`.trim(),
            link: `/catalog/${namespace}/pipeline/${name}/runs?run=${run.id}`,
            severity: 'high',
            topic: `loopline-pipeline:${run.pipeline}`,
          },
        });
      } catch (error) {
        options.logger.warn(
          `Could not notify the owners of ${run.entityRef}: ${
            (error as Error)?.message
          }`,
        );
      }
    },
  };
}

export const OPENLINEAGE_PRODUCER =
  'https://github.com/loopline/loopline/tree/main/plugins/mlops-backend';
const RUN_EVENT_SCHEMA =
  'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
/** The OpenLineage namespace of Loopline's jobs and datasets; names are entity refs. */
export const OPENLINEAGE_NAMESPACE = 'loopline';

/** An OpenLineage RunEvent of a pipeline run (START, COMPLETE, FAIL or ABORT). */
export function pipelineRunEvent(
  run: PipelineRun,
  pipeline: PipelineEntityV1alpha1 | undefined,
  eventType: 'START' | 'COMPLETE' | 'FAIL' | 'ABORT',
  eventTime: string,
) {
  const dataset = (name: string) => ({
    namespace: OPENLINEAGE_NAMESPACE,
    name,
  });
  const safe = (ref: string, kind: string) => {
    try {
      return normalizeRef(ref, kind);
    } catch {
      return undefined;
    }
  };
  const inputs = (pipeline?.spec.consumes ?? [])
    .map(ref => safe(ref, 'dataset'))
    .filter((r): r is string => !!r)
    .map(dataset);
  const outputs =
    eventType === 'START'
      ? []
      : [
          ...run.outputs.modelVersions.map(v =>
            dataset(`model:default/${v.name}@${v.version}`),
          ),
          ...run.outputs.datasetVersions.map(v =>
            dataset(`dataset:default/${v.name}@${v.version}`),
          ),
        ];
  return {
    eventType,
    eventTime,
    producer: OPENLINEAGE_PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    run: {
      runId: run.id,
      facets: {
        ...(eventType === 'FAIL' && run.reason
          ? {
              errorMessage: {
                _producer: OPENLINEAGE_PRODUCER,
                _schemaURL:
                  'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
                message: run.reason,
                programmingLanguage: 'shell',
              },
            }
          : {}),
      },
    },
    job: { namespace: OPENLINEAGE_NAMESPACE, name: run.entityRef },
    inputs,
    outputs,
  };
}

/**
 * Posts each pipeline run's START and COMPLETE / FAIL / ABORT events to an
 * OpenLineage endpoint (`<url>/api/v1/lineage`), as an OpenLineage client
 * would. A failure to post is logged, never fails the run.
 */
export function openLineageEmitter(options: {
  /** The OpenLineage base URL (as OPENLINEAGE_URL), resolved per event. */
  url(): Promise<string>;
  token(): Promise<string | undefined>;
  logger: LoggerService;
  now?: () => number;
}): PipelineRunListener {
  const now = options.now ?? Date.now;
  const post = async (event: ReturnType<typeof pipelineRunEvent>) => {
    try {
      const token = await options.token();
      const response = await fetch(
        `${(await options.url()).replace(/\/+$/, '')}/api/v1/lineage`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(event),
        },
      );
      if (!response.ok) {
        throw new Error(`HTTP ${response.status} ${await response.text()}`);
      }
    } catch (error) {
      options.logger.warn(
        `Could not send the OpenLineage ${event.eventType} event of run ${event.run.runId}: ${error}`,
      );
    }
  };
  return {
    async runStarted(run, pipeline) {
      await post(
        pipelineRunEvent(run, pipeline, 'START', new Date(now()).toISOString()),
      );
    },
    async runFinished(run, pipeline) {
      const type =
        run.state === 'succeeded'
          ? 'COMPLETE'
          : run.state === 'cancelled'
          ? 'ABORT'
          : 'FAIL';
      await post(
        pipelineRunEvent(run, pipeline, type, new Date(now()).toISOString()),
      );
    },
  };
}
