import type { ModelVersion, RegisteredModel } from '@loopline/mlops-common';
import { RolloutTrafficRouter } from '../rollout/embedded';
import type { DeploymentRecord, RolloutRecord } from '../rollout/RolloutStore';
import { ProductionTrafficRouter } from '../serving/TrafficRouter';
import {
  buildRoutingTable,
  routedVersions,
  TableRegistry,
  TableRolloutStore,
} from './routingTable';

const model = (name: string) =>
  ({ name, entityRef: `model:default/${name}` } as RegisteredModel);
const version = (name: string, v: number, stage: string) =>
  ({
    name,
    version: v,
    stage,
    entityRef: `model:default/${name}`,
    artifact: { sha256: `${name}${v}`, sizeBytes: 1 },
  } as unknown as ModelVersion);

const deployment: DeploymentRecord = {
  id: 'd1',
  modelName: 'wine',
  entityRef: 'model:default/wine',
  environment: 'production',
  target: 'embedded',
  stableVersion: 2,
  currentRolloutId: 'r1',
  revision: 1,
  createdAt: 0,
  updatedAt: 0,
};
const rollout = {
  id: 'r1',
  deploymentId: 'd1',
  strategy: 'canary',
  state: 'progressing',
  stableVersion: 2,
  candidateVersion: 3,
  steps: [25, 100],
  stepIndex: 0,
  weight: 25,
  switched: false,
} as unknown as RolloutRecord;

/** A registry that pages its answers two at a time, as the real one pages by maxResults. */
function pagedRegistry(models: RegisteredModel[], versions: ModelVersion[]) {
  const page = <T>(items: T[], token?: string) => {
    const offset = Number(token ?? 0);
    return {
      items: items.slice(offset, offset + 2),
      ...(offset + 2 < items.length
        ? { nextPageToken: String(offset + 2) }
        : {}),
    };
  };
  return {
    searchRegisteredModels: jest.fn(async (r: { pageToken?: string }) =>
      page(models, r.pageToken),
    ),
    searchVersions: jest.fn(async (r: { pageToken?: string }) =>
      page(versions, r.pageToken),
    ),
  };
}

describe('the routing table', () => {
  const models = [model('wine'), model('churn'), model('iris')];
  const versions = [
    version('wine', 1, 'Archived'),
    version('wine', 2, 'Production'),
    version('wine', 3, 'Staging'),
    version('churn', 1, 'Production'),
    version('churn', 2, 'Production'),
  ];
  const rolloutStore = {
    listAllDeployments: async () => [
      deployment,
      { ...deployment, id: 'k', modelName: 'churn', target: 'kserve' as const },
    ],
    getRollout: async (id: string) => (id === 'r1' ? rollout : undefined),
  };

  it('reads every page, keeps embedded deployments only, and has a revision that changes with the content', async () => {
    const registry = pagedRegistry(models, versions);
    const table = await buildRoutingTable({ registry, rolloutStore });
    expect(table.models.map(m => m.name)).toEqual(['churn', 'iris', 'wine']);
    expect(table.versions).toHaveLength(5);
    expect(table.deployments).toEqual([{ deployment, rollout }]);
    expect(registry.searchVersions).toHaveBeenCalledTimes(3);

    const again = await buildRoutingTable({ registry, rolloutStore });
    expect(again.revision).toBe(table.revision);
    const moved = await buildRoutingTable({
      registry: pagedRegistry(models, [
        ...versions.slice(0, 2),
        version('wine', 3, 'Production'),
        ...versions.slice(3),
      ]),
      rolloutStore,
    });
    expect(moved.revision).not.toBe(table.revision);

    // What the workers load: Production (the highest) and every deployment arm.
    expect(routedVersions(table)).toEqual(
      new Map([
        ['churn', new Set([2])],
        ['wine', new Set([2, 3])],
      ]),
    );
  });

  it('answers the serving code from memory: registry lookups, Production, and a canary split', async () => {
    const table = await buildRoutingTable({
      registry: pagedRegistry(models, versions),
      rolloutStore,
    });
    const readArtifact = jest.fn(async () => Buffer.from('onnx'));
    const registry = new TableRegistry({ readArtifact });
    const store = new TableRolloutStore();
    registry.update(table);
    store.update(table);

    await expect(registry.getRegisteredModel('iris')).resolves.toMatchObject({
      entityRef: 'model:default/iris',
    });
    await expect(registry.getRegisteredModel('nope')).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    await expect(registry.getVersion('wine', 9)).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    expect(
      (
        await registry.searchVersions({
          filter: "current_stage = 'Production'",
        })
      ).items
        .map(v => `${v.name}/${v.version}`)
        .sort(),
    ).toEqual(['churn/1', 'churn/2', 'wine/2']);
    await registry.readArtifact('wine', 2);
    expect(readArtifact).toHaveBeenCalledWith('wine', 2);

    const production = new ProductionTrafficRouter({ registry, cacheTtlMs: 0 });
    await expect(production.resolve('churn')).resolves.toEqual({ version: 2 });
    await expect(production.resolve('iris')).rejects.toMatchObject({
      name: 'NotFoundError',
    });

    const router = new RolloutTrafficRouter({
      store,
      environment: 'production',
      fallback: production,
      abKeyHeader: 'x-ab',
      cacheTtlMs: 0,
    });
    const routes = await Promise.all(
      Array.from({ length: 400 }, (_, i) => router.resolve('wine', `req-${i}`)),
    );
    const candidate = routes.filter(r => r.version === 3);
    expect(candidate.length).toBeGreaterThan(60);
    expect(candidate.length).toBeLessThan(140);
    expect(candidate[0]).toEqual({
      version: 3,
      endpoint: 'candidate',
      fallback: { version: 2, endpoint: 'stable' },
    });
    await expect(router.resolve('churn')).resolves.toEqual({ version: 2 });

    // The rollout finished: the next table routes everything to stable at once.
    store.update({
      ...table,
      deployments: [
        {
          deployment,
          rollout: { ...rollout, state: 'promoted' } as RolloutRecord,
        },
      ],
    });
    await expect(router.resolve('wine', 'req-1')).resolves.toEqual({
      version: 2,
      endpoint: 'stable',
    });
  });
});
