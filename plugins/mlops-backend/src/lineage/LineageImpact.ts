import type {
  LineageEntityGraph,
  LineageImpact,
  LineageProvenance,
  ModelStage,
} from '@loopline/mlops-common';
import {
  LOOPLINE_LINEAGE_NAMESPACE,
  modelLineageId,
} from '@loopline/mlops-common';
import { NotFoundError } from '@backstage/errors';
import { LineageCatalog } from './LineageCatalog';
import { LineageService } from './LineageService';
import { nodeIds } from './model';

/** What impact analysis needs of the registry. */
export interface ModelStageLookup {
  listVersions(
    name: string,
  ): Promise<Array<{ version: number; stage: ModelStage }>>;
}

/** What prediction provenance needs of the inference log, registry and tracking. */
export interface ProvenanceSources {
  getRequest(requestId: string): Promise<
    Array<{
      modelName: string;
      version?: number;
      endpoint?: string;
      route: string;
      source: string;
      status: string;
      createdAt: number;
    }>
  >;
  getVersion(
    name: string,
    version: number,
  ): Promise<{
    name: string;
    version: number;
    entityRef: string;
    stage: string;
    runId?: string;
    artifact?: { sha256: string };
  }>;
  getRun(runId: string): Promise<{
    runId: string;
    runName: string;
    params: Record<string, string>;
    metrics: Array<{ key: string; value: number }>;
  }>;
}

const MODEL_PREFIX = 'models/';
const DEFAULT_DEPTH = 20;
const VERSIONS_SHOWN = 10;

/** Where a stage is served, by the default rollout environments. */
const ENVIRONMENT_OF_STAGE: Partial<Record<ModelStage, string>> = {
  Production: 'production',
  Staging: 'staging',
};

/**
 * Impact analysis and the catalog-linked graph: from a Dataset (or a
 * Pipeline) downstream to the Models fed by it; from a Model upstream to the
 * datasets and versions behind it.
 */
export class LineageImpactService {
  constructor(
    private readonly lineage: LineageService,
    private readonly catalog: LineageCatalog,
    private readonly registry: ModelStageLookup,
    private readonly sources?: ProvenanceSources,
  ) {}

  /** The entity a prediction's provenance is authorized on: its model's. */
  async provenanceEntityRef(requestId: string): Promise<string> {
    const [request] = await this.requireRequests(requestId);
    if (request.version === undefined) {
      return `model:default/${request.modelName}`;
    }
    return (await this.sources!.getVersion(request.modelName, request.version))
      .entityRef;
  }

  private async requireRequests(requestId: string) {
    const requests = this.sources
      ? await this.sources.getRequest(requestId)
      : [];
    if (requests.length === 0) {
      throw new NotFoundError(`No logged inference request '${requestId}'`);
    }
    return requests;
  }

  /**
   * "Where did this prediction come from?": the model version that
   * answered the request, the run that trained it (params, metrics), the
   * dataset versions that run read (hashes), and everything upstream.
   */
  async provenance(requestId: string): Promise<LineageProvenance> {
    const requests = await this.requireRequests(requestId);
    const answered = requests.find(r => r.version !== undefined);
    const result: LineageProvenance = {
      requestId,
      requests: requests.map(r => ({
        modelName: r.modelName,
        version: r.version ?? null,
        endpoint: r.endpoint ?? null,
        route: r.route,
        source: r.source,
        status: r.status,
        createdAt: r.createdAt,
      })),
      modelVersion: null,
      trainingRun: null,
      trainedOn: [],
      upstream: [],
    };
    if (!answered || answered.version === undefined) {
      return result;
    }
    const version = await this.sources!.getVersion(
      answered.modelName,
      answered.version,
    );
    result.modelVersion = {
      name: version.name,
      version: version.version,
      entityRef: version.entityRef,
      stage: version.stage,
      sha256: version.artifact?.sha256 ?? null,
    };
    if (version.runId) {
      const run = await this.sources!.getRun(version.runId).catch(
        () => undefined,
      );
      if (run) {
        result.trainingRun = {
          runId: run.runId,
          runName: run.runName,
          params: run.params,
          metrics: Object.fromEntries(run.metrics.map(m => [m.key, m.value])),
        };
      }
    }
    const training = await this.lineage.trainingInputsOf(
      modelLineageId(version.name),
      version.version,
    );
    result.trainedOn = training.inputs
      .map(i => ({
        nodeId: i.nodeId,
        version: i.version.uuid,
        contentHash: i.version.contentHash,
        rowCount: i.version.rowCount,
      }))
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    result.upstream = (await this.impact(version.entityRef)).datasets;
    return result;
  }

  /** The Marquez graph around an entity (or a node id), with each node's catalog link. */
  async graph(options: {
    entityRef?: string;
    nodeId?: string;
    depth?: number;
  }): Promise<LineageEntityGraph> {
    const nodeId =
      options.nodeId ??
      (await this.catalog.nodeIdsOf(options.entityRef ?? ''))[0];
    if (!nodeId) {
      return { nodeId: null, graph: [], links: [] };
    }
    const { graph } = await this.lineage
      .getLineage(nodeId, options.depth ?? DEFAULT_DEPTH)
      .catch(error => {
        // An entity whose dataset no event has named yet has no graph.
        if (error?.name === 'NotFoundError' && !options.nodeId) {
          return { graph: [] };
        }
        throw error;
      });
    return {
      nodeId,
      graph,
      links: await this.catalog.linksFor(graph.map(n => n.id)),
    };
  }

  async impact(entityRef: string): Promise<LineageImpact> {
    const ref = entityRef.toLocaleLowerCase('en-US');
    const starts = await this.catalog.nodeIdsOf(ref);
    const upstream = ref.startsWith('model:');
    const result: LineageImpact = {
      entityRef: ref,
      nodeId: starts[0] ?? null,
      direction: upstream ? 'upstream' : 'downstream',
      models: [],
      datasets: [],
      nodes: [],
    };
    const reachedDatasets = new Map<string, any>();
    const reachedJobs = new Map<string, any>();
    for (const start of starts) {
      try {
        const { datasets, jobs } = await this.lineage.walk(
          start,
          result.direction,
          DEFAULT_DEPTH,
        );
        datasets.forEach(d => reachedDatasets.set(nodeIds.dataset(d), d));
        jobs.forEach(j => reachedJobs.set(nodeIds.job(j), j));
      } catch (error: any) {
        if (error?.name !== 'NotFoundError') throw error;
      }
    }
    const allIds = [...reachedDatasets.keys(), ...reachedJobs.keys()];
    const links = await this.catalog.linksFor(allIds);
    const linkOf = new Map(links.map(l => [l.nodeId, l]));
    result.nodes = links;

    for (const [id, dataset] of reachedDatasets) {
      if (starts.includes(id)) {
        continue;
      }
      const isModel =
        dataset.namespace === LOOPLINE_LINEAGE_NAMESPACE &&
        dataset.name.startsWith(MODEL_PREFIX);
      const versions = await this.lineage.datasetVersionsByUuid(
        dataset,
        isModel ? 1000 : VERSIONS_SHOWN,
      );
      if (isModel && !upstream) {
        const name = dataset.name.slice(MODEL_PREFIX.length);
        const stages = new Map(
          (await this.registry.listVersions(name).catch(() => [])).map(v => [
            v.version,
            v.stage,
          ]),
        );
        const lineageVersions = versions
          .map(v => Number((v.facets as any)?.loopline_modelVersion?.version))
          .filter(v => Number.isInteger(v));
        const shown = [...new Set(lineageVersions)].sort((a, b) => b - a);
        result.models.push({
          entityRef: linkOf.get(id)?.entityRef ?? null,
          name,
          owner: linkOf.get(id)?.owner ?? null,
          versions: shown.map(v => ({
            version: String(v),
            stage: stages.get(v) ?? null,
          })),
          deployments: [
            ...new Set(
              shown
                .map(v => ENVIRONMENT_OF_STAGE[stages.get(v) as ModelStage])
                .filter((e): e is string => !!e),
            ),
          ],
          via: [...reachedJobs.keys()].sort(),
        });
      } else if (upstream && !isModel) {
        result.datasets.push({
          nodeId: id,
          entityRef: linkOf.get(id)?.entityRef ?? null,
          owner: linkOf.get(id)?.owner ?? null,
          versions: versions.map(v => ({
            version: v.version,
            contentHash: v.contentHash,
            rowCount: v.rowCount,
          })),
        });
      }
    }
    result.models.sort((a, b) => a.name.localeCompare(b.name));
    result.datasets.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    return result;
  }
}
