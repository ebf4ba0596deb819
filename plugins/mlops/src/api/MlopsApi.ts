import { createApiRef } from '@backstage/core-plugin-api';
import type {
  AuditEventList,
  DriftHistoryResponse,
  DriftReport,
  ModelMonitoringSummaryResponse,
  QualityResponse,
  Deployment,
  DeploymentDetail,
  DeploymentList,
  DatasetValidationList,
  GateResultList,
  LineageDatasetVersion,
  LineageEntityGraph,
  LineageGraph,
  LineageImpact,
  LineageProvenance,
  MetricHistory,
  MlopsInfo,
  ModelVersion,
  OipInferRequest,
  OipInferResponse,
  PipelineLogPage,
  PipelineRun,
  PipelineRunList,
  PipelineRunRequest,
  PredictRequest,
  PredictResponse,
  RegisteredModel,
  RolloutControlAction,
  Run,
  ServingModelInfo,
  ServingRequestSummary,
  ServingStats,
  SetAliasRequest,
  StartRolloutRequest,
  TransitionStageRequest,
} from '@loopline/mlops-common';

/** Options of {@link MlopsApi.getAuditEvents}. */
export interface GetAuditEventsRequest {
  /** Ref of the entity whose trail to read, e.g. `model:default/wine-quality`. */
  entityRef: string;
  /** Largest number of events to return; the backend defaults to 50. */
  limit?: number;
  /** The `nextCursor` of the previous page, to read older events. */
  before?: number;
}

/** Options of {@link MlopsApi.deleteModelAlias}. */
export interface DeleteModelAliasRequest {
  /** Why the alias goes, for the audit trail. */
  comment?: string;
}

/**
 * What a user can do to a running rollout: move the candidate to stable now
 * (`promote`), send all traffic back to stable (`rollback`), or stop and
 * restart the analyses that advance it (`pause`, `resume`). Defined with the
 * rollout rules in `@loopline/mlops-common`; re-exported here for the API's users.
 */
export type { RolloutControlAction };

/** Loopline's backend API (`/api/mlops`), as the frontend sees it. */
export interface MlopsApi {
  /** What the backend runs: version, database, kinds and permissions. */
  getInfo(): Promise<MlopsInfo>;
  /** One page of an entity's audit trail, newest first. */
  getAuditEvents(request: GetAuditEventsRequest): Promise<AuditEventList>;

  /** The registered models that belong to a catalog Model (usually one). */
  getRegisteredModels(request: {
    entityRef: string;
  }): Promise<RegisteredModel[]>;
  /** One registered model, by name. */
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  /** A registered model's versions, newest first. */
  getModelVersions(name: string): Promise<ModelVersion[]>;
  /** One version of a registered model. */
  getModelVersion(name: string, version: number): Promise<ModelVersion>;
  /** A registered model's gate results (pipeline evaluations and moves to Production), newest first. */
  getGateResults(name: string): Promise<GateResultList>;
  /** A Dataset's validations of its expectations (its data docs), newest first. */
  getDatasetValidations(request: {
    namespace: string;
    name: string;
    limit?: number;
  }): Promise<DatasetValidationList>;
  /** Moves a version to another stage; answers the version as it is now. */
  transitionModelVersionStage(
    name: string,
    version: number,
    request: TransitionStageRequest,
  ): Promise<ModelVersion>;
  /** Points an alias (e.g. `champion`) at a version; answers that version. */
  setModelAlias(
    name: string,
    alias: string,
    request: SetAliasRequest,
  ): Promise<ModelVersion>;
  /** Removes an alias from the version it points at. */
  deleteModelAlias(
    name: string,
    alias: string,
    request?: DeleteModelAliasRequest,
  ): Promise<void>;
  /**
   * The runs behind a registered model (its experiments' runs and its
   * versions' source runs), newest first.
   */
  getModelRuns(name: string): Promise<Run[]>;

  /** One tracking run. */
  getRun(runId: string): Promise<Run>;

  /** The lineage graph around an entity (or a lineage node id), linked to the catalog. */
  getLineageGraph(request: {
    entityRef?: string;
    nodeId?: string;
    depth?: number;
  }): Promise<LineageEntityGraph>;
  /** Impact analysis: downstream Models of a Dataset, upstream datasets of a Model. */
  getLineageImpact(entityRef: string): Promise<LineageImpact>;
  /** An OpenLineage dataset's versions, newest first (Marquez's route). */
  getLineageDatasetVersions(
    namespace: string,
    name: string,
  ): Promise<LineageDatasetVersion[]>;
  /** Marquez's column lineage of a dataset node. */
  getColumnLineage(nodeId: string, depth?: number): Promise<LineageGraph>;
  /** A run's full history of one metric, by step then time. */
  getMetricHistory(runId: string, key: string): Promise<MetricHistory>;

  /**
   * How a registered model is served: the version requests go to, the
   * versions loaded, its signature and input features.
   */
  getServingInfo(name: string): Promise<ServingModelInfo>;
  /**
   * Live figures of a served model from the inference log: request rate,
   * error rate and latency percentiles over the last `windowSeconds`
   * (the backend's default window when not given).
   */
  getServingStats(name: string, windowSeconds?: number): Promise<ServingStats>;
  /** The model's latest logged requests, newest first. */
  getServingRequests(
    name: string,
    limit?: number,
  ): Promise<ServingRequestSummary[]>;
  /** Where a prediction came from: version, run, datasets, upstream. */
  getLineageProvenance(requestId: string): Promise<LineageProvenance>;
  /** Predicts one record (features by name) with the convenience route. */
  predict(name: string, request: PredictRequest): Promise<PredictResponse>;
  /**
   * Sends an Open Inference Protocol v2 infer request, to the version the
   * model's routing picks or to `version`. A failure is a `ResponseError`
   * whose `cause.message` is the server's `{"error": "..."}` message.
   */
  infer(
    name: string,
    request: OipInferRequest,
    version?: number,
  ): Promise<OipInferResponse>;

  /**
   * A registered model's deployments, one per environment that has one, and
   * the environments configured (with their targets).
   */
  listDeployments(modelName: string): Promise<DeploymentList>;
  /**
   * One environment's deployment with its rollouts, the analyses of the
   * current (or last) rollout, its timeline, and whether the caller may act
   * on it; undefined when nothing was deployed there yet.
   */
  getDeployment(
    modelName: string,
    environment: string,
  ): Promise<DeploymentDetail | undefined>;
  /**
   * Starts rolling a registry version out to an environment; answers the
   * deployment as it is now. A failure (a rollout already running, a version
   * not allowed) is a `ResponseError` carrying the server's message.
   */
  startRollout(
    modelName: string,
    environment: string,
    request: StartRolloutRequest,
  ): Promise<Deployment>;
  /**
   * Promotes, rolls back, pauses or resumes the environment's rollout, with
   * an optional comment for the audit trail; answers the deployment as it is
   * now. An action the rollout's state does not allow is a 409
   * `ResponseError` whose `cause.message` says why.
   */
  rolloutAction(
    modelName: string,
    environment: string,
    action: RolloutControlAction,
    comment?: string,
  ): Promise<Deployment>;

  /**
   * A Model's drift reports: the latest in full and the history (newest
   * first), optionally of one version; with the schedule and its next run.
   */
  getDriftHistory(
    modelName: string,
    options?: { version?: string },
  ): Promise<DriftHistoryResponse>;
  /** Runs the drift check now over the last `windowMinutes`; answers the reports made (one per version). */
  runDriftCheck(
    modelName: string,
    options?: { version?: string; windowMinutes?: number },
  ): Promise<{ reports: DriftReport[] }>;
  /** Quality against ground truth per report window, the SLO and ADWIN's change points. */
  getModelQuality(
    modelName: string,
    options?: { version?: string },
  ): Promise<QualityResponse>;
  /**
   * The ML overview's row of each Model named (its Production version,
   * request rate, latest drift status and quality); Models the caller may
   * not read are left out.
   */
  getModelSummaries(
    modelNames: string[],
  ): Promise<ModelMonitoringSummaryResponse>;
  /** A pipeline's runs, newest first, and its next scheduled time. */
  listPipelineRuns(
    pipelineName: string,
    options?: { limit?: number; pageToken?: string },
  ): Promise<PipelineRunList>;

  getPipelineRun(pipelineName: string, runId: string): Promise<PipelineRun>;

  /** A run's log lines after sequence number `after` (0: from the start). */
  getPipelineRunLogs(
    pipelineName: string,
    runId: string,
    options?: { after?: number; step?: string; limit?: number },
  ): Promise<PipelineLogPage>;

  /** Starts a run now (`loopline.pipeline.run`); it may wait queued. */
  startPipelineRun(
    pipelineName: string,
    request: PipelineRunRequest,
  ): Promise<PipelineRun>;

  cancelPipelineRun(
    pipelineName: string,
    runId: string,
    comment?: string,
  ): Promise<PipelineRun>;

  /** Runs a failed step again, and the steps after it. */
  retryPipelineStep(
    pipelineName: string,
    runId: string,
    step: string,
  ): Promise<PipelineRun>;
}

export const mlopsApiRef = createApiRef<MlopsApi>({
  id: 'plugin.mlops.service',
});
