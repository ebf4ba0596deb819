import { z } from 'zod';
import { MODEL_STAGES } from '@loopline/mlops-common';
import { versionSchema } from '../lib/version';

/**
 * Request schemas of the MLflow routes. GET requests carry their fields as
 * query strings, so numbers and booleans are coerced; JSON bodies already
 * carry numbers (int64 fields are JSON numbers in MLflow's REST API), though
 * some clients send them as strings, which is accepted too.
 */

const int64 = z.coerce.number().int();
const nonEmpty = z.string().min(1);
const keyValue = z.object({ key: nonEmpty, value: z.string() }).passthrough();
const tagList = z.array(keyValue).optional();
const QUERY_BOOLEANS: Record<string, boolean> = { true: true, false: false };
const bool = z.preprocess(
  v => (typeof v === 'string' && v in QUERY_BOOLEANS ? QUERY_BOOLEANS[v] : v),
  z.boolean(),
);
/** MLflow sends one value or a repeated query parameter. */
const stringList = z.preprocess(v => {
  if (v === undefined || Array.isArray(v)) return v;
  return [v];
}, z.array(z.string()));
const maxResults = int64.min(1).max(50000).optional();

/** Run calls send `run_id` and, from older clients, `run_uuid`: either will do. */
function withRunId<T extends z.ZodRawShape>(shape: T) {
  return z
    .object({
      run_id: z.string().optional(),
      run_uuid: z.string().optional(),
      ...shape,
    })
    .passthrough()
    .transform((value, ctx) => {
      const runId = value.run_id || value.run_uuid;
      if (!runId) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: 'run_id is required',
          path: ['run_id'],
        });
        return z.NEVER;
      }
      return { ...value, run_id: runId };
    });
}

/**
 * A metric value: a JSON number, or the strings MLflow uses for the values
 * JSON cannot hold ("NaN", "Infinity", "-Infinity").
 */
const metricValue = z.union([
  z.number(),
  z
    .string()
    .refine(
      s =>
        (s.trim() !== '' && !Number.isNaN(Number(s))) ||
        /^-?(NaN|Infinity)$/.test(s),
      {
        message: 'must be a number',
      },
    )
    .transform(s => (/^-?NaN$/.test(s) ? NaN : Number(s))),
]);

const metric = z
  .object({
    key: nonEmpty,
    value: metricValue,
    timestamp: int64,
    step: int64.optional(),
  })
  .passthrough();

export const mlflowSchemas = {
  createExperiment: z
    .object({
      name: nonEmpty,
      artifact_location: z.string().optional(),
      tags: tagList,
    })
    .passthrough(),
  experimentId: z.object({ experiment_id: nonEmpty }).passthrough(),
  experimentByName: z.object({ experiment_name: nonEmpty }).passthrough(),
  searchExperiments: z
    .object({
      max_results: maxResults,
      filter: z.string().optional(),
      order_by: stringList.optional(),
      page_token: z.string().optional(),
      view_type: z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']).optional(),
    })
    .passthrough(),
  setExperimentTag: z
    .object({ experiment_id: nonEmpty, key: nonEmpty, value: z.string() })
    .passthrough(),
  createRun: z
    .object({
      experiment_id: nonEmpty,
      user_id: z.string().optional(),
      run_name: z.string().optional(),
      start_time: int64.optional(),
      tags: tagList,
    })
    .passthrough(),
  updateRun: withRunId({
    status: z
      .enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'])
      .optional(),
    end_time: int64.optional(),
    run_name: z.string().optional(),
  }),
  runId: withRunId({}),
  searchRuns: z
    .object({
      experiment_ids: stringList.default([]),
      filter: z.string().optional(),
      run_view_type: z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']).optional(),
      max_results: maxResults,
      order_by: stringList.optional(),
      page_token: z.string().optional(),
    })
    .passthrough(),
  logMetric: withRunId({
    key: nonEmpty,
    value: metricValue,
    timestamp: int64,
    step: int64.optional(),
  }),
  logParam: withRunId({ key: nonEmpty, value: z.string() }),
  setTag: withRunId({ key: nonEmpty, value: z.string() }),
  deleteTag: withRunId({ key: nonEmpty }),
  logBatch: withRunId({
    metrics: z.array(metric).optional(),
    params: z.array(keyValue).optional(),
    tags: z.array(keyValue).optional(),
  }),
  logInputs: withRunId({
    datasets: z
      .array(
        z
          .object({
            dataset: z
              .object({
                name: z.string().optional(),
                digest: z.string().optional(),
                source_type: z.string().optional(),
                source: z.string().optional(),
                schema: z.string().optional(),
              })
              .passthrough()
              .optional(),
            tags: z.array(keyValue).optional(),
          })
          .passthrough(),
      )
      .optional(),
  }),
  logModel: withRunId({ model_json: z.string().optional() }),
  metricHistory: withRunId({
    metric_key: nonEmpty,
    max_results: maxResults,
    page_token: z.string().optional(),
  }),

  createRegisteredModel: z
    .object({
      name: nonEmpty,
      tags: tagList,
      description: z.string().optional(),
    })
    .passthrough(),
  registeredModelName: z.object({ name: nonEmpty }).passthrough(),
  renameRegisteredModel: z
    .object({ name: nonEmpty, new_name: nonEmpty })
    .passthrough(),
  registeredModelTag: z
    .object({ name: nonEmpty, key: nonEmpty, value: z.string() })
    .passthrough(),
  registeredModelTagKey: z
    .object({ name: nonEmpty, key: nonEmpty })
    .passthrough(),
  versionTagKey: z
    .object({ name: nonEmpty, version: versionSchema, key: nonEmpty })
    .passthrough(),
  deleteVersion: z
    .object({
      name: nonEmpty,
      version: versionSchema,
      comment: z.string().max(5000).optional(),
    })
    .passthrough(),
  updateExperiment: z
    .object({ experiment_id: nonEmpty, new_name: nonEmpty })
    .passthrough(),
  updateRegisteredModel: z
    .object({ name: nonEmpty, description: z.string().optional() })
    .passthrough(),
  searchRegisteredModels: z
    .object({
      filter: z.string().optional(),
      max_results: maxResults,
      order_by: stringList.optional(),
      page_token: z.string().optional(),
    })
    .passthrough(),
  latestVersions: z
    .object({ name: nonEmpty, stages: stringList.optional() })
    .passthrough(),
  setAlias: z
    .object({ name: nonEmpty, alias: nonEmpty, version: versionSchema })
    .passthrough(),
  alias: z.object({ name: nonEmpty, alias: nonEmpty }).passthrough(),
  createVersion: z
    .object({
      name: nonEmpty,
      source: nonEmpty,
      run_id: z.string().optional(),
      model_id: z.string().optional(),
      tags: tagList,
      run_link: z.string().optional(),
      description: z.string().optional(),
    })
    .passthrough(),
  version: z.object({ name: nonEmpty, version: versionSchema }).passthrough(),
  updateVersion: z
    .object({
      name: nonEmpty,
      version: versionSchema,
      description: z.string().optional(),
    })
    .passthrough(),
  searchVersions: z
    .object({
      filter: z.string().optional(),
      max_results: maxResults,
      order_by: stringList.optional(),
      page_token: z.string().optional(),
    })
    .passthrough(),
  transitionStage: z
    .object({
      name: nonEmpty,
      version: versionSchema,
      stage: z.preprocess(
        // MLflow matches stages case-insensitively ("production" works).
        v =>
          typeof v === 'string'
            ? MODEL_STAGES.find(s => s.toLowerCase() === v.toLowerCase()) ?? v
            : v,
        z.enum(MODEL_STAGES),
      ),
      archive_existing_versions: bool.optional(),
      comment: z.string().optional(),
      // Loopline's: promote past failing gates (a platform group, with a comment).
      override_gates: bool.optional(),
    })
    .passthrough(),
  versionTag: z
    .object({
      name: nonEmpty,
      version: versionSchema,
      key: nonEmpty,
      value: z.string(),
    })
    .passthrough(),
  listArtifacts: z.object({ path: z.string().optional() }).passthrough(),
  createLoggedModel: z
    .object({
      experiment_id: nonEmpty,
      name: z.string().optional(),
      model_type: z.string().optional(),
      source_run_id: z.string().optional(),
      params: tagList,
      tags: tagList,
    })
    .passthrough(),
  finalizeLoggedModel: z
    .object({ model_id: nonEmpty, status: nonEmpty })
    .passthrough(),
  loggedModelId: z.object({ model_id: nonEmpty }).passthrough(),
  loggedModelTags: z
    .object({ model_id: nonEmpty, tags: z.array(keyValue) })
    .passthrough(),
  loggedModelTag: z
    .object({ model_id: nonEmpty, tag_key: nonEmpty })
    .passthrough(),
  loggedModelParams: z
    .object({ model_id: nonEmpty, params: z.array(keyValue) })
    .passthrough(),
  listLoggedModelArtifacts: z
    .object({
      model_id: nonEmpty,
      artifact_directory_path: z.string().optional(),
      page_token: z.string().optional(),
    })
    .passthrough(),
  searchLoggedModels: z
    .object({
      experiment_ids: stringList,
      filter: z.string().optional(),
      order_by: z
        .array(
          z
            .object({
              field_name: nonEmpty,
              ascending: bool.optional(),
            })
            .passthrough(),
        )
        .optional(),
      max_results: maxResults,
      page_token: z.string().optional(),
    })
    .passthrough(),
  logOutputs: withRunId({
    models: z
      .array(
        z.object({ model_id: nonEmpty, step: int64.optional() }).passthrough(),
      )
      .optional(),
  }),
  listRunArtifacts: withRunId({
    path: z.string().optional(),
    page_token: z.string().optional(),
  }),
};
