/* A pipeline service on a test database with the real local runner. Only tests import this file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { PipelineEntityV1alpha1, PipelineStep } from '@loopline/mlops-common';
import { AuditStore, AuditTrail } from '../../audit';
import { applyMigrations } from '../../database/migrations';
import { PipelineSource } from '../definitions';
import { PipelineService, PipelineServiceOptions } from '../PipelineService';
import { PipelineStore } from '../PipelineStore';
import { LocalRunner } from '../runners/LocalRunner';

export async function prepareDatabase(knex: Knex) {
  await applyMigrations(knex);
}

export function pipelineEntity(
  name: string,
  steps: PipelineStep[],
  spec: Partial<PipelineEntityV1alpha1['spec']> = {},
): PipelineEntityV1alpha1 {
  return {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Pipeline',
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'training',
      owner: 'group:default/wine-science',
      lifecycle: 'experimental',
      runner: { type: 'local' },
      steps,
      ...spec,
    },
  };
}

/** Pipelines kept in memory, as the catalog would return them. */
export class ListPipelineSource implements PipelineSource {
  readonly entities = new Map<string, PipelineEntityV1alpha1>();
  constructor(entities: PipelineEntityV1alpha1[] = []) {
    for (const e of entities) this.entities.set(e.metadata.name, e);
  }
  add(entity: PipelineEntityV1alpha1) {
    this.entities.set(entity.metadata.name, entity);
  }
  async get(name: string) {
    return this.entities.get(name);
  }
  async list() {
    return [...this.entities.values()];
  }
}

export const ALICE = mockCredentials.user('user:default/alice');

export function createPipelineHarness(
  knex: Knex,
  options: Partial<PipelineServiceOptions> & { workspaceRoot?: string } = {},
) {
  const workspaceRoot =
    options.workspaceRoot ??
    fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-pipelines-'));
  const store = new PipelineStore(knex);
  const source = new ListPipelineSource();
  const auditTrail = new AuditTrail(
    new AuditStore(knex),
    mockServices.auditor.mock(),
  );
  const runner = new LocalRunner({
    workspaceRoot,
    defaultTimeoutSeconds: 60,
    killGraceMs: 500,
  });
  const service = new PipelineService({
    store,
    pipelines: source,
    runners: [runner],
    stepEnvironment: async run => ({
      MLFLOW_TRACKING_URI: 'http://localhost:7800/api/mlops/mlflow',
      MLFLOW_TRACKING_TOKEN: `token-for-${run.id}`,
      OPENLINEAGE_URL: 'http://localhost:7800/api/mlops/lineage',
    }),
    auditTrail,
    serviceCredentials: async () => mockCredentials.service('plugin:mlops'),
    logger: process.env.PIPELINES_DEBUG
      ? mockServices.rootLogger({ level: 'debug' })
      : mockServices.logger.mock(),
    heartbeatIntervalMs: 100,
    ...options,
  });
  return { store, source, service, runner, auditTrail, workspaceRoot };
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await check();
    if (value) return value;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
