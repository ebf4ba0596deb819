import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  DriftHistoryResponse,
  DriftReport,
  ModelMonitoringSummaryResponse,
  QualityResponse,
  AuditEventList,
  Deployment,
  DeploymentDetail,
  DeploymentList,
  DatasetValidationList,
  GateResultList,
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
  Run,
  ServingModelInfo,
  ServingRequestSummary,
  ServingStats,
  RolloutActionRequest,
  SetAliasRequest,
  StartRolloutRequest,
  TransitionStageRequest,
  LineageDatasetVersion,
  LineageEntityGraph,
  LineageGraph,
  LineageImpact,
  LineageProvenance,
} from '@loopline/mlops-common';
import {
  DeleteModelAliasRequest,
  GetAuditEventsRequest,
  MlopsApi,
  RolloutControlAction,
} from './MlopsApi';

type QueryValue = string | number | string[] | undefined;

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
}

/**
 * A path from literal parts and values: each value is one path segment,
 * encoded, so a name with `/`, `?` or `%` stays one segment.
 */
function path(
  strings: TemplateStringsArray,
  ...values: Array<string | number>
): string {
  return strings.reduce(
    (result, part, index) =>
      index < values.length
        ? `${result}${part}${encodeURIComponent(String(values[index]))}`
        : `${result}${part}`,
    '',
  );
}

/**
 * The names Backstage's own errors have for the statuses the Open Inference
 * Protocol's routes answer with a bare `{"error": "..."}`.
 */
const ERROR_NAMES_BY_STATUS: Record<number, string> = {
  400: 'InputError',
  401: 'AuthenticationError',
  403: 'NotAllowedError',
  404: 'NotFoundError',
  409: 'ConflictError',
  413: 'PayloadTooLargeError',
  501: 'NotImplementedError',
  503: 'ServiceUnavailableError',
};

/**
 * A failed response as a `ResponseError`. Backstage's error bodies
 * (`{error: {name, message}, response}`) pass as they are; the Open Inference
 * Protocol's `{"error": "..."}` (the serving routes) becomes one, so that the
 * error's `cause.message` is the server's message either way.
 */
async function toResponseError(response: Response): Promise<ResponseError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const oipMessage =
    typeof body === 'object' &&
    body !== null &&
    !('response' in body) &&
    typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : undefined;
  const consumed = {
    ok: response.ok,
    redirected: response.redirected,
    status: response.status,
    statusText: response.statusText,
    type: response.type,
    url: response.url,
  };
  if (oipMessage === undefined) {
    return ResponseError.fromResponse({
      ...consumed,
      headers: response.headers,
      text: async () => text,
    });
  }
  return ResponseError.fromResponse({
    ...consumed,
    headers: new Headers({ 'content-type': 'application/json' }),
    text: async () =>
      JSON.stringify({
        error: {
          name: ERROR_NAMES_BY_STATUS[response.status] ?? 'Error',
          message: oipMessage,
        },
        response: { statusCode: response.status },
      }),
  });
}

/** {@link MlopsApi} over HTTP, authenticated by the app's `fetchApi`. */
export class MlopsClient implements MlopsApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async getInfo(): Promise<MlopsInfo> {
    return this.request('/info');
  }

  async getAuditEvents(
    request: GetAuditEventsRequest,
  ): Promise<AuditEventList> {
    const { entityRef, limit, before } = request;
    return this.request('/audit', { query: { entityRef, limit, before } });
  }

  async getRegisteredModels(request: {
    entityRef: string;
  }): Promise<RegisteredModel[]> {
    const { items } = await this.request<{ items: RegisteredModel[] }>(
      '/registry/models',
      { query: { entityRef: request.entityRef } },
    );
    return items;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.request(path`/registry/models/${name}`);
  }

  async getModelVersions(name: string): Promise<ModelVersion[]> {
    const { items } = await this.request<{ items: ModelVersion[] }>(
      path`/registry/models/${name}/versions`,
    );
    return items;
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.request(path`/registry/models/${name}/versions/${version}`);
  }

  async getGateResults(name: string): Promise<GateResultList> {
    return this.request(path`/gates/models/${name}/results`);
  }

  async getDatasetValidations(request: {
    namespace: string;
    name: string;
    limit?: number;
  }): Promise<DatasetValidationList> {
    return this.request(
      path`/datasets/${request.namespace}/${request.name}/validations`,
      { query: { limit: request.limit } },
    );
  }

  async transitionModelVersionStage(
    name: string,
    version: number,
    request: TransitionStageRequest,
  ): Promise<ModelVersion> {
    return this.request(
      path`/registry/models/${name}/versions/${version}/stage`,
      { method: 'POST', body: request },
    );
  }

  async setModelAlias(
    name: string,
    alias: string,
    request: SetAliasRequest,
  ): Promise<ModelVersion> {
    return this.request(path`/registry/models/${name}/aliases/${alias}`, {
      method: 'PUT',
      body: request,
    });
  }

  async deleteModelAlias(
    name: string,
    alias: string,
    request: DeleteModelAliasRequest = {},
  ): Promise<void> {
    await this.request(path`/registry/models/${name}/aliases/${alias}`, {
      method: 'DELETE',
      query: { comment: request.comment || undefined },
    });
  }

  async getModelRuns(name: string): Promise<Run[]> {
    const { items } = await this.request<{ items: Run[] }>(
      path`/registry/models/${name}/runs`,
    );
    return items;
  }

  async getRun(runId: string): Promise<Run> {
    return this.request(path`/tracking/runs/${runId}`);
  }

  async getLineageGraph(request: {
    entityRef?: string;
    nodeId?: string;
    depth?: number;
  }): Promise<LineageEntityGraph> {
    return this.request('/lineage/graph', { query: { ...request } });
  }

  async getLineageImpact(entityRef: string): Promise<LineageImpact> {
    return this.request('/lineage/impact', { query: { entityRef } });
  }

  async getLineageDatasetVersions(
    namespace: string,
    name: string,
  ): Promise<LineageDatasetVersion[]> {
    const { versions } = await this.request<{
      versions: LineageDatasetVersion[];
    }>(
      path`/openlineage/api/v1/namespaces/${namespace}/datasets/${name}/versions`,
    );
    return versions;
  }

  async getColumnLineage(nodeId: string, depth = 20): Promise<LineageGraph> {
    return this.request('/openlineage/api/v1/column-lineage', {
      query: { nodeId, depth },
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricHistory> {
    return this.request(path`/tracking/runs/${runId}/metrics/${key}`);
  }

  async getServingInfo(name: string): Promise<ServingModelInfo> {
    return this.request(path`/serving/models/${name}/info`);
  }

  async getServingRequests(
    name: string,
    limit = 20,
  ): Promise<ServingRequestSummary[]> {
    const { items } = await this.request<{ items: ServingRequestSummary[] }>(
      path`/serving/models/${name}/requests`,
      { query: { limit } },
    );
    return items;
  }

  async getLineageProvenance(requestId: string): Promise<LineageProvenance> {
    return this.request('/lineage/provenance', { query: { requestId } });
  }

  async getServingStats(
    name: string,
    windowSeconds?: number,
  ): Promise<ServingStats> {
    return this.request(path`/serving/models/${name}/stats`, {
      query: { windowSeconds },
    });
  }

  async predict(
    name: string,
    request: PredictRequest,
  ): Promise<PredictResponse> {
    return this.request(path`/serving/models/${name}/predict`, {
      method: 'POST',
      body: request,
    });
  }

  async infer(
    name: string,
    request: OipInferRequest,
    version?: number,
  ): Promise<OipInferResponse> {
    return this.request(
      version === undefined
        ? path`/v2/models/${name}/infer`
        : path`/v2/models/${name}/versions/${version}/infer`,
      { method: 'POST', body: request },
    );
  }

  async listDeployments(modelName: string): Promise<DeploymentList> {
    return this.request(path`/deployments/models/${modelName}`);
  }

  async getDeployment(
    modelName: string,
    environment: string,
  ): Promise<DeploymentDetail | undefined> {
    try {
      return await this.request<DeploymentDetail>(
        path`/deployments/models/${modelName}/${environment}`,
      );
    } catch (error) {
      // An environment without a deployment yet is a normal state, not a failure.
      if (error instanceof ResponseError && error.statusCode === 404) {
        return undefined;
      }
      throw error;
    }
  }

  async startRollout(
    modelName: string,
    environment: string,
    request: StartRolloutRequest,
  ): Promise<Deployment> {
    return this.request(
      path`/deployments/models/${modelName}/${environment}/rollouts`,
      { method: 'POST', body: request },
    );
  }

  async rolloutAction(
    modelName: string,
    environment: string,
    action: RolloutControlAction,
    comment?: string,
  ): Promise<Deployment> {
    const body: RolloutActionRequest = comment ? { comment } : {};
    return this.request(
      path`/deployments/models/${modelName}/${environment}/${action}`,
      { method: 'POST', body },
    );
  }

  async getDriftHistory(
    modelName: string,
    options: { version?: string } = {},
  ): Promise<DriftHistoryResponse> {
    return this.request(path`/monitoring/models/${modelName}/drift`, {
      query: { version: options.version },
    });
  }

  async runDriftCheck(
    modelName: string,
    options: { version?: string; windowMinutes?: number } = {},
  ): Promise<{ reports: DriftReport[] }> {
    return this.request(path`/monitoring/models/${modelName}/drift/run`, {
      method: 'POST',
      body: options,
    });
  }

  async getModelQuality(
    modelName: string,
    options: { version?: string } = {},
  ): Promise<QualityResponse> {
    return this.request(path`/monitoring/models/${modelName}/quality`, {
      query: { version: options.version },
    });
  }

  async getModelSummaries(
    modelNames: string[],
  ): Promise<ModelMonitoringSummaryResponse> {
    if (modelNames.length === 0) return { items: [] };
    return this.request('/monitoring/summary', {
      query: { model: modelNames },
    });
  }

  async listPipelineRuns(
    pipelineName: string,
    options: { limit?: number; pageToken?: string } = {},
  ): Promise<PipelineRunList> {
    return this.request(path`/pipelines/${pipelineName}/runs`, {
      query: { limit: options.limit, pageToken: options.pageToken },
    });
  }

  async getPipelineRun(
    pipelineName: string,
    runId: string,
  ): Promise<PipelineRun> {
    return this.request(path`/pipelines/${pipelineName}/runs/${runId}`);
  }

  async getPipelineRunLogs(
    pipelineName: string,
    runId: string,
    options: { after?: number; step?: string; limit?: number } = {},
  ): Promise<PipelineLogPage> {
    return this.request(path`/pipelines/${pipelineName}/runs/${runId}/logs`, {
      query: { after: options.after, step: options.step, limit: options.limit },
    });
  }

  async startPipelineRun(
    pipelineName: string,
    request: PipelineRunRequest,
  ): Promise<PipelineRun> {
    return this.request(path`/pipelines/${pipelineName}/runs`, {
      method: 'POST',
      body: request,
    });
  }

  async cancelPipelineRun(
    pipelineName: string,
    runId: string,
    comment?: string,
  ): Promise<PipelineRun> {
    return this.request(path`/pipelines/${pipelineName}/runs/${runId}/cancel`, {
      method: 'POST',
      body: comment ? { comment } : {},
    });
  }

  async retryPipelineStep(
    pipelineName: string,
    runId: string,
    step: string,
  ): Promise<PipelineRun> {
    return this.request(
      path`/pipelines/${pipelineName}/runs/${runId}/steps/${step}/retry`,
      { method: 'POST', body: {} },
    );
  }

  /**
   * Calls a route of the backend plugin and decodes its JSON answer (none for
   * a 204); a non-2xx answer becomes a `ResponseError` carrying the backend's
   * error (see `toResponseError`).
   */
  private async request<T>(
    routePath: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const { method = 'GET', query = {}, body } = options;
    const baseUrl = await this.discoveryApi.getBaseUrl('mlops');
    const url = new URL(`${baseUrl}${routePath}`);
    for (const [key, value] of Object.entries(query)) {
      if (Array.isArray(value)) {
        for (const item of value) url.searchParams.append(key, item);
      } else if (value !== undefined) {
        url.searchParams.set(key, String(value));
      }
    }
    const response = await this.fetchApi.fetch(
      url.toString(),
      body === undefined
        ? { method }
        : {
            method,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          },
    );
    if (!response.ok) {
      throw await toResponseError(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    return (await response.json()) as T;
  }
}
