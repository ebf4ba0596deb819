/**
 * The routing table: everything a data-plane worker needs to route and
 * check a request without asking a database: the registered models (name →
 * catalog entity), every version (stage, signature, artifact digest) and the
 * embedded deployments with their running rollouts. The control plane
 * builds it (buildRoutingTable) and pushes it to the workers; a worker
 * answers the registry and rollout-store questions of the serving code from
 * it (TableRegistry, TableRolloutStore), so the same InferenceService,
 * ProductionTrafficRouter and RolloutTrafficRouter run in the worker.
 */
import { createHash } from 'node:crypto';
import { NotFoundError } from '@backstage/errors';
import type { ModelVersion, RegisteredModel } from '@loopline/mlops-common';
import type { RegistryService } from '../registry';
import type {
  DeploymentRecord,
  RolloutRecord,
  RolloutStore,
} from '../rollout/RolloutStore';
import type { ServingRegistry } from '../serving/InferenceService';

export interface RoutedDeployment {
  deployment: DeploymentRecord;
  rollout?: RolloutRecord;
}

export interface RoutingTable {
  /** A digest of the content: equal tables have equal revisions. */
  revision: string;
  /** Milliseconds since the epoch. */
  builtAt: number;
  models: RegisteredModel[];
  /** Every version of those models. */
  versions: ModelVersion[];
  /** The embedded deployments, each with its current rollout. */
  deployments: RoutedDeployment[];
}

const PAGE = 1000;

async function allPages<T>(
  page: (token?: string) => Promise<{ items: T[]; nextPageToken?: string }>,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const result = await page(token);
    items.push(...result.items);
    token = result.nextPageToken;
  } while (token);
  return items;
}

/** Reads the registry and the deployments into a table (the control plane's side). */
export async function buildRoutingTable(options: {
  registry: Pick<RegistryService, 'searchRegisteredModels' | 'searchVersions'>;
  rolloutStore?: Pick<RolloutStore, 'listAllDeployments' | 'getRollout'>;
  clock?: () => number;
}): Promise<RoutingTable> {
  const { registry, rolloutStore } = options;
  const models = await allPages(pageToken =>
    registry.searchRegisteredModels({ maxResults: PAGE, pageToken }),
  );
  const versions = await allPages(pageToken =>
    registry.searchVersions({ maxResults: PAGE, pageToken }),
  );
  const deployments: RoutedDeployment[] = [];
  for (const deployment of (await rolloutStore?.listAllDeployments()) ?? []) {
    if (deployment.target !== 'embedded') continue;
    const rollout = deployment.currentRolloutId
      ? await rolloutStore!.getRollout(deployment.currentRolloutId)
      : undefined;
    deployments.push(rollout ? { deployment, rollout } : { deployment });
  }
  models.sort((a, b) => a.name.localeCompare(b.name));
  versions.sort(
    (a, b) => a.name.localeCompare(b.name) || a.version - b.version,
  );
  deployments.sort((a, b) => a.deployment.id.localeCompare(b.deployment.id));
  const revision = createHash('sha256')
    .update(JSON.stringify({ models, versions, deployments }))
    .digest('hex')
    .slice(0, 16);
  return {
    revision,
    builtAt: (options.clock ?? Date.now)(),
    models,
    versions,
    deployments,
  };
}

/** The versions of a model that serve requests without a version: Production and every deployment arm. */
export function routedVersions(table: RoutingTable): Map<string, Set<number>> {
  const routed = new Map<string, Set<number>>();
  const add = (name: string, version: number | undefined) => {
    if (version === undefined) return;
    if (!routed.has(name)) routed.set(name, new Set());
    routed.get(name)!.add(version);
  };
  const production = new Map<string, number>();
  for (const v of table.versions) {
    if (v.stage === 'Production' && v.artifact) {
      production.set(v.name, Math.max(production.get(v.name) ?? 0, v.version));
    }
  }
  for (const [name, version] of production) add(name, version);
  for (const { deployment, rollout } of table.deployments) {
    add(deployment.modelName, deployment.stableVersion);
    if (
      rollout &&
      (rollout.state === 'progressing' || rollout.state === 'paused')
    ) {
      add(deployment.modelName, rollout.candidateVersion);
    }
  }
  return routed;
}

/**
 * The registry as the serving code reads it, answered from the table; only
 * artifacts are fetched (from the control plane, which checks their sha256).
 */
export class TableRegistry implements ServingRegistry {
  private models = new Map<string, RegisteredModel>();
  private versions = new Map<string, ModelVersion[]>();

  constructor(
    private readonly artifacts: {
      readArtifact(name: string, version: number): Promise<Buffer>;
    },
  ) {}

  /** Takes a new table; the next lookups see it. */
  update(table: RoutingTable): void {
    this.models = new Map(table.models.map(m => [m.name, m]));
    const versions = new Map<string, ModelVersion[]>();
    for (const v of table.versions) {
      if (!versions.has(v.name)) versions.set(v.name, []);
      versions.get(v.name)!.push(v);
    }
    for (const list of versions.values()) {
      list.sort((a, b) => a.version - b.version);
    }
    this.versions = versions;
  }

  private model(name: string): RegisteredModel {
    const model = this.models.get(name);
    if (!model) {
      throw new NotFoundError(`Registered Model with name=${name} not found`);
    }
    return model;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.model(name);
  }

  async getVersion(name: string, version: number): Promise<ModelVersion> {
    this.model(name);
    const found = this.versions.get(name)?.find(v => v.version === version);
    if (!found) {
      throw new NotFoundError(`Model ${name} has no version ${version}`);
    }
    return found;
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    this.model(name);
    return [...(this.versions.get(name) ?? [])];
  }

  async getLatestVersions(
    name: string,
    stages?: string[],
  ): Promise<ModelVersion[]> {
    this.model(name);
    const wanted = new Set(stages?.map(s => s.toLowerCase()));
    const latest = new Map<string, ModelVersion>();
    for (const v of this.versions.get(name) ?? []) {
      if (wanted.size > 0 && !wanted.has(v.stage.toLowerCase())) continue;
      const seen = latest.get(v.stage);
      if (!seen || seen.version < v.version) latest.set(v.stage, v);
    }
    return [...latest.values()];
  }

  /** Only what the serving code asks: every version, or those of one stage (`current_stage = '...'`). */
  async searchVersions(request: {
    filter?: string;
  }): Promise<{ items: ModelVersion[]; nextPageToken?: string }> {
    const stage = /^current_stage\s*=\s*'([A-Za-z]+)'$/.exec(
      request.filter?.trim() ?? '',
    )?.[1];
    if (request.filter && !stage) {
      throw new Error(
        `The data plane's registry answers no filter but a stage: ${request.filter}`,
      );
    }
    const items: ModelVersion[] = [];
    for (const list of this.versions.values()) {
      for (const v of list) {
        if (!stage || v.stage.toLowerCase() === stage.toLowerCase()) {
          items.push(v);
        }
      }
    }
    return { items };
  }

  readArtifact(name: string, version: number): Promise<Buffer> {
    return this.artifacts.readArtifact(name, version);
  }
}

/** What RolloutTrafficRouter reads of the rollout store, from the table. */
export class TableRolloutStore
  implements Pick<RolloutStore, 'getDeployment' | 'getRollout'>
{
  private deployments = new Map<string, RoutedDeployment>();
  private rollouts = new Map<string, RolloutRecord>();

  update(table: RoutingTable): void {
    this.deployments = new Map(
      table.deployments.map(d => [
        `${d.deployment.environment}\u0000${d.deployment.modelName}`,
        d,
      ]),
    );
    this.rollouts = new Map(
      table.deployments.flatMap(d =>
        d.rollout ? [[d.rollout.id, d.rollout]] : [],
      ),
    );
  }

  async getDeployment(
    modelName: string,
    environment: string,
  ): Promise<DeploymentRecord | undefined> {
    return this.deployments.get(`${environment}\u0000${modelName}`)?.deployment;
  }

  async getRollout(id: string): Promise<RolloutRecord | undefined> {
    return this.rollouts.get(id);
  }
}
